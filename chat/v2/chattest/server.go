// Package chattest is an emulator of Chat v2's User Binding and Binding
// resources over real HTTP on loopback, in the spirit of net/http/httptest: start one, seed it
// with services, users and bindings, point a client at it, and assert on
// what is left. It needs no Twilio account and no network.
//
//	srv := chattest.NewServer()
//	defer srv.Close()
//	svc := srv.AddService()
//	alice := svc.AddUser("alice@example.com")
//	alice.AddBinding(chattest.Binding{Type: chat.BindingTypeAPN})
//	c, _ := srv.Client()
//	api := chat.New(c)
//
// It behaves as the real API does where a client can tell: users addressed
// by SID (in either case of hex) or identity, the service-wide list and the
// per-user lists served from one store (a binding removed through one is
// gone from both), repeated BindingType and Identity filters, PageSize 1 to
// 50 by default (the current API description's maximum; Limits.MaxPageSize
// allows up to the seed documentation's 1000), default 50, meta in the
// documented format with absolute URLs on the origin the client asked for,
// keyset page tokens, 204 on delete, Twilio's error documents (401/20003,
// 404/20404, 400/20001) and a Twilio-Request-Id and a Date on every
// response. Faults (statuses, Retry-After, HTML bodies, latency, cut
// connections) can be injected for tests, and the live API's limits turned
// on (SetLimits).
package chattest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// Server is a running emulator, started by NewServer or NewTestServer. Its
// methods are safe for concurrent use. A zero Server is not running: Client
// gives an error saying so, Close does nothing, and the rest work on its
// state (seeding it and reading the seeds back) without panicking.
type Server struct {
	// URL is the base URL of the emulator, such as http://127.0.0.1:41234.
	URL string
	// Credentials it accepts: the account SID with AuthToken, or APIKeySID
	// with APIKeySecret.
	AccountSID   string
	AuthToken    string
	APIKeySID    string
	APIKeySecret string

	ts *httptest.Server

	mu       sync.RWMutex
	services map[string]*service
	seq      uint64

	faultMu sync.Mutex
	faults  []*Fault
	latency atomic.Int64 // nanoseconds added to every request
	skew    atomic.Int64 // nanoseconds the emulator's clock runs ahead

	limitMu  sync.Mutex
	limits   Limits
	windows  map[string]*window // recent writes by service
	inFlight atomic.Int64

	requests, connections, removed, removeMisses    atomic.Int64
	refusedWrites, refusedInFlight, refusedPageSize atomic.Int64
}

// NewServer starts an emulator on a loopback port with fresh credentials.
// Call Close when done; in a test, NewTestServer does that for you.
func NewServer() *Server {
	s := &Server{
		AccountSID:   sid.New(sid.Account),
		AuthToken:    sid.New("tk")[2:],
		APIKeySID:    sid.New(sid.APIKey),
		APIKeySecret: sid.New("sk")[2:],
		services:     map[string]*service{},
	}
	s.SetLimits(Limits{})
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.connections.Add(1)
		}
	}
	s.ts.Start()
	s.URL = s.ts.URL
	return s
}

// Close shuts the emulator down, waiting for requests in flight. On a
// Server that NewServer did not start (a zero Server, or nil) it does
// nothing.
func (s *Server) Close() {
	if s == nil || s.ts == nil {
		return
	}
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Client returns a client for the emulator, authenticated with its account
// SID and auth token; opts are applied after those. A Server with no URL
// (a zero Server, or nil) gets a *client.ConfigError that says to start
// one.
func (s *Server) Client(opts ...client.Option) (*client.Client, error) {
	if s == nil || s.URL == "" {
		return nil, &client.ConfigError{Setting: "chattest server", Problem: "is not running (it has no URL); start one with chattest.NewServer or chattest.NewTestServer"}
	}
	return client.New(append([]client.Option{
		client.WithCredentials(s.AccountSID, s.AuthToken),
		client.WithBaseURL(s.URL),
	}, opts...)...)
}

// String describes the emulator by its URL and the SIDs it accepts, without
// its auth token or API key secret.
func (s *Server) String() string {
	if s == nil {
		return "chattest server (nil)"
	}
	if s.URL == "" {
		return "chattest server (not running: start one with chattest.NewServer)"
	}
	return "chattest server at " + s.URL + " for account " + s.AccountSID + " and API key " + s.APIKeySID + " (token and secret not shown)"
}

// Format prints the same as String for every verb, so no formatting of a
// *Server (%v, %+v, %#v) shows the credentials it accepts; a test log may
// be public, and the project's rule is no secret in any %v. A Server value
// is not to be copied (it holds locks), so it is printed by pointer.
func (s *Server) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// Stats counts what the emulator has seen, and what its limits refused.
type Stats struct {
	Requests     int64 // HTTP requests received
	Connections  int64 // TCP connections accepted
	Removed      int64 // DELETEs that removed a binding
	RemoveMisses int64 // DELETEs answered 404 because the binding was not there

	RefusedWrites   int64 // DELETEs answered 429: over the service's write budget
	RefusedInFlight int64 // requests answered 429: over the account's requests in flight
	RefusedPageSize int64 // lists answered 400: PageSize above the maximum
}

// Stats returns the counts so far; zero for a nil Server.
func (s *Server) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	return Stats{
		Requests:        s.requests.Load(),
		Connections:     s.connections.Load(),
		Removed:         s.removed.Load(),
		RemoveMisses:    s.removeMisses.Load(),
		RefusedWrites:   s.refusedWrites.Load(),
		RefusedInFlight: s.refusedInFlight.Load(),
		RefusedPageSize: s.refusedPageSize.Load(),
	}
}

// SetLatency delays every response by d, for tests of timeouts and of
// throughput under latency. On a nil Server it does nothing.
func (s *Server) SetLatency(d time.Duration) {
	if s != nil {
		s.latency.Store(int64(d))
	}
}

// SetClockSkew makes the emulator's clock run d ahead of the machine's
// (behind, for a negative d): the Date header of every response says so,
// for tests of jobs that must go by the API's clock. On a nil Server it does
// nothing.
func (s *Server) SetClockSkew(d time.Duration) {
	if s != nil {
		s.skew.Store(int64(d))
	}
}
