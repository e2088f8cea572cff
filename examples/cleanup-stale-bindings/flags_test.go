package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
)

func TestUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "-older-than is required"},
		{[]string{"-older-than", "-1h"}, "-older-than"},
		{[]string{"-older-than", "1h", "-apply", "-dry-run"}, "contradict"},
		{[]string{"-older-than", "1h", "-concurrency", "0"}, "-concurrency"},
		{[]string{"-older-than", "1h", "-concurrency", "65"}, "-concurrency"},
		{[]string{"-older-than", "1h", "-page-size", "5000"}, "-page-size"},
		{[]string{"-older-than", "1h", "-page-size", "-1"}, "-page-size"},
		{[]string{"-older-than", "1h", "-type", "voip"}, "-type"},
		{[]string{"-older-than", "1h", "-rate", "-1"}, "-rate"},
		{[]string{"-older-than", "1h", "-rate", "NaN"}, "-rate"},
		{[]string{"-older-than", "1h", "-rate", "+Inf"}, "-rate"},
		{[]string{"-older-than", "1h", "-progress", "0s"}, "-progress"},
		{[]string{"-older-than", "1h", "-service", "IS123"}, "-service"},
		{[]string{"-older-than", "1h", "-file", "users.txt", "alice"}, "both as arguments and with -file"},
		{[]string{"-older-than", "1h", "-all-users", "alice"}, "-all-users"},
		{[]string{"-older-than", "1h", "-apply", "-plan", "p.jsonl"}, "-plan"},
		{[]string{"-from-plan", "p.jsonl"}, "add -apply"},
		{[]string{"-apply", "-from-plan", "p.jsonl", "alice"}, "-from-plan lists nothing"},
		{[]string{"-apply", "-from-plan", "p.jsonl", "-all-users"}, "-from-plan lists nothing"},
		{[]string{"-older-than", "1h", "-state", "s.json"}, "with -apply"},
		{[]string{"-older-than", "1h", "-audit", "a.jsonl"}, "with -apply"},
		{[]string{"-older-than", "1h", "-apply", "-state", "x", "-audit", "x"}, "different files"},
		{[]string{"-nope"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), tc.args, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("%q: a usage error wrote to stdout: %q", tc.args, out.String())
		}
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, nil, &bytes.Buffer{}, &errOut); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	for _, flag := range []string{"-older-than", "-apply", "-dry-run", "-rate", "-concurrency", "-all-users", "-state", "-audit", "-plan", "-from-plan",
		"-page-size", "-type", "-file", "-service", "-base-url", "-progress", "-retry-wait", "exit status"} {
		if !strings.Contains(errOut.String(), flag) {
			t.Errorf("-h does not describe %s", flag)
		}
	}
}

// TestIncompleteCredentialsAreAUsageError: with some TWILIO_* credential
// variables set but not a whole set, the tool must not fall back to demo
// data and report success.
func TestIncompleteCredentialsAreAUsageError(t *testing.T) {
	for _, set := range [][2]string{
		{client.EnvAPIKey + "," + client.EnvAPISecret, client.EnvAccountSID},
		{client.EnvAuthToken, client.EnvAccountSID},
		{client.EnvAccountSID, client.EnvAuthToken},
	} {
		for _, v := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
			t.Setenv(v, "")
		}
		for _, v := range strings.Split(set[0], ",") {
			t.Setenv(v, "AC0123456789abcdef0123456789abcdef")
		}
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-older-than", "720h", "-apply", "-service", "IS0123456789abcdef0123456789abcdef"}, nil, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), set[1]) || strings.Contains(out.String(), "removed") || strings.Contains(errOut.String(), "emulator") {
			t.Errorf("%s set: exit %d\nstdout %q\nstderr %q", set[0], code, out.String(), errOut.String())
		}
	}
}

func TestDemoModeWithoutCredentials(t *testing.T) {
	for _, v := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(v, "")
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-older-than", "720h", "-apply", "-rate", "0"}, nil, &out, &errOut)
	if code != 0 || !strings.Contains(errOut.String(), "in-process emulator") || !strings.Contains(out.String(), "matched 27, removed 27") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
}

func TestRateAboveTheBudgetWarns(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	code, _, errOut := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-rate", "40", w.users[0].Identity)
	if code != 0 || !strings.Contains(errOut, "-rate 40 exceeds the service's whole write budget of 30") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	calls := 0
	v, err := retry(context.Background(), time.Microsecond, func() (int, error) {
		if calls++; calls <= 12 {
			return 0, &client.Error{Status: 429}
		}
		return 7, nil
	})
	if err != nil || v != 7 || calls != 13 {
		t.Fatalf("retry = %d, %v after %d calls", v, err, calls)
	}
	for _, tc := range []struct {
		err   error
		calls int
	}{
		{&client.Error{Status: 503}, 6},
		{&client.RequestError{Err: errors.New("reset")}, 6},
		{&client.Error{Status: 403}, 1},
		{&client.Error{Status: 404}, 1},
	} {
		calls = 0
		_, err := retry(context.Background(), time.Microsecond, func() (int, error) { calls++; return 0, tc.err })
		if err == nil || calls != tc.calls {
			t.Errorf("%v: %d calls, %v; want %d", tc.err, calls, err, tc.calls)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	if _, err := retry(ctx, time.Millisecond, func() (int, error) { calls++; return 0, &client.Error{Status: 429} }); err == nil || calls != 1 {
		t.Fatalf("retry went on after cancellation: %d calls", calls)
	}
}
