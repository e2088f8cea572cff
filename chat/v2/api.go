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
	r := ref{api: a, service: sid}
	return ServiceHandle{
		Bindings: func(bs string) BindingHandle { return BindingHandle{ref: r, sid: bs} },
		ref:      r,
	}
}

// ServiceHandle addresses one Chat service.
type ServiceHandle struct {
	// Bindings addresses every binding of the service, whatever its user
	// (the service-wide Binding resource): call it with a binding SID (BS…)
	// for one binding, or use its methods (List, Pages, …) for all of them.
	// A whole-service walk needs one request per page of bindings, where a
	// walk user by user needs at least one per user.
	//
	// In a zero ServiceHandle it is nil: its methods, and every verb of a
	// zero handle, fail with an error that says to build the handle with
	// chat.New(c).Services(sid), but calling it panics, as calling any nil
	// func does (Go leaves a func field no other choice). Build handles from
	// chat.New(c).Services(…), never from a zero value.
	Bindings Bindings

	ref ref
}

// SID is the service SID the handle was made with.
func (s ServiceHandle) SID() string { return s.ref.service }

// Client is the client the handle's calls go through (nil for a zero
// ServiceHandle): its retry policy and rate limit, for a job built on the
// handle.
func (s ServiceHandle) Client() *client.Client {
	if s.ref.api == nil {
		return nil
	}
	return s.ref.api.c
}

// Users addresses one user of the service, by user SID (US…) or by the
// identity the application gave the user, which may be any string.
func (s ServiceHandle) Users(id string) UserHandle {
	r := s.ref
	r.user, r.perUser = id, true
	return UserHandle{
		UserBindings: func(sid string) UserBindingHandle { return UserBindingHandle{ref: r, sid: sid} },
		ref:          r,
	}
}

// UserHandle addresses one user of a service.
type UserHandle struct {
	// UserBindings addresses the user's bindings: call it with a binding
	// SID (BS…) for one binding, or use its methods (List, Pages, …) for
	// all of them.
	//
	// In a zero UserHandle it is nil: its methods fail with an error that
	// says how to build the handle, but calling it panics, as calling any
	// nil func does. Build handles from chat.New(c).Services(…).Users(…).
	UserBindings UserBindings

	ref ref
}

// ID is the user SID or identity the handle was made with.
func (u UserHandle) ID() string { return u.ref.user }

// UserBindings is the set of one user's bindings. It is a function, as
// http.HandlerFunc is, so that it can both be called with a SID to address
// one binding and carry the methods that work on all of them.
type UserBindings func(sid string) UserBindingHandle

// ref recovers the user a UserBindings was made for.
func (f UserBindings) ref() ref {
	if f == nil {
		return ref{}
	}
	return f("").ref
}

// Bindings is the set of every binding of one service. Like UserBindings,
// it is a function to address one binding that carries the methods working
// on all of them.
type Bindings func(sid string) BindingHandle

// ref recovers the service a Bindings was made for.
func (f Bindings) ref() ref {
	if f == nil {
		return ref{}
	}
	return f("").ref
}

// UserBindingHandle addresses one binding of one user.
type UserBindingHandle struct {
	ref ref
	sid string
}

// SID is the binding SID the handle was made with.
func (h UserBindingHandle) SID() string { return h.sid }

// BindingHandle addresses one binding of a service, whatever its user.
type BindingHandle struct {
	ref ref
	sid string
}

// SID is the binding SID the handle was made with.
func (h BindingHandle) SID() string { return h.sid }

// ref locates a list of bindings: one user's (perUser), or a whole
// service's.
type ref struct {
	api     *API
	service string
	user    string // a user SID or identity, when perUser
	perUser bool
}

// check validates the reference before any request is built. It is the one
// place that refuses a handle not built from chat.New(c).Services(…).
func (r ref) check() error {
	switch {
	case r.api == nil:
		return &client.ConfigError{Setting: "chat handle", Problem: "is a zero value or comes from a nil *chat.API; build handles with chat.New(c).Services(…)"}
	case r.api.c == nil:
		return &client.ConfigError{Setting: "chat API", Problem: "has a nil *client.Client; create one with client.New and build handles with chat.New(c).Services(…)"}
	}
	if err := checkSID("ServiceSid", serviceRule, r.service); err != nil {
		return err
	}
	if r.perUser {
		return checkUser(r.user)
	}
	return nil
}
