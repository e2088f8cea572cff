package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"syscall"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

func TestCredentials(t *testing.T) {
	t.Parallel()
	const ac, tok, sk, sec = client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret
	cases := []struct {
		set         []string
		real        bool
		wantMissing string // "" means no error
	}{
		{nil, false, ""},
		{[]string{ac, tok}, true, ""},
		{[]string{sk, sec, ac}, true, ""},
		{[]string{ac, tok, sk, sec}, true, ""},
		{[]string{sk, sec}, false, ac},
		{[]string{tok}, false, ac},
		{[]string{ac}, false, tok},
		{[]string{sk, ac}, false, sec},
		{[]string{sec}, false, sk},
		{[]string{ac, tok, sk}, false, sec},
	}
	for _, tc := range cases {
		getenv := func(k string) string {
			for _, s := range tc.set {
				if s == k {
					return "value-" + k
				}
			}
			return ""
		}
		real, err := Credentials(getenv)
		var ue *UsageError
		switch {
		case tc.wantMissing == "" && (err != nil || real != tc.real):
			t.Errorf("%v: real %v, err %v", tc.set, real, err)
		case tc.wantMissing != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantMissing+" missing") && !strings.Contains(err.Error(), "but "+tc.wantMissing)):
			t.Errorf("%v: err = %v, want a usage error naming %s", tc.set, err, tc.wantMissing)
		case err != nil && strings.Contains(err.Error(), "value-"):
			t.Errorf("%v: the error echoes a value: %v", tc.set, err)
		}
	}
}

func TestFlagsCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args    []string
		users   []string
		wantErr string
	}{
		{nil, nil, ""},
		{[]string{"-page-size", "1000", "-concurrency", "64", "-type", "apn,fcm", "-service", "IS0123456789abcdef0123456789abcdef"}, nil, ""},
		{[]string{"-page-size", "5000"}, nil, "-page-size"},
		{[]string{"-page-size", "-1"}, nil, "-page-size"},
		{[]string{"-page-size", "0"}, nil, "-page-size"},
		{[]string{"-concurrency", "0"}, nil, "-concurrency"},
		{[]string{"-concurrency", "65"}, nil, "-concurrency"},
		{[]string{"-type", "voip"}, nil, "-type"},
		{[]string{"-service", "IS123"}, nil, "-service"},
		{[]string{"-file", "users.txt"}, []string{"alice"}, "both as arguments and with -file"},
		{[]string{"-all-users"}, []string{"alice"}, "-all-users"},
		{[]string{"-all-users", "-file", "x"}, nil, "-all-users"},
	}
	for _, tc := range cases {
		var f Flags
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		f.Register(fs, "what the tool does at once")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := f.Check(tc.users)
		var ue *UsageError
		if (tc.wantErr == "") != (err == nil) || (err != nil && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr))) {
			t.Errorf("%q %q: err = %v, want %q", tc.args, tc.users, err, tc.wantErr)
		}
	}
	var f Flags
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	f.Register(fs, "what the tool does at once")
	_ = fs.Parse(nil)
	if f.PageSize != chat.AutoPageSize || f.Concurrency != 8 {
		t.Errorf("defaults: page size %d, concurrency %d; want 50 and 8", f.PageSize, f.Concurrency)
	}
}

