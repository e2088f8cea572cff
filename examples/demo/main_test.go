package main

import (
	"bytes"
	"context"
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
