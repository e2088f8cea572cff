// Package client holds what every Twilio API call needs: credentials, the
// host, retries, timeouts, logging, and typed errors. Resource packages such
// as chat/v2 build on a *Client; most programs create one with New and hand
// it to them.
//
// A Client is safe for concurrent use and should be reused: it keeps a pool
// of keep-alive connections.
package client

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// Version is this module's version, sent in the User-Agent header: the
// newest version in the changelog of README.md, without its "v".
const Version = "0.3.0"

// Client sends authenticated requests to the Twilio API. Create it with New.
type Client struct {
	base            *url.URL
	creds           *credentials
	rc              *retryablehttp.Client
	maxRetries      int
	retryAfterLimit time.Duration
	maxBody         int64
	log             *slog.Logger // nil: silent
	userAgent       string
	limit           *limiter // nil: no client-side rate limit
	counters        *counters
}

// New returns a Client configured by opts. Without WithCredentials or
// WithAPIKey it reads TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or
// TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_ACCOUNT_SID), and
// TWILIO_REGION and TWILIO_EDGE, from the environment. Its errors are
// *ConfigError values that say what to fix.
func New(opts ...Option) (*Client, error) {
	s := settings{
		maxRetries:      DefaultMaxRetries,
		retryWaitMin:    DefaultRetryWaitMin,
		retryWaitMax:    DefaultRetryWaitMax,
		retryAfterLimit: DefaultRetryAfterLimit,
		maxBody:         DefaultMaxResponseBytes,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&s); err != nil {
			return nil, err
		}
	}
	creds, err := newCredentials(&s, os.Getenv)
	if err != nil {
		return nil, err
	}
	base, err := resolveBaseURL(&s)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:            base,
		creds:           creds,
		maxRetries:      s.maxRetries,
		retryAfterLimit: s.retryAfterLimit,
		maxBody:         s.maxBody,
		log:             s.logger,
		userAgent:       userAgent(s.userAgent),
		limit:           newLimiter(s.rateLimit),
		counters:        new(counters),
	}
	hc, err := newHTTPClient(&s)
	if err != nil {
		return nil, err
	}
	c.rc = &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // its default writes to stderr; we log through slog hooks instead
		RetryWaitMin: s.retryWaitMin,
		RetryWaitMax: s.retryWaitMax,
		RetryMax:     s.maxRetries,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: closeAndFail,
		// retryablehttp's hooks run around every attempt, retries included:
		// the place for the rate limit. Waiting here, before the attempt,
		// keeps the wait out of the per-attempt timeout; a context that
		// ends while waiting makes the attempt fail at once with its error.
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			ctx := req.Context()
			st := stateFrom(ctx)
			if st == nil {
				return
			}
			start := time.Now()
			switch {
			case !c.limit.applies(req.Method):
			case attempt == 0:
				c.limit.admit(ctx, req.Method)
			default:
				_ = c.limit.wait(ctx)
			}
			c.counters.waited.Add(int64(time.Since(start)))
			st.notSent = ctx.Err() != nil
			st.priorUncertain = st.uncertain
			st.sent = time.Now()
			// An attempt whose context is already done fails before it
			// is written: the server sees nothing, so neither Stats nor
			// an error's Attempts counts it. None follows it (checkRetry
			// stops on a done context), so the count stays that of the
			// attempts sent.
			if st.notSent {
				return
			}
			st.attempts = attempt + 1
			c.counters.attempts.Add(1)
			if attempt > 0 {
				c.counters.retries.Add(1)
			}
		},
		ResponseLogHook: func(_ retryablehttp.Logger, resp *http.Response) { c.logResponse(resp) },
	}
	return c, nil
}

// CurrentRate is the client-side rate limit in force, in requests per
// second: the cap given to WithRateLimit, or, in adaptive mode, where the
// adaptation has brought it. 0 means no limit.
func (c *Client) CurrentRate() float64 {
	if c == nil {
		return 0
	}
	return c.limit.rate()
}

func newHTTPClient(s *settings) (*http.Client, error) {
	var hc http.Client
	if s.httpClient != nil {
		hc = *s.httpClient
	} else if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t = t.Clone()
		// The standard library keeps only 2 idle connections per host, which
		// makes concurrent cleanup jobs reconnect constantly.
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 128, 64
		hc.Transport = t
	}
	switch {
	case s.timeout > 0:
		hc.Timeout = s.timeout
	case hc.Timeout == 0:
		hc.Timeout = DefaultTimeout
	}
	// The API never redirects; following one could carry credentials to a
	// host we were not configured for.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rt, err := wrapTransport(hc.Transport, s.wrappers)
	if err != nil {
		return nil, err
	}
	kp := keepPool{rt: rt, traces: new(atomic.Bool)}
	_, std := kp.base().(*http.Transport)
	kp.traces.Store(std)
	hc.Transport = kp
	return &hc, nil
}

// closeAndFail is the retryablehttp.ErrorHandler: a request that ends in an
// error owes nobody its response body.
func closeAndFail(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		drainAndClose(resp.Body)
	}
	return nil, err
}

func userAgent(ext string) string {
	ua := "twiliochat-go/" + Version + " (" + runtime.GOOS + " " + runtime.GOARCH + ") go/" + runtime.Version()
	if ext != "" {
		ua += " " + ext
	}
	return ua
}

// ready reports whether c was made by New: a nil or zero Client has
// nothing to send requests with.
func (c *Client) ready() bool { return c != nil && c.rc != nil }

// notReady is the error of a call on a Client that New did not make.
func (c *Client) notReady() error {
	if c == nil {
		return &ConfigError{Setting: "client", Problem: "is nil; create one with client.New"}
	}
	return &ConfigError{Setting: "client", Problem: "is a zero Client, which has no credentials or host; create one with client.New"}
}

// AccountSID is the account the client acts for; empty for a Client that
// New did not make.
func (c *Client) AccountSID() string {
	if !c.ready() {
		return ""
	}
	return c.creds.accountSID
}

// BaseURL is the scheme, host and optional path prefix requests go to; nil
// for a Client that New did not make.
func (c *Client) BaseURL() *url.URL {
	if !c.ready() {
		return nil
	}
	u := *c.base
	return &u
}

// UserAgent is the User-Agent header the client sends.
func (c *Client) UserAgent() string {
	if c == nil {
		return ""
	}
	return c.userAgent
}

// String describes the client without its secret.
func (c *Client) String() string {
	if !c.ready() {
		return "twilio client (not configured: create one with client.New)"
	}
	return "twilio client for " + c.base.String() + " as " + c.creds.username
}

// Format prints the same as String for every verb, so no formatting of a
// Client can reveal its credentials.
func (c *Client) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }
