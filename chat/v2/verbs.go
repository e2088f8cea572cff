package chat

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// Fetch reads the binding.
//
// API: GET /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#fetch-a-user-binding-resource)
func (h UserBindingHandle) Fetch(ctx context.Context) (*UserBinding, error) {
	return fetch[UserBinding](ctx, h.ref, h.sid)
}

// Fetch reads the binding.
//
// API: GET /v2/Services/{ServiceSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/binding-resource#fetch-a-binding-resource)
func (h BindingHandle) Fetch(ctx context.Context) (*Binding, error) {
	return fetch[Binding](ctx, h.ref, h.sid)
}

// Remove deletes the binding. The DELETE is retried like a GET (it is
// idempotent); see AcceptRetriedNotFound for what a 404 after a retry means.
//
// API: DELETE /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#delete-a-user-binding-resource)
func (h UserBindingHandle) Remove(ctx context.Context, opts ...RemoveOption) error {
	return remove(ctx, h.ref, h.sid, opts)
}

// Remove deletes the binding, which removes it from its user's bindings
// too; it behaves as UserBindingHandle.Remove does.
//
// API: DELETE /v2/Services/{ServiceSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/binding-resource#delete-a-binding-resource)
func (h BindingHandle) Remove(ctx context.Context, opts ...RemoveOption) error {
	return remove(ctx, h.ref, h.sid, opts)
}

// fetch reads binding sid of the list r names, and checks that the answer
// is that binding, of that service and user.
func fetch[T item](ctx context.Context, r ref, sid string) (*T, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if err := checkSID("Sid", bindingRule, sid); err != nil {
		return nil, err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	req := client.Request{Method: http.MethodGet, Path: r.itemPath(sid)}
	resp, err := r.api.c.Do(ctx, req, buf)
	if err != nil {
		return nil, err
	}
	var d decoder[T]
	b := new(T)
	ok, err := d.single(buf.Bytes(), b)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorDocument(buf.Bytes(), req, resp, &DecodeError{Err: errors.New("the response has none of the fields of a binding")})
	}
	f := fieldsOf(b)
	if !strings.EqualFold(string(*f.sid), sid) {
		return nil, &DecodeError{Field: "sid", Err: errors.New("is " + excerpt.Quote(string(*f.sid), excerpt.Short) + ", but the request was for " + sid)}
	}
	sc := scope{service: r.service}
	if r.perUser {
		sc.user = r.user
	}
	if err := sc.check(f, -1); err != nil {
		return nil, err
	}
	return b, nil
}

// RemoveOption adjusts one Remove call.
type RemoveOption func(*removeOptions)

type removeOptions struct {
	retriedNotFoundOK bool
	response          *client.Response
}

// ResponseInto stores the metadata of a successful removal's response in
// dst: its status, headers, Twilio-Request-Id and attempts, for an audit
// trail. A failed removal's *client.Error carries the same.
func ResponseInto(dst *client.Response) RemoveOption {
	return func(o *removeOptions) { o.response = dst }
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

// remove deletes binding sid of the list r names.
func remove(ctx context.Context, r ref, sid string, opts []RemoveOption) error {
	var o removeOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if err := r.check(); err != nil {
		return err
	}
	if err := checkSID("Sid", bindingRule, sid); err != nil {
		return err
	}
	resp, err := r.api.c.Do(ctx, client.Request{Method: http.MethodDelete, Path: r.itemPath(sid)}, nil)
	if err == nil && o.response != nil && resp != nil {
		*o.response = *resp
	}
	var apiErr *client.Error
	if o.retriedNotFoundOK && errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.PriorAttemptUncertain {
		if o.response != nil {
			*o.response = client.Response{StatusCode: apiErr.Status, RequestID: apiErr.RequestID, Attempts: apiErr.Attempts}
		}
		return nil
	}
	return err
}
