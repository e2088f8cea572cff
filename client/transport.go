package client

import "net/http"

// keepPool is the transport beneath go-retryablehttp. It hides the
// CloseIdleConnections of the transport it wraps: retryablehttp calls that
// on the whole http.Client whenever one call ends in an error (a cancelled
// context, a body over the limit), which would empty the pool that every
// other call of the client, and with http.DefaultTransport every other
// package of the process, is using. A failed call still closes its own
// connection, by abandoning its body.
type keepPool struct{ rt http.RoundTripper }

// RoundTrip sends r on the wrapped transport (http.DefaultTransport when
// none was given).
func (k keepPool) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.rt == nil {
		return http.DefaultTransport.RoundTrip(r)
	}
	return k.rt.RoundTrip(r)
}
