package chat

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/errdoc"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// Fetch reads the binding, and checks that the answer is that binding, of
// that service and user. ResponseInto keeps the response's metadata.
//
// API: GET /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#fetch-a-user-binding-resource)
func (h UserBindingHandle) Fetch(ctx context.Context, opts ...FetchOption) (*UserBinding, error) {
	return fetch[UserBinding](ctx, h.ref, h.sid, fetchOptions(opts))
}

// Fetch reads the binding, and checks that the answer is that binding, of
// that service. ResponseInto keeps the response's metadata.
//
// API: GET /v2/Services/{ServiceSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/binding-resource#fetch-a-binding-resource)
func (h BindingHandle) Fetch(ctx context.Context, opts ...FetchOption) (*Binding, error) {
	return fetch[Binding](ctx, h.ref, h.sid, fetchOptions(opts))
}

// Remove deletes the binding. The DELETE is retried like a GET (it is
// idempotent); see AcceptRetriedNotFound for what a 404 after a retry means.
//
// API: DELETE /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#delete-a-user-binding-resource)
func (h UserBindingHandle) Remove(ctx context.Context, opts ...RemoveOption) error {
	return remove(ctx, h.ref, h.sid, removeOptions(opts))
}

// Remove deletes the binding, which removes it from its user's bindings
// too; it behaves as UserBindingHandle.Remove does.
//
// API: DELETE /v2/Services/{ServiceSid}/Bindings/{Sid}
// (https://www.twilio.com/docs/chat/rest/binding-resource#delete-a-binding-resource)
func (h BindingHandle) Remove(ctx context.Context, opts ...RemoveOption) error {
	return remove(ctx, h.ref, h.sid, removeOptions(opts))
}

// fetch reads binding sid of the list r names, and checks that the answer
// is that binding, of that service and user.
func fetch[T item](ctx context.Context, r ref, bindingSID string, o callOptions) (*T, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if err := checkSID("Sid", bindingRule, bindingSID); err != nil {
		return nil, err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	req := client.Request{Method: http.MethodGet, Path: r.itemPath(bindingSID)}
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
	if !sid.Same(string(*f.sid), bindingSID) {
		return nil, &DecodeError{Field: "sid", Err: errors.New("is " + excerpt.Quote(string(*f.sid), excerpt.Short) + ", but the request was for " + bindingSID)}
	}
	sc := scope{service: r.service}
	if r.perUser {
		sc.user = r.user
	}
	if err := sc.check(f, -1); err != nil {
		return nil, err
	}
	o.keep(resp)
	return b, nil
}

// remove deletes binding sid of the list r names.
func remove(ctx context.Context, r ref, bindingSID string, o callOptions) error {
	if err := r.check(); err != nil {
		return err
	}
	if err := checkSID("Sid", bindingRule, bindingSID); err != nil {
		return err
	}
	err := send(ctx, r, client.Request{Method: http.MethodDelete, Path: r.itemPath(bindingSID), BodyPrefix: errdoc.MaxSize}, o)
	var apiErr *client.Error
	if o.retriedNotFoundOK && errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.PriorAttemptUncertain {
		o.keep(responseOf(err))
		return nil
	}
	return err
}

// send makes a call whose success has no body; req.BodyPrefix reads just
// enough of one to tell an error document. A 2xx answer whose body is
// Twilio's error document is that error, as for every verb.
func send(ctx context.Context, r ref, req client.Request, o callOptions) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	resp, err := r.api.c.Do(ctx, req, buf)
	if err == nil && len(bytes.TrimSpace(buf.Bytes())) > 0 {
		err = errorDocument(buf.Bytes(), req, resp, nil)
	}
	if err == nil {
		o.keep(resp)
	}
	return err
}
