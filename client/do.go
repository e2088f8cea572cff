package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
	"github.com/twiliochat/twiliochat-go/internal/errdoc"
)

// Request is one API call, relative to the client's base URL.
type Request struct {
	Method string
	// Path is the escaped path, starting with "/", such as
	// "/v2/Services/IS…/Users/alice%40example.com/Bindings". Callers escape
	// each segment (url.PathEscape) so that no value can add a segment.
	Path string
	// Query is the encoded query string, without "?".
	Query string
	// Once sends the request a single time, whatever its answer: a caller
	// that must check something again before repeating the request (a
	// conditional removal) retries it itself, with NextRetry.
	Once bool
	// BodyPrefix, when positive, reads at most this much of a 2xx body,
	// for a call whose success has no body (a DELETE answers 204): the rest
	// is dropped, and a longer body is not an error.
	BodyPrefix int64
}

// Response describes a successful call.
type Response struct {
	StatusCode int
	Header     http.Header
	RequestID  string // the Twilio-Request-Id header
	Attempts   int    // how many times the request was tried, as Error.Attempts
	// PriorAttemptUncertain reports that an earlier attempt may have been
	// acted on without the client learning it, as Error's field does: a
	// caller that finds this answer to be a failure after all (a 2xx body
	// holding Twilio's error document) builds its Error with it.
	PriorAttemptUncertain bool
}

// callState follows one call through its attempts; retryablehttp's hooks
// find it in the request's context.
type callState struct {
	method, path string
	once         bool // Request.Once
	attempts     int
	sent         time.Time
	fatal        error // a body error that retrying cannot fix

	// uncertain: some attempt so far may have been acted on without the
	// client learning it (see outcomeUnknown); priorUncertain is that as
	// of the start of the latest attempt.
	uncertain, priorUncertain bool

	observed int  // the last attempt whose answer the rate limit has seen
	notSent  bool // the latest attempt began with its context already done

	// What the transport told of the latest attempt (see keepPool): whether
	// it got a connection to send the request on, when it can tell.
	connKnown, connected bool
}

type stateKey struct{}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// Do sends r, retrying as the client is configured to. A 2xx response body
// is appended to body (nil discards it), bounded by the maximum response
// size; the body is read inside the retry loop, so a connection that breaks
// mid-body is retried like one that broke before the headers. A non-2xx
// response is returned as an *Error; a failure to get any response as a
// *RequestError.
func (c *Client) Do(ctx context.Context, r Request, body *bytes.Buffer) (*Response, error) {
	if !c.ready() {
		return nil, c.notReady()
	}
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?#") {
		return nil, &ValidationError{Param: "path", Value: r.Path, Rule: `must start with "/" and have no query or fragment`}
	}
	st := &callState{method: r.Method, path: r.Path, once: r.Once}
	ctx = context.WithValue(ctx, stateKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, r.Method, c.url(r), nil)
	if err != nil {
		return nil, &RequestError{Method: r.Method, Path: r.Path, Err: err}
	}
	req.Header.Set("Authorization", c.creds.authHeader())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	mark := 0
	if body != nil {
		mark = body.Len()
	}
	req.SetResponseHandler(func(resp *http.Response) error {
		if body == nil || resp.StatusCode/100 != 2 {
			return nil
		}
		body.Truncate(mark)
		if r.BodyPrefix > 0 {
			_, err := body.ReadFrom(io.LimitReader(resp.Body, r.BodyPrefix))
			return err
		}
		// A declared length decides up front: too large is refused before
		// a byte is read, and anything else is allocated once, exactly
		// (MinRead more so ReadFrom need not grow to see EOF). Only a body
		// of unknown length grows by doubling, to at most twice the limit.
		if resp.ContentLength > c.maxBody {
			st.fatal = ErrResponseTooLarge
			return st.fatal
		}
		if need := int(resp.ContentLength) + bytes.MinRead; resp.ContentLength > 0 && body.Cap()-body.Len() < need {
			// Not Grow: on a buffer that already has room for less, it
			// doubles the old capacity, up to twice the body's size.
			exact := make([]byte, body.Len(), body.Len()+need)
			copy(exact, body.Bytes())
			*body = *bytes.NewBuffer(exact)
		}
		n, err := body.ReadFrom(io.LimitReader(resp.Body, c.maxBody+1))
		if err != nil {
			return err
		}
		if n > c.maxBody {
			st.fatal = ErrResponseTooLarge
			return st.fatal
		}
		return nil
	})

	resp, err := c.rc.Do(req)
	if err != nil {
		if body != nil {
			body.Truncate(mark)
		}
		if errors.Is(err, ErrResponseTooLarge) {
			err = &limitError{limit: c.maxBody}
		}
		// net/http's *url.Error repeats the whole URL, whose query a server
		// chose (a page token of any length); the method and path are
		// already in the RequestError.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		// A deadline while the caller's context is alive is the attempt's
		// own (WithTimeout), which NextRetry may retry; the caller's is not.
		attemptTimedOut := ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
		return nil, &RequestError{Method: r.Method, Path: r.Path, Attempts: st.attempts, Err: err, uncertain: st.uncertain, attemptTimedOut: attemptTimedOut}
	}
	defer drainAndClose(resp.Body)
	out := &Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		RequestID:  resp.Header.Get("Twilio-Request-Id"),
		Attempts:   st.attempts,

		PriorAttemptUncertain: st.priorUncertain,
	}
	if resp.StatusCode/100 == 2 {
		return out, nil
	}
	e := c.responseError(r, resp, st.attempts)
	e.PriorAttemptUncertain = st.priorUncertain
	return out, e
}

func (c *Client) url(r Request) string {
	u := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + r.Path
	if r.Query != "" {
		u += "?" + r.Query
	}
	return u
}

// limitError says how large a body may be, and how to allow a larger one.
type limitError struct{ limit int64 }

// Error gives the limit and the option that raises it.
func (e *limitError) Error() string {
	return "response body larger than the limit of " + formatBytes(e.limit) + " (raise it with client.WithMaxResponseBytes)"
}

// Unwrap makes errors.Is(err, ErrResponseTooLarge) true.
func (e *limitError) Unwrap() error { return ErrResponseTooLarge }

func formatBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// errorBodyLimit bounds how much of an error response is read: enough for
// any Twilio error document, little enough that a hostile body costs nothing.
const errorBodyLimit = errdoc.MaxSize

func (c *Client) responseError(r Request, resp *http.Response, attempts int) *Error {
	e := &Error{
		Status:    resp.StatusCode,
		RequestID: resp.Header.Get("Twilio-Request-Id"),
		Method:    r.Method,
		Path:      r.Path,
		Attempts:  attempts,
	}
	if d, ok := retryAfter(resp); ok {
		e.RetryAfter, e.hasRetryAfter = d, true
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyLimit))
	e.fill(b)
	return e
}

// drainAndClose reads a little of what is left of a body so the connection
// can go back to the pool, then closes it. A body with more left than that is
// cheaper to abandon along with its connection.
func drainAndClose(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 64<<10)
	_ = rc.Close()
}

func (c *Client) logResponse(resp *http.Response) {
	if c.log == nil || resp == nil || resp.Request == nil {
		return
	}
	ctx := resp.Request.Context()
	st := stateFrom(ctx)
	if st == nil {
		return
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "twilio request",
		slog.String("method", st.method),
		slog.String("path", st.path),
		slog.Int("status", resp.StatusCode),
		slog.Int("attempt", st.attempts),
		slog.String("request_id", resp.Header.Get("Twilio-Request-Id")),
		slog.Duration("elapsed", time.Since(st.sent)),
	)
}
