// Package cli is the plumbing the operator tools share: flags, where to
// connect (the real API when TWILIO_* credentials are set, otherwise an
// in-process emulator seeded with demo data, so every tool runs on a fresh
// machine with no account), users streamed from arguments, a file or
// standard input, walking them concurrently, and the API's clock.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// Identity is the demo user's identity: spaces, '@' and '/' show that an
// identity travels as exactly one path segment.
const Identity = "Jane Doe/ops@example.com"

// UsageError is a problem with how a tool was run: exit status 2.
type UsageError struct{ Msg string }

// Error says what to fix.
func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Env is where a tool talks to.
type Env struct {
	API        *chat.API
	Client     *client.Client
	ServiceSID string
	Clock      *Clock
	DemoUsers  []string // the seeded identities, in demo mode
	Emulator   *chattest.Server
}

// Close stops the emulator, if there is one.
func (e *Env) Close() {
	if e.Emulator != nil {
		e.Emulator.Close()
	}
}

// credentialVars are the variables that make up a set of credentials.
var credentialVars = []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret}

// Credentials reports whether getenv names a complete set of credentials
// (an account SID with its auth token, or an API key, its secret and the
// account SID): the real API. None set at all means demo mode. Anything in
// between is a usage error that names what is missing: a tool must never
// fall back to demo data, and report success, when its operator meant the
// real API.
func Credentials(getenv func(string) string) (real bool, err error) {
	var set []string
	for _, v := range credentialVars {
		if getenv(v) != "" {
			set = append(set, v)
		}
	}
	has := func(v string) bool { return getenv(v) != "" }
	switch {
	case len(set) == 0:
		return false, nil
	case has(client.EnvAPIKey) || has(client.EnvAPISecret):
		var missing []string
		for _, v := range []string{client.EnvAPIKey, client.EnvAPISecret, client.EnvAccountSID} {
			if !has(v) {
				missing = append(missing, v)
			}
		}
		if len(missing) > 0 {
			return false, Usagef("%s set, but %s missing: an API key needs %s, %s and %s (or unset them all for the demo)",
				strings.Join(set, ", "), strings.Join(missing, " and "), client.EnvAPIKey, client.EnvAPISecret, client.EnvAccountSID)
		}
	case !has(client.EnvAccountSID) || !has(client.EnvAuthToken):
		missing := client.EnvAuthToken
		if !has(client.EnvAccountSID) {
			missing = client.EnvAccountSID
		}
		return false, Usagef("%s set, but %s missing: set %s and %s, or %s, %s and %s (or unset them all for the demo)",
			strings.Join(set, ", "), missing, client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret, client.EnvAccountSID)
	}
	return true, nil
}

// Connect returns the real API for service when credentials are set, and
// otherwise starts an emulator with the live API's limits, seeded by seed,
// saying so on w. Requests go through a transport that keeps at most
// inFlight of them in flight and reads the API's clock; opts are applied to
// the client either way (a base URL among them points the real mode at a
// proxy, or at an emulator another process runs).
func Connect(w io.Writer, service string, inFlight int, seed func(*chattest.Service) []string, opts ...client.Option) (*Env, error) {
	real, err := Credentials(os.Getenv)
	if err != nil {
		return nil, err
	}
	clock := NewClock(w, newTransport(inFlight))
	opts = append(opts, client.WithHTTPClient(&http.Client{Transport: clock}))
	if real {
		if service == "" {
			return nil, Usagef("TWILIO_* credentials are set: name the Chat service with -service IS…")
		}
		c, err := client.New(opts...)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "Using the API at %s as %s.\n", c.BaseURL(), c.AccountSID())
		return &Env{API: chat.New(c), Client: c, ServiceSID: service, Clock: clock}, nil
	}
	srv := chattest.NewServer()
	srv.SetLimits(chattest.RealLimits()) // what the demo shows is what production does
	svc := srv.AddService()
	users := seed(svc)
	c, err := srv.Client(opts...)
	if err != nil {
		srv.Close()
		return nil, err
	}
	fmt.Fprintf(w, "No TWILIO_* credentials set: using the in-process emulator at %s with demo data and the live API's limits.\n", srv.URL)
	return &Env{API: chat.New(c), Client: c, ServiceSID: svc.SID, Clock: clock, DemoUsers: users, Emulator: srv}, nil
}

// ClientOptions are the client options every tool uses: a base URL when
// one is given, and the tool's name in the User-Agent.
func ClientOptions(baseURL, tool string) []client.Option {
	opts := []client.Option{client.WithUserAgent(tool + "/" + client.Version)}
	if baseURL != "" {
		opts = append(opts, client.WithBaseURL(baseURL))
	}
	return opts
}

// ParseTypes reads a comma-separated list of binding types.
func ParseTypes(s string) ([]chat.BindingType, error) {
	if s == "" {
		return nil, nil
	}
	var out []chat.BindingType
	for _, part := range strings.Split(s, ",") {
		t := chat.BindingType(strings.TrimSpace(part))
		if !t.Known() {
			return nil, Usagef("-type: %q is not a binding type (apn, gcm, fcm)", part)
		}
		out = append(out, t)
	}
	return out, nil
}

// Connect connects as the flags say (see Connect), with the tool's name in
// the User-Agent and, with -v, the client's log on stderr. An explicit
// -service or -base-url without credentials is a usage error: the operator
// meant the real API, and the demo needs neither.
func (f *Flags) Connect(stderr io.Writer, tool string, seed func(*chattest.Service) []string, opts ...client.Option) (*Env, error) {
	real, err := Credentials(os.Getenv)
	if err != nil {
		return nil, err
	}
	if !real && (f.Service != "" || f.BaseURL != "") {
		return nil, Usagef("-service and -base-url are for the real API, but no TWILIO_* credentials are set: set %s and %s (or %s, %s and %s), or leave both flags out for the demo",
			client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret, client.EnvAccountSID)
	}
	opts = append(ClientOptions(f.BaseURL, tool), opts...)
	if f.Verbose {
		opts = append(opts, client.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	return Connect(stderr, f.Service, f.Concurrency, seed, opts...)
}
