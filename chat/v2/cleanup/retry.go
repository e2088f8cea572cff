package cleanup

import (
	"context"
	"errors"
	"net/http"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// retry calls f until it succeeds, fails for good, or ctx ends. What the
// API rate-limited (429) is tried again without end, waiting as
// client.RateLimitedWait says (a limit shared with the live application
// answers it; waiting is the cure, and Options.NoProgress ends a job that
// gets nowhere), unless it asked for a wait beyond the client's Retry-After
// limit. Every other failure is final here: f's call was already retried as
// the client retries one call (its own retries, or RemoveIf's), and trying
// it again would multiply them. Each failure starts NoProgress's clock, if
// it is not running yet; what moves stops it.
func (j *Job) retry(ctx context.Context, f func() error) error {
	j.waiting.Add(1)
	defer j.waiting.Add(-1)
	for tries := 0; ; tries++ {
		err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		if answered(err) {
			j.moved() // the API works: it said no
		} else {
			j.failed()
		}
		wait, ok := j.c.RateLimitedWait(err, tries)
		if !ok || !pause.For(ctx, wait) {
			return err
		}
	}
}

// answered reports whether err is the API's final answer (a 4xx other than
// 429: a user that is not there, credentials refused) rather than trouble
// reaching it (a 429, a 5xx, a connection or a timeout).
func answered(err error) bool {
	var apiErr *client.Error
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests
}
