package chat

import (
	"github.com/twiliochat/twiliochat-go/client"
)

// API is the entry point to Chat v2. It is safe for concurrent use.
type API struct {
	c *client.Client
}

// New returns the Chat v2 API on top of c.
func New(c *client.Client) *API { return &API{c: c} }

// Services addresses the Chat service with SID sid (IS…). It does no I/O
// and cannot fail; the SID is checked by the verb that uses it.
func (a *API) Services(sid string) ServiceHandle {
	return ServiceHandle{api: a, sid: sid}
}

// ServiceHandle addresses one Chat service.
type ServiceHandle struct {
	api *API
	sid string
}

// SID is the service SID the handle was made with.
func (s ServiceHandle) SID() string { return s.sid }

// Users addresses one user of the service, by user SID (US…) or by the
// identity the application gave the user, which may be any string.
func (s ServiceHandle) Users(id string) UserHandle {
	ref := userRef{api: s.api, service: s.sid, user: id}
	return UserHandle{
		UserBindings: func(sid string) UserBindingHandle { return UserBindingHandle{user: ref, sid: sid} },
		ref:          ref,
	}
}

// UserHandle addresses one user of a service.
type UserHandle struct {
	// UserBindings addresses the user's bindings: call it with a binding
	// SID (BS…) for one binding, or use its methods (List, Pages, …) for
	// all of them.
	UserBindings UserBindings

	ref userRef
}

// ID is the user SID or identity the handle was made with.
func (u UserHandle) ID() string { return u.ref.user }

// UserBindings is the set of one user's bindings. It is a function, as
// http.HandlerFunc is, so that it can both be called with a SID to address
// one binding and carry the methods that work on all of them.
type UserBindings func(sid string) UserBindingHandle

// ref recovers the user a UserBindings was made for.
func (f UserBindings) ref() userRef {
	if f == nil {
		return userRef{}
	}
	return f("").user
}

// UserBindingHandle addresses one binding of one user.
type UserBindingHandle struct {
	user userRef
	sid  string
}

// SID is the binding SID the handle was made with.
func (h UserBindingHandle) SID() string { return h.sid }

// userRef is everything that locates a user's bindings.
type userRef struct {
	api     *API
	service string
	user    string
}

// check validates the reference before any request is built.
func (r userRef) check() error {
	if r.api == nil || r.api.c == nil {
		return &client.ConfigError{Setting: "chat API", Problem: "is nil; create handles from chat.New(c).Services(…).Users(…)"}
	}
	if err := checkSID("ServiceSid", serviceRule, r.service); err != nil {
		return err
	}
	return checkUser(r.user)
}
