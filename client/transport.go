package client

import (
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// keepPool is the transport beneath go-retryablehttp. It hides the
// CloseIdleConnections of the transport it wraps: retryablehttp calls that
// on the whole http.Client whenever one call ends in an error (a cancelled
// context, a body over the limit), which would empty the pool that every
// other call of the client, and with http.DefaultTransport every other
// package of the process, is using. A failed call still closes its own
// connection, by abandoning its body.
//
// It also learns, for each attempt, whether the request got as far as a
// connection: an attempt that failed while dialling, or while waiting for a
// pooled connection, sent nothing, so the server cannot have acted on it
// (see outcomeUnknown). net/http's transport says so through httptrace; a
// transport that never calls the hooks (a mock, a custom one) tells
// nothing, and traces records whether this client's transport has ever
// called them.
type keepPool struct {
	rt     http.RoundTripper
	traces *atomic.Bool
}

// base is the transport requests go through.
func (k keepPool) base() http.RoundTripper {
	if k.rt == nil {
		return http.DefaultTransport
	}
	return k.rt
}

// RoundTrip sends r on the wrapped transport (http.DefaultTransport when
// none was given).
func (k keepPool) RoundTrip(r *http.Request) (*http.Response, error) {
	st := stateFrom(r.Context())
	if st == nil {
		return k.base().RoundTrip(r)
	}
	var asked, got atomic.Bool
	r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{
		GetConn: func(string) { asked.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { got.Store(true) },
	}))
	resp, err := k.base().RoundTrip(r)
	if asked.Load() {
		k.traces.Store(true)
	}
	st.connKnown, st.connected = k.traces.Load(), got.Load()
	return resp, err
}
