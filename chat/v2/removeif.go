package chat

import (
	"context"
	"errors"
	"net/http"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/errdoc"
	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// RemoveResult is what a conditional removal did.
type RemoveResult int

// The results of RemoveIf. The zero value is no result: RemoveIf returned
// an error.
const (
	// Removed: the binding was removed by this call.
	Removed RemoveResult = iota + 1
	// AlreadyGone: the binding was not there (someone else, or Twilio
	// itself, removed it), and no attempt of this call can have removed it.
	AlreadyGone
	// Kept: the binding was there and the condition said to keep it.
	Kept
)

// String names the result: "removed", "already gone" or "kept".
func (r RemoveResult) String() string {
	switch r {
	case Removed:
		return "removed"
	case AlreadyGone:
		return "already gone"
	case Kept:
		return "kept"
	}
	return "no result"
}

// RemoveIf reads the binding and removes it if remove(binding) is true,
// for a job that must not remove a binding that changed since it was listed
// (a device that registered again). Under the client's rate limit it takes
// its turn first (client.Client.Turn), so the read and the DELETE go one
// after the other, and nothing it read waits behind the limit.
//
// A DELETE answered 429 or 5xx, or cut off, is never sent again blind: the
// call waits as the client's retry policy says (Retry-After obeyed), takes
// its turn again, reads the binding again, and asks remove again, up to the
// client's retries (WithMaxRetries) of 429s and, apart, of other failures:
// a 429 is the API asking to wait, and spends none of a 5xx's retries. A
// 404 is AlreadyGone, or Removed when an earlier DELETE of this call may
// have removed it (client.MayHaveApplied). A read or a DELETE that fails for
// good returns its error, with no result; MayHaveApplied of that error tells
// whether a DELETE of this call may have reached the server, also when what
// failed last was a read after it. ResponseInto keeps the response that
// decided the result: the DELETE's, the 404's, or for Kept the read's.
// remove is called once per read, with a binding it may keep; it must not
// be nil.
//
// API: GET, then DELETE /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
func (h UserBindingHandle) RemoveIf(ctx context.Context, remove func(*UserBinding) bool, opts ...RemoveOption) (RemoveResult, error) {
	return removeIf(ctx, h.ref, h.sid, remove, removeOptions(opts))
}

// RemoveIf reads the binding and removes it if remove(binding) is true; it
// behaves as UserBindingHandle.RemoveIf does.
//
// API: GET, then DELETE /v2/Services/{ServiceSid}/Bindings/{Sid}
func (h BindingHandle) RemoveIf(ctx context.Context, remove func(*Binding) bool, opts ...RemoveOption) (RemoveResult, error) {
	return removeIf(ctx, h.ref, h.sid, remove, removeOptions(opts))
}

func removeIf[T item](ctx context.Context, r ref, bindingSID string, remove func(*T) bool, o callOptions) (RemoveResult, error) {
	if remove == nil {
		return 0, &client.ValidationError{Param: "remove", Value: "nil", Rule: "must be a function that reports whether to remove the binding"}
	}
	if err := r.check(); err != nil {
		return 0, err
	}
	if err := checkSID("Sid", bindingRule, bindingSID); err != nil {
		return 0, err
	}
	c := r.api.c
	mayHaveRemoved := false // an earlier DELETE of this call may have worked
	gone := func(err error) RemoveResult {
		o.keep(responseOf(err))
		if mayHaveRemoved {
			return Removed
		}
		return AlreadyGone
	}
	// fail returns err, saying (for MayHaveApplied) whether a DELETE of
	// this call may have removed the binding, whatever request failed last.
	fail := func(err error) (RemoveResult, error) {
		if mayHaveRemoved {
			err = &afterDeleteError{err}
		}
		return 0, err
	}
	// A 429 is the API asking to wait, not failing: it spends retries of
	// its own, not those of a 5xx or a cut connection.
	var retries, limited int
	for {
		turn, err := c.Turn(ctx)
		if err != nil {
			return fail(err)
		}
		var read client.Response
		b, err := fetch[T](turn, r, bindingSID, callOptions{response: &read})
		switch {
		case client.IsNotFound(err):
			return gone(err), nil
		case err != nil:
			return fail(err)
		case !remove(b):
			o.keep(&read)
			return Kept, nil
		}
		var deleted client.Response
		err = deleteOnce(turn, r, bindingSID, &deleted)
		switch {
		case err == nil:
			o.keep(&deleted)
			return Removed, nil
		case client.IsNotFound(err):
			return gone(err), nil
		}
		mayHaveRemoved = mayHaveRemoved || client.MayHaveApplied(err)
		spent := &retries
		if client.IsRateLimited(err) {
			spent = &limited
		}
		wait, again := c.NextRetry(err, *spent)
		*spent++
		if !again {
			return fail(err)
		}
		if !pause.For(ctx, wait) {
			return fail(errors.Join(ctx.Err(), err))
		}
	}
}

// afterDeleteError is RemoveIf's error after a DELETE of the call that may
// have removed the binding, whatever failed after it (a read answered 429,
// the caller's context): client.MayHaveApplied reports true for it.
type afterDeleteError struct{ err error }

func (e *afterDeleteError) Error() string {
	return e.err.Error() + " (after a DELETE that may have removed the binding)"
}

func (e *afterDeleteError) Unwrap() error { return e.err }

// MayHaveApplied reports true: that is what the error is for.
func (e *afterDeleteError) MayHaveApplied() bool { return true }

// deleteOnce sends the DELETE of binding sid a single time, for RemoveIf,
// which reads the binding again before any second DELETE.
func deleteOnce(ctx context.Context, r ref, bindingSID string, dst *client.Response) error {
	req := client.Request{Method: http.MethodDelete, Path: r.itemPath(bindingSID), Once: true, BodyPrefix: errdoc.MaxSize}
	return send(ctx, r, req, callOptions{response: dst})
}

// responseOf is the response metadata an API error carries.
func responseOf(err error) *client.Response {
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		return nil
	}
	return &client.Response{StatusCode: apiErr.Status, RequestID: apiErr.RequestID, Attempts: apiErr.Attempts}
}
