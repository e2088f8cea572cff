package client

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
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
	st := stateFrom(ctx)
	if st != nil && outcomeUnknown(st, resp, err) {
		st.uncertain = true
	}
	// retryablehttp may ask twice about one attempt (again after reading
	// its body); the rate limit and the counts hear about each answer once.
	if st != nil && resp != nil && st.observed != st.attempts {
		st.observed = st.attempts
		c.counters.heard(resp.StatusCode)
		if c.limit.applies(st.method) {
			c.limit.observe(resp.StatusCode, st.sent, time.Now())
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	if st == nil || st.once || !isIdempotent(st.method) || st.attempts > c.maxRetries {
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

// outcomeUnknown reports whether the server may have acted on the latest
// attempt of st, which got resp and err: it answered 5xx, or the attempt
// ended without an answer after its request may have reached the server.
// A 429 is never acted on. An attempt that began with its context done, or
// never got a connection (a dial that failed or timed out, a wait for a
// pooled connection that ended), sent nothing. When the transport cannot
// tell whether a connection was made, only a refused dial or a failed name
// lookup count as sent nothing.
func outcomeUnknown(st *callState, resp *http.Response, err error) bool {
	if err == nil {
		return resp != nil && resp.StatusCode >= 500
	}
	switch {
	case st.notSent:
		return false
	case st.connKnown:
		return st.connected
	}
	var op *net.OpError
	var dns *net.DNSError
	return !errors.As(err, &dns) && !(errors.As(err, &op) && op.Op == "dial")
}

// NextRetry applies the client's retry policy to a call that failed with
// err after the caller's own retries of it: whether one more is worth
// trying, and how long to wait first. It is for callers that retry a call
// themselves (a Request sent Once, a conditional removal that reads again
// before each DELETE): a 429, 500, 502, 503 or 504 and a connection that
// failed are worth retrying, up to WithMaxRetries retries; the wait obeys
// Retry-After within WithRetryAfterLimit (a longer one is not retried) and
// otherwise backs off as the client's own retries do. An attempt that hit
// WithTimeout while the caller's context was alive is a failed connection;
// the caller's context that ended, a body over the limit, and every other
// error are not retried.
func (c *Client) NextRetry(err error, retries int) (time.Duration, bool) {
	var apiErr *Error
	var reqErr *RequestError
	callerEnded := errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &reqErr) && reqErr.attemptTimedOut)
	if !c.ready() || retries >= c.maxRetries || callerEnded {
		return 0, false
	}
	switch {
	case errors.As(err, &apiErr):
		if !isRetryableStatus(apiErr.Status) {
			return 0, false
		}
		if apiErr.RetryAfter > 0 || apiErr.hasRetryAfter {
			if apiErr.RetryAfter > c.retryAfterLimit {
				return 0, false
			}
			return apiErr.RetryAfter, true
		}
	case errors.As(err, &reqErr):
		if errors.Is(err, ErrResponseTooLarge) {
			return 0, false
		}
		if retry, _ := retryablehttp.DefaultRetryPolicy(context.Background(), nil, reqErr.Err); !retry {
			return 0, false
		}
	default:
		return 0, false
	}
	return jittered(c.rc.RetryWaitMin, c.rc.RetryWaitMax, retries), true
}

// maxRateLimitedWait is the longest RateLimitedWait backs off.
const maxRateLimitedWait = 30 * time.Second

// RateLimitedWait is the client's retry policy for a caller that waits out
// a rate limit for as long as it takes (a job, which a bound on its progress
// ends): the wait before trying again, after tries tries, a call the API
// answered 429. It is what Retry-After asked for when that is longer, and
// else a backoff doubling from the client's shortest wait to 30 s, so that a
// Retry-After of 0 is not an invitation to ask again at once. It reports
// false for a Retry-After beyond WithRetryAfterLimit (waiting less than
// asked only earns another 429), for an error that is not a 429, and for a
// nil or zero Client. Unlike NextRetry, it does not count the retries of
// WithMaxRetries: those are the retries of one call.
func (c *Client) RateLimitedWait(err error, tries int) (time.Duration, bool) {
	var apiErr *Error
	if !c.ready() || !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests || apiErr.RetryAfter > c.retryAfterLimit {
		return 0, false
	}
	return max(apiErr.RetryAfter, jittered(c.rc.RetryWaitMin, maxRateLimitedWait, tries)), true
}

// backoff is the retryablehttp.Backoff of a Client; attempt counts the
// retries already made, from 0.
func (c *Client) backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if d, ok := retryAfter(resp); ok {
		return d
	}
	return jittered(min, max, attempt)
}

// jitterFloor is where the doubling starts when the minimum wait is 0, so
// that WithRetryWait(0, max) still backs off: 1–2 ms first, then doubling.
const jitterFloor = time.Millisecond

// jittered is the wait before retry attempt+1: drawn uniformly from
// [d/2, d] where d = min·2^(attempt+1) capped at max, and never below min.
// The first wait is thus between min and 2·min; later ones grow to max.
func jittered(min, max time.Duration, attempt int) time.Duration {
	base := min
	if base < jitterFloor {
		base = jitterFloor
	}
	d := max
	if shift := attempt + 1; shift < 32 && base<<shift < max && base<<shift > 0 {
		d = base << shift
	}
	lo := d / 2
	if lo < min {
		lo = min
	}
	if d <= lo {
		return d
	}
	return lo + rand.N(d-lo+1)
}

// retryAfter reads a Retry-After header on a 429 or 503, in seconds or as an
// HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return 0, false
	}
	return parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

// parseRetryAfter reads what the server asked for. A number of seconds too
// large for a time.Duration is the longest Duration: still an answer, and
// beyond any limit, so it ends the retries rather than being ignored.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
