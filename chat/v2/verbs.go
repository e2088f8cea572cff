package chat

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/twiliochat/twiliochat-go/client"
)

func (h UserBindingHandle) check() error {
	if err := h.user.check(); err != nil {
		return err
	}
	return checkSID("Sid", bindingRule, h.sid)
}

// Fetch reads the binding.
//
// API: GET /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#fetch-a-user-binding-resource)
func (h UserBindingHandle) Fetch(ctx context.Context) (*UserBinding, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	req := client.Request{Method: http.MethodGet, Path: h.user.bindingPath(h.sid)}
	resp, err := h.user.api.c.Do(ctx, req, buf)
	if err != nil {
		return nil, err
	}
	var d decoder
	b := new(UserBinding)
	ok, err := d.single(buf.Bytes(), b)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorDocument(buf.Bytes(), req, resp, &DecodeError{Err: errors.New("the response has none of the fields of a user binding")})
	}
	return b, nil
}

// RemoveOption adjusts one Remove call.
type RemoveOption func(*removeOptions)

type removeOptions struct {
	retriedNotFoundOK bool
}

// AcceptRetriedNotFound makes Remove succeed when the API answers 404 to a
// DELETE retried after an attempt whose outcome is unknown: one that timed
// out, lost its connection, or was answered 5xx may have removed the
// binding, and the retry then finds nothing; for a cleanup job that is the
// outcome it wanted. A 404 on the first attempt, or after attempts answered
// 429 (which the server never acts on), is still an error: the binding was
// not there.
func AcceptRetriedNotFound() RemoveOption {
	return func(o *removeOptions) { o.retriedNotFoundOK = true }
}

// Remove deletes the binding. The DELETE is retried like a GET (it is
// idempotent); see AcceptRetriedNotFound for what a 404 after a retry means.
//
// API: DELETE /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#delete-a-user-binding-resource)
func (h UserBindingHandle) Remove(ctx context.Context, opts ...RemoveOption) error {
	var o removeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := h.check(); err != nil {
		return err
	}
	_, err := h.user.api.c.Do(ctx, client.Request{Method: http.MethodDelete, Path: h.user.bindingPath(h.sid)}, nil)
	var apiErr *client.Error
	if o.retriedNotFoundOK && errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.PriorAttemptUncertain {
		return nil
	}
	return err
}
