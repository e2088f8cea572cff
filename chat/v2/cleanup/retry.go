package cleanup

import (
	"context"

	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// retry calls f until it succeeds, fails for good, or ctx ends. What the
// API rate-limited (429) is tried again without end, waiting as
// client.RateLimitedWait says (a limit shared with the live application
// answers it; waiting is the cure, and Options.NoProgress ends a job that
// gets nowhere), unless it asked for a wait beyond the client's Retry-After
// limit. Every other failure is final here: f's call was already retried as
// the client retries one call (its own retries, or RemoveIf's), and trying
// it again would multiply them. The whole of retry, waits included, is time
// spent on the API, which is what NoProgress counts.
func (j *Job) retry(ctx context.Context, f func() error) error {
	j.waiting.Add(1)
	defer j.waiting.Add(-1)
	for tries := 0; ; tries++ {
		err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		wait, ok := j.c.RateLimitedWait(err, tries)
		if !ok || !pause.For(ctx, wait) {
			return err
		}
	}
}
