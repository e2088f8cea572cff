package client

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/errdoc"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// Sentinel errors, for errors.Is. An *Error matches the one for its status.
var (
	ErrNotFound         = errors.New("not found")
	ErrUnauthorized     = errors.New("unauthorized")
	ErrRateLimited      = errors.New("rate limited")
	ErrInvalidParameter = errors.New("invalid parameter")
	ErrResponseTooLarge = errors.New("response body too large")
)

// Error is a response from the API with a status outside 2xx. It carries
// Twilio's error document when there is one, and otherwise the status and a
// short excerpt of whatever came back (an HTML page from a proxy, nothing).
type Error struct {
	Status    int            // HTTP status code
	Code      int            // Twilio error code, such as 20404; 0 when the body was not Twilio's
	Message   string         // Twilio's message
	MoreInfo  string         // link to the error's documentation
	Details   map[string]any // optional details Twilio sends with some errors
	RequestID string         // the Twilio-Request-Id header, for Twilio support
	Method    string         // the request's method
	Path      string         // the request's path, without host or query

	// Attempts is how many times the request was tried (one whose connection
	// could not be made counts; one whose context had ended first does not).
	Attempts int
	// PriorAttemptUncertain reports that an earlier attempt of this request
	// may have been acted on by the server without the client learning it:
	// it timed out, lost its connection after sending, or was answered 5xx.
	// A DELETE answered 404 after such an attempt may have removed the
	// resource itself. A 429 or a refused connection does not count: the
	// server did nothing.
	PriorAttemptUncertain bool
	// RetryAfter is what a Retry-After header asked for, when there was one.
	RetryAfter    time.Duration
	hasRetryAfter bool // there was one, perhaps asking for no wait at all
	// Body is an excerpt of a body that was not a Twilio error document.
	Body string
}

// Error describes the failed call: method, path, status, Twilio's code and
// message, what to check, and the request ID to quote to Twilio support.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "twilio: %s %s: %d %s", e.Method, shortPath(e.Path), e.Status, http.StatusText(e.Status))
	// Message and Body come from the server: only a bounded part of them
	// goes into the text.
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d: %s", e.Code, excerpt.Text([]byte(e.Message), excerpt.Long))
	} else if e.Message != "" {
		fmt.Fprintf(&b, ": %s", excerpt.Text([]byte(e.Message), excerpt.Long))
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": body %s", excerpt.Quote(e.Body, excerpt.Long))
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (" + hint + ")")
	}
	if e.MoreInfo != "" {
		b.WriteString("; see " + excerpt.Text([]byte(e.MoreInfo), excerpt.Long))
	}
	if e.RequestID != "" {
		b.WriteString("; request " + excerpt.Text([]byte(e.RequestID), excerpt.Short))
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "; after %d attempts", e.Attempts)
	}
	return b.String()
}

func (e *Error) hint() string {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return "check the account SID and auth token, or the API key, its secret and the account SID"
	case e.Status == http.StatusNotFound:
		return "check that the service, user and binding exist"
	case e.Status == http.StatusTooManyRequests && e.RetryAfter > 0:
		return "rate limited: the server asked to wait " + e.RetryAfter.String()
	case e.Status == http.StatusTooManyRequests:
		return "rate limited: slow down and retry later"
	case e.Status >= 300 && e.Status < 400:
		return "the API does not redirect; check the base URL"
	case e.Status >= 500:
		return "the service failed; retry later"
	}
	return ""
}

// Is lets errors.Is match an *Error against ErrNotFound, ErrUnauthorized and
// ErrRateLimited.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// IsNotFound reports whether err is, or wraps, an API answer of 404.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsUnauthorized reports whether err is, or wraps, an API answer of 401 or 403.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsRateLimited reports whether err is, or wraps, an API answer of 429.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// fill takes what Twilio's error document in body says, or an excerpt of
// a body that is not one.
func (e *Error) fill(body []byte) {
	doc, ok := errdoc.Parse(body)
	if !ok {
		e.Body = excerpt.Text(body, excerpt.Long)
		return
	}
	e.Code, e.Message, e.MoreInfo, e.Details = doc.Code, doc.Message, doc.MoreInfo, doc.Details
}

// RequestError is a request that got no usable response: the connection
// failed, the context ended, or the body could not be read. It wraps the
// cause, so errors.Is(err, context.DeadlineExceeded) works.
type RequestError struct {
	Method   string
	Path     string
	Attempts int
	Err      error

	uncertain       bool // some attempt may have reached the server and been acted on
	attemptTimedOut bool // the last attempt hit WithTimeout while the caller's context was alive
}

// Error describes the request and the cause.
func (e *RequestError) Error() string {
	s := fmt.Sprintf("twilio: %s %s: %v", e.Method, shortPath(e.Path), e.Err)
	if e.Attempts > 1 {
		s += " (after " + strconv.Itoa(e.Attempts) + " attempts)"
	}
	return s
}

// Unwrap returns the cause, such as context.DeadlineExceeded.
func (e *RequestError) Unwrap() error { return e.Err }

// shortPath bounds a path in a message: an identity in it may be long.
func shortPath(p string) string {
	s, cut := excerpt.Cut(p, excerpt.Long)
	if cut {
		s += "…"
	}
	return s
}

// MayHaveApplied reports whether the request that failed with err may
// nonetheless have been acted on by the server: an attempt timed out or lost
// its connection after sending, or was answered 5xx. It is false for a 429
// (never acted on), a 4xx, a connection that was never made and a call
// cancelled before it was sent, unless an earlier attempt of the same call
// was uncertain (a 503, then a 429: true), and for errors that are not from
// a request.
// A job that retries a failed DELETE itself uses it to tell "already gone"
// from "removed by our own earlier attempt". An error of a call that sent
// several requests (chat's RemoveIf) answers for all of them: any error in
// err's chain with a MayHaveApplied() bool method decides.
func MayHaveApplied(err error) bool {
	var apiErr *Error
	var reqErr *RequestError
	var claim interface{ MayHaveApplied() bool }
	switch {
	case errors.As(err, &claim):
		return claim.MayHaveApplied()
	case errors.As(err, &apiErr):
		return apiErr.Status >= 500 || apiErr.PriorAttemptUncertain
	case errors.As(err, &reqErr):
		return reqErr.uncertain
	}
	return false
}

// ValidationError is an input rejected before any request was sent.
type ValidationError struct {
	Param string // the API's name for the parameter, such as "ServiceSid"
	Value string // the rejected value, quoted and shortened in messages
	Rule  string // what a valid value looks like
}

// Error names the parameter, the (shortened) value and the rule.
func (e *ValidationError) Error() string {
	return "twilio: invalid " + e.Param + " " + excerpt.Quote(e.Value, excerpt.Short) + ": " + e.Rule
}

// Is makes errors.Is(err, ErrInvalidParameter) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidParameter }

// ConfigError is a problem with the options or environment given to New.
type ConfigError struct {
	Setting string
	Problem string
}

// Error says which setting is wrong and how to fix it.
func (e *ConfigError) Error() string {
	return "twilio: configuration: " + e.Setting + " " + e.Problem
}
