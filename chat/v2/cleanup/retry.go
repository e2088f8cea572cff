package cleanup

import (
	"context"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// retry calls f until it succeeds, fails for good, or ctx ends, after each
// failure waiting as the client's retry policy says: what the API
// rate-limited (429) is tried again without end, as client.RateLimitedWait
// says (a limit shared with the live application answers it; waiting is
// the cure, and Options.NoProgress ends a job that gets nowhere), unless it
// asked for a wait beyond the client's Retry-After limit; a failure of the
// server or the connection as many times as the client retries one call
// (client.NextRetry).
func (j *Job) retry(ctx context.Context, f func() error) error {
	for tries := 0; ; tries++ {
		err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		wait, ok := j.c.NextRetry(err, tries)
		if client.IsRateLimited(err) {
			wait, ok = j.c.RateLimitedWait(err, tries)
		}
		if !ok || !pause.For(ctx, wait) {
			return err
		}
	}
}
