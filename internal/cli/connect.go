// Package cli connects the example programs to the real API when TWILIO_*
// credentials are set, and otherwise to an in-process emulator seeded with
// demo data, so every example runs on a fresh machine with no account.
package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// Identity is the demo user's identity: spaces, '@' and '/' show that an
// identity travels as exactly one path segment.
const Identity = "Jane Doe/ops@example.com"

// Env is where an example program talks to.
type Env struct {
	API        *chat.API
	ServiceSID string
	Users      []string // the seeded identities, in emulator mode
	Emulator   *chattest.Server
}

// Close stops the emulator, if there is one.
func (e *Env) Close() {
	if e.Emulator != nil {
		e.Emulator.Close()
	}
}

// Real reports whether the environment names real credentials.
func Real() bool {
	return os.Getenv(client.EnvAccountSID) != "" && (os.Getenv(client.EnvAuthToken) != "" || os.Getenv(client.EnvAPIKey) != "")
}

// Connect returns the real API for service when credentials are set, and
// otherwise starts an emulator seeded by seed, saying so on w. opts are
// applied to the client either way (a base URL among them points the "real"
// mode at a proxy, or at an emulator another process runs).
func Connect(w io.Writer, service string, seed func(*chattest.Service) []string, opts ...client.Option) (*Env, error) {
	if Real() {
		if service == "" {
			return nil, fmt.Errorf("TWILIO_* credentials are set: name the Chat service with -service IS…")
		}
		c, err := client.New(opts...)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "Using the API at %s as %s.\n", c.BaseURL(), c.AccountSID())
		return &Env{API: chat.New(c), ServiceSID: service}, nil
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
	fmt.Fprintf(w, "No TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN set: using the in-process emulator at %s with demo data.\n", srv.URL)
	return &Env{API: chat.New(c), ServiceSID: svc.SID, Users: users, Emulator: srv}, nil
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
			return nil, fmt.Errorf("-type: %q is not a binding type (apn, gcm, fcm)", part)
		}
		out = append(out, t)
	}
	return out, nil
}
