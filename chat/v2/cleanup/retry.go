package cleanup

import (
	"context"
	"errors"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// maxRateLimitedWait is the longest a job waits between tries of a call the
// API rate-limited without saying for how long.
const maxRateLimitedWait = 30 * time.Second

// retry calls f until it succeeds, fails for good, or ctx ends, after each
// failure waiting as the client's retry policy says: what the API
// rate-limited (429) is tried again without end, the waits growing to 30 s
// (a limit shared with the live application answers it; waiting is the
// cure, and Options.NoProgress ends a job that gets nowhere), unless it
// asked for a wait beyond the client's Retry-After limit; a failure of the
// server or the connection as many times as the client retries one call.
func (j *Job) retry(ctx context.Context, f func() error) error {
	for tries := 0; ; tries++ {
		err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		wait, ok := j.again(err, tries)
		if !ok || !pause.For(ctx, wait) {
			return err
		}
	}
}

// again is the wait before trying again a call that failed with err after
// tries tries, and whether to.
func (j *Job) again(err error, tries int) (time.Duration, bool) {
	if !client.IsRateLimited(err) {
		return j.c.NextRetry(err, tries)
	}
	wait, ok := j.c.NextRetry(err, 0)
	if !ok {
		return 0, false
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return wait, true // as the server asked
	}
	for i := 0; i < tries && wait < maxRateLimitedWait; i++ {
		wait *= 2
	}
	return min(wait, maxRateLimitedWait), true
}
