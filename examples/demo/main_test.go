package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twiliochat/twiliochat-go/client"
)

func TestDemoAgainstTheEmulator(t *testing.T) {
	for _, k := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(k, "")
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, "", "", ""); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		`1. All bindings of "Jane Doe/ops@example.com"`, "   9 binding(s)", "2. Only APN and FCM", "   6 binding(s)",
		"3. Fetch BS", "Endpoint:[redacted]", "4. Remove the 3 GCM bindings", "5. What is left",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "device-token-") {
		t.Error("the demo printed an endpoint")
	}
	last := got[strings.LastIndex(got, "5. What is left"):]
	if !strings.Contains(last, "6 binding(s)") || strings.Contains(last, " gcm ") {
		t.Errorf("after removal:\n%s", last)
	}
}

func TestDemoNeedsAServiceWithRealCredentials(t *testing.T) {
	t.Setenv(client.EnvAccountSID, "AC0123456789abcdef0123456789abcdef")
	t.Setenv(client.EnvAuthToken, "token")
	err := run(context.Background(), &bytes.Buffer{}, "", "", "")
	if err == nil || !strings.Contains(err.Error(), "-service") {
		t.Fatalf("err = %v", err)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := demo([]string{"-h"}, &out, &errOut); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
	help := errOut.String()
	if !strings.HasPrefix(help, "usage: demo [-service IS… -user ID [-remove BS…]]\n") || strings.Contains(help, "Usage of") {
		t.Errorf("-h does not start with the demo's usage line:\n%s", help)
	}
	for _, flag := range []string{"-service", "-user", "-remove", "TWILIO_"} {
		if !strings.Contains(help, flag) {
			t.Errorf("-h does not describe %s:\n%s", flag, help)
		}
	}
	if out.Len() != 0 {
		t.Errorf("-h wrote to stdout: %q", out.String())
	}

	for _, args := range [][]string{{"-nope"}, {"-service"}, {"alice"}} {
		var out, errOut bytes.Buffer
		if code := demo(args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage: demo") || out.Len() != 0 {
			t.Errorf("%q: exit %d, want 2 with the usage on stderr; stderr:\n%s", args, code, errOut.String())
		}
	}
}

// failAfter accepts n bytes, then fails every write, as a full disk does.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n = 0
	return n, errors.New("no space left on device")
}

// TestStdoutThatCannotBeWrittenIsExit1: output lost at the first byte, in
// the middle, or at the last step is exit 1, with the reason on stderr.
// Not parallel: it clears the credentials in the environment.
func TestStdoutThatCannotBeWrittenIsExit1(t *testing.T) {
	for _, k := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(k, "")
	}
	var whole bytes.Buffer
	if code := demo(nil, &whole, &bytes.Buffer{}); code != 0 {
		t.Fatalf("the demo with a working stdout: exit %d", code)
	}
	for _, n := range []int{0, whole.Len() / 2, whole.Len() - 1} {
		var errOut bytes.Buffer
		code := demo(nil, &failAfter{n: n}, &errOut)
		if code != 1 || !strings.Contains(errOut.String(), "demo: writing to stdout: no space left on device") {
			t.Errorf("stdout failing after %d of %d bytes: exit %d, stderr %q; want 1 and the write error", n, whole.Len(), code, errOut.String())
		}
	}
}