func TestSeen(t *testing.T) {
	t.Parallel()
	var s Seen
	a := chat.BindingSID("BS0123456789abcdef0123456789abcdef")
	if !s.Add(a) || s.Add(a) || s.Add("BS0123456789ABCDEF0123456789ABCDEF") {
		t.Error("a SID (in either case) was new twice")
	}
	if !s.Add("BSffffffffffffffffffffffffffffffff") || !s.Add("") || !s.Add("") {
		t.Error("another SID, or an unusable one, was not new")
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"alice":                 "alice",
		"Jane Doe/ops@x.com":    "Jane Doe/ops@x.com",
		"日本 😀":                  "日本 😀",
		"evil\nBS000  apn  row": `"evil\nBS000  apn  row"`,
		"cr\rover":              `"cr\rover"`,
		"esc\x1b[2J":            `"esc\x1b[2J"`,
		"rtl\u202eabc":          `"rtl\u202eabc"`,
		"bad\xff":               `"bad\xff"`,
	}
	for in, want := range cases {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	var warn bytes.Buffer
	c := NewClock(&warn, nil)
	if d := time.Since(c.Now()); d < -time.Second || d > time.Second {
		t.Fatalf("before any response the clock is %v off the machine's", d)
	}
	now := time.Now()
	c.observe(now.Add(30*time.Second).Truncate(time.Second), now)
	if d := time.Until(c.Now()); d < 28*time.Second || d > 32*time.Second || warn.Len() != 0 {
		t.Fatalf("30 s ahead read as %v; warned %q", d, warn.String())
	}
	c.observe(now.Add(-3*time.Hour), now)
	c.observe(now.Add(-3*time.Hour), now)
	if d := time.Since(c.Now()); d < 3*time.Hour-2*time.Second || strings.Count(warn.String(), "warning") != 1 || !strings.Contains(warn.String(), "3h0m0s behind") {
		t.Fatalf("3 h behind read as %v; warned %q", d, warn.String())
	}
}

// TestFlagsConnect: without credentials an explicit -service or -base-url
// is a usage error (the operator meant the real API); neither is the demo.
func TestFlagsConnect(t *testing.T) {
	for _, v := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(v, "")
	}
	for _, f := range []Flags{{Service: "IS0123456789abcdef0123456789abcdef"}, {BaseURL: "http://127.0.0.1:1"}} {
		var w bytes.Buffer
		env, err := f.Connect(&w, "tool", SeedSmall)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no TWILIO_* credentials") || env != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	var w bytes.Buffer
	f := Flags{Concurrency: 2, Verbose: true}
	env, err := f.Connect(&w, "tool", SeedSmall)
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if !strings.Contains(w.String(), "in-process emulator") || !strings.HasPrefix(env.Client.UserAgent(), "twiliochat-go/") || !strings.Contains(env.Client.UserAgent(), "tool/"+client.Version) {
		t.Errorf("demo: %q, user agent %q", w.String(), env.Client.UserAgent())
	}
	var v bytes.Buffer
	if err := PrintVersion(&v, "tool"); err != nil || v.String() != "tool "+client.Version+"\n" {
		t.Errorf("version %q, %v", v.String(), err)
	}
}

func TestInterrupted(t *testing.T) {
	t.Parallel()
	if InterruptedBy(context.Background()) != nil {
		t.Error("a live context was interrupted")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&Interrupted{Signal: syscall.SIGTERM})
	if in := InterruptedBy(ctx); in == nil || in.ExitCode() != 143 || in.Name() != "SIGTERM" || in.Error() != "interrupted by SIGTERM" {
		t.Errorf("SIGTERM: %v", in)
	}
	ctx, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if in := InterruptedBy(ctx); in == nil || in.ExitCode() != 130 || in.Name() != "SIGINT" {
		t.Errorf("cancelled: %v", in)
	}
}

// TestSeedUsersIsOffTheEdge: no demo binding is within an hour of an age
// of whole days, so a run a second after the seeding finds the same stale
// bindings as one at the seeding's instant.
func TestSeedUsersIsOffTheEdge(t *testing.T) {
	t.Parallel()
	srv := chattest.NewTestServer(t)
	svc := srv.AddService()
	users := SeedUsers(12, 120)(svc)
	now := time.Now()
	n := 0
	for _, b := range svc.Bindings() {
		age := now.Sub(b.DateUpdated)
		if off := age % (24 * time.Hour); off < 30*time.Minute || off > 24*time.Hour-30*time.Minute {
			t.Errorf("a binding %v old: on the edge of a whole number of days", age)
		}
		if age > 30*24*time.Hour {
			n++
		}
	}
	if len(users) != 3 || n != 27 {
		t.Errorf("%d users, %d bindings older than 30 days; want 3 and 27", len(users), n)
	}
}
