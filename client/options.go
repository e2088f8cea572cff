package client

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults, chosen so a call against a healthy API finishes quickly and one
// against a struggling API gives up within about half a minute.
const (
	DefaultMaxRetries       = 4
	DefaultRetryWaitMin     = 250 * time.Millisecond
	DefaultRetryWaitMax     = 5 * time.Second
	DefaultRetryAfterLimit  = 30 * time.Second
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 10 << 20
)

// settings is what the options configure; New turns it into a Client.
type settings struct {
	accountSID, username, password string
	apiKey                         bool // username is an API key SID, not the account SID

	baseURL, region, edge string
	insecureHTTP          bool

	httpClient      *http.Client
	wrappers        []func(http.RoundTripper) http.RoundTripper
	timeout         time.Duration
	maxRetries      int
	retryWaitMin    time.Duration
	retryWaitMax    time.Duration
	retryAfterLimit time.Duration
	maxBody         int64
	logger          *slog.Logger
	userAgent       string
	rateLimit       *RateLimit
}

// Option configures a Client. Options are applied in order; a later option
// overrides an earlier one (WithTransportWrapper, which stacks, aside).
type Option func(*settings) error

// WithCredentials authenticates with an account SID (AC…) and its auth token.
func WithCredentials(accountSID, authToken string) Option {
	return func(s *settings) error {
		s.accountSID, s.username, s.password, s.apiKey = accountSID, accountSID, authToken, false
		return nil
	}
}

// WithAPIKey authenticates with an API key SID (SK…) and its secret, on
// behalf of the account accountSID (AC…).
func WithAPIKey(keySID, secret, accountSID string) Option {
	return func(s *settings) error {
		s.accountSID, s.username, s.password, s.apiKey = accountSID, keySID, secret, true
		return nil
	}
}

// WithBaseURL sends every request to base instead of https://chat.twilio.com:
// an emulator, a recording proxy, or a gateway. A path in base is kept as a
// prefix. Plain http is accepted only for loopback hosts unless
// WithInsecureHTTP is also given. It cannot be combined with WithRegion or
// WithEdge.
func WithBaseURL(base string) Option {
	return func(s *settings) error {
		s.baseURL = base
		return nil
	}
}

// WithInsecureHTTP allows a plain http:// base URL on a host that is not
// loopback. Credentials then cross the network in clear text; use it only
// inside a trusted network.
func WithInsecureHTTP() Option {
	return func(s *settings) error {
		s.insecureHTTP = true
		return nil
	}
}

// WithRegion routes requests through a Twilio region such as "ie1" or "au1".
func WithRegion(region string) Option {
	return func(s *settings) error {
		s.region = region
		return nil
	}
}

// WithEdge routes requests through a Twilio edge location such as "dublin"
// or "sydney". An edge without a region uses region us1.
func WithEdge(edge string) Option {
	return func(s *settings) error {
		s.edge = edge
		return nil
	}
}

// WithHTTPClient sends requests through hc, beneath the retries. The client
// is copied, never modified: its Timeout, if zero, becomes the per-attempt
// timeout, and redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return &ConfigError{Setting: "WithHTTPClient", Problem: "the *http.Client is nil"}
		}
		s.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each attempt of a request, including reading its body.
// The caller's context bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return &ConfigError{Setting: "WithTimeout", Problem: fmt.Sprintf("must be positive, got %v", d)}
		}
		s.timeout = d
		return nil
	}
}

// WithMaxRetries sets how many times a failed GET or DELETE is retried; 0
// disables retries.
func WithMaxRetries(n int) Option {
	return func(s *settings) error {
		if n < 0 || n > 100 {
			return &ConfigError{Setting: "WithMaxRetries", Problem: fmt.Sprintf("must be between 0 and 100, got %d", n)}
		}
		s.maxRetries = n
		return nil
	}
}

// WithRetryWait sets the bounds of the exponential backoff between retries
// that the server did not pace with Retry-After.
func WithRetryWait(min, max time.Duration) Option {
	return func(s *settings) error {
		if min < 0 || max < min {
			return &ConfigError{Setting: "WithRetryWait", Problem: fmt.Sprintf("need 0 <= min <= max, got min %v, max %v", min, max)}
		}
		s.retryWaitMin, s.retryWaitMax = min, max
		return nil
	}
}

// WithRetryAfterLimit sets the longest Retry-After the client will wait out.
// A 429 or 503 asking for a longer wait is returned at once as an *Error
// whose RetryAfter says how long the server asked for.
func WithRetryAfterLimit(d time.Duration) Option {
	return func(s *settings) error {
		if d < 0 {
			return &ConfigError{Setting: "WithRetryAfterLimit", Problem: fmt.Sprintf("must not be negative, got %v", d)}
		}
		s.retryAfterLimit = d
		return nil
	}
}

// WithMaxResponseBytes bounds the size of a response body the client will
// read; a larger body is an error rather than unbounded memory.
func WithMaxResponseBytes(n int64) Option {
	return func(s *settings) error {
		if n < 1024 {
			return &ConfigError{Setting: "WithMaxResponseBytes", Problem: fmt.Sprintf("must be at least 1024, got %d", n)}
		}
		s.maxBody = n
		return nil
	}
}

// WithLogger logs each attempt (method, path, status, request ID, duration)
// at debug level and each retry at info level. Credentials are never logged.
// Without it the client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}

// WithUserAgent appends ext (for example "cleanup-job/1.2") to the
// User-Agent header.
func WithUserAgent(ext string) Option {
	return func(s *settings) error {
		for _, r := range ext {
			if r < 0x20 || r == 0x7f {
				return &ConfigError{Setting: "WithUserAgent", Problem: "contains a control character"}
			}
		}
		s.userAgent = ext
		return nil
	}
}
