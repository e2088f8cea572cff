package client

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// The retry policy, in one place:
//   - only GET, HEAD and DELETE are retried: they are idempotent;
//   - on 429, 500, 502, 503, 504, on connection errors and on a body that
//     broke off while being read;
//   - never once the caller's context is done;
//   - Retry-After (seconds or an HTTP date) is obeyed on 429 and 503 when it
//     is within the limit; a longer one ends the retries at once, since
//     waiting less than asked only earns another 429;
//   - otherwise exponential backoff from min to max with jitter, so that
//     many clients failing together do not retry together.

func isRetryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func isIdempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodDelete
}

// checkRetry is the retryablehttp.CheckRetry of a Client. It also stops when
// the attempts are used up, so that running out of retries takes
// retryablehttp's success path and the last response becomes a typed *Error
// without closing the client's idle connections.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	st := stateFrom(ctx)
	if st == nil || !isIdempotent(st.method) || st.attempts > c.maxRetries {
		return false, nil
	}
	if err != nil {
		if st.fatal != nil {
			return false, nil
		}
		// retryablehttp knows which transport errors are permanent (bad
		// certificates, invalid headers, redirect loops).
		retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		if retry {
			c.logRetry(ctx, st, slog.String("error", err.Error()))
		}
		return retry, nil
	}
	if !isRetryableStatus(resp.StatusCode) {
		return false, nil
	}
	if d, ok := retryAfter(resp); ok && d > c.retryAfterLimit {
		return false, nil
	}
	c.logRetry(ctx, st, slog.Int("status", resp.StatusCode))
	return true, nil
}

func (c *Client) logRetry(ctx context.Context, st *callState, why slog.Attr) {
	if c.log != nil {
		c.log.LogAttrs(ctx, slog.LevelInfo, "twilio retry",
			slog.String("method", st.method), slog.String("path", st.path),
			slog.Int("attempt", st.attempts), why)
	}
}

// backoff is the retryablehttp.Backoff of a Client.
func (c *Client) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp); ok {
		return d
	}
	return jittered(min, max, attempt)
}

// jittered is min·2^attempt capped at max, then drawn uniformly from its
// upper half.
func jittered(min, max time.Duration, attempt int) time.Duration {
	d := max
	if attempt < 32 && min<<attempt < max && min<<attempt > 0 {
		d = min << attempt
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// retryAfter reads a Retry-After header on a 429 or 503, in seconds or as an
// HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
