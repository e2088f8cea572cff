package client

import "net/http"

// WithTransportWrapper wraps the transport the client sends its requests
// through: the place for OpenTelemetry spans, request metrics or a
// recorder, without giving up the client's own transport. wrap is called
// once, in New, with that transport (the tuned one the client builds, with
// 64 idle connections per host; the Transport of WithHTTPClient's client
// when that option is given; or http.DefaultTransport when that client has
// none), and the RoundTripper it returns is used in its place.
//
// The wrapper sits beneath the retries, so it sees every attempt: a call
// retried twice is three round trips. Each attempt reaches it after its
// turn under WithRateLimit, and RoundTrip returns at the response headers,
// before the client reads the body. The requests carry the Authorization
// header, which holds the credentials: a wrapper must not log, record or
// export request headers, and, as for any http.RoundTripper, must not
// modify the request.
//
// Unlike other options, WithTransportWrapper given more than once stacks:
// each later wrapper wraps the ones before it. A nil wrap, or one that
// returns nil, makes New fail with a *ConfigError.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(s *settings) error {
		if wrap == nil {
			return &ConfigError{Setting: "WithTransportWrapper", Problem: "the wrapper is nil; pass a func(http.RoundTripper) http.RoundTripper"}
		}
		s.wrappers = append(s.wrappers, wrap)
		return nil
	}
}

// wrapTransport applies the wrappers to base, in order. The result goes
// beneath keepPool, which must stay outermost: a wrapper that forwards
// CloseIdleConnections would otherwise let go-retryablehttp empty the pool
// on every failed call.
func wrapTransport(base http.RoundTripper, wrappers []func(http.RoundTripper) http.RoundTripper) (http.RoundTripper, error) {
	if len(wrappers) == 0 {
		return base, nil
	}
	if base == nil {
		base = http.DefaultTransport
	}
	for _, wrap := range wrappers {
		if base = wrap(base); base == nil {
			return nil, &ConfigError{Setting: "WithTransportWrapper", Problem: "the wrapper returned a nil http.RoundTripper; return the transport it was given, wrapped"}
		}
	}
	return base, nil
}
