package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
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
		{[]string{"-older-than", "1h", "-apply", "-state", "x", "-audit", "x"}, "-state x and -audit x are the same file"},
		{[]string{"-older-than", "1h", "-apply", "-state", "x", "-audit", "./x"}, "are the same file"},
		{[]string{"-older-than", "1h", "-apply", "-file", "u", "-state", "u"}, "are the same file"},
		{[]string{"-apply", "-from-plan", "p", "-audit", "p"}, "-from-plan p and -audit p are the same file"},
		{[]string{"-nope"}, "flag provided but not defined"},
		{[]string{"-older-than", "1h", "-dry-run=false"}, "-dry-run=false removes nothing by itself: give -apply"},
		{[]string{"-older-than", "1.5d"}, "whole days"},
		{[]string{"-older-than", "-1d"}, "whole days"},
		{[]string{"-older-than", "d"}, "whole days"},
		{[]string{"-older-than", "1d-2h"}, "positive duration"},
		{[]string{"-older-than", "0d"}, "must be positive, e.g. -older-than 30d"},
		{[]string{"-older-than", "1h", "-no-progress", "-1s"}, "-no-progress"},
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
		"-page-size", "-type", "-file", "-service", "-base-url", "-progress", "-retry-wait", "-no-progress", "-json", "-version", "-v", "30d",
		"exit status", "130 interrupted by SIGINT, 143 by SIGTERM"} {
		if !strings.Contains(errOut.String(), flag) {
			t.Errorf("-h does not describe %s", flag)
		}
	}
}

// TestOlderThanTakesDays: -older-than is a Go duration, or whole days
// first, then optionally a duration.
func TestOlderThanTakesDays(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{"720h": 720 * time.Hour, "30d": 30 * day, "1d12h": 36 * time.Hour, "2d30m": 2*day + 30*time.Minute, "90m": 90 * time.Minute} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
		cfg, _, err := parse([]string{"-older-than", in}, io.Discard)
		if err != nil || cfg.olderThan != want {
			t.Errorf("-older-than %s: %v", in, err)
		}
	}
	for _, bad := range []string{"", "d", "1.5d", "+1d", "-1d", "1d-1h", "1dd", "100001d", "1w", "30 d"} {
		if d, err := parseAge(bad); err == nil {
			t.Errorf("%q: %v, want an error", bad, d)
		}
	}
}

// TestTheSameFileByAnotherPathIsAUsageError: -from-plan P -audit P would
// read its own audit lines as plan lines; a link or another spelling of P
// is the same file, and refused as well, before anything is sent.
func TestTheSameFileByAnotherPathIsAUsageError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.jsonl")
	if err := os.WriteFile(plan, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hard, soft := filepath.Join(dir, "hard"), filepath.Join(dir, "soft")
	if err := os.Link(plan, hard); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(plan, soft); err != nil {
		t.Fatal(err)
	}
	for _, audit := range []string{plan, hard, soft, dir + "/./plan.jsonl"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"-apply", "-from-plan", plan, "-audit", audit}, nil, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "are the same file") || out.Len() != 0 {
			t.Errorf("-audit %s: exit %d, %q", audit, code, errOut.String())
		}
	}
	if b, _ := os.ReadFile(plan); string(b) != "{}\n" {
		t.Errorf("the plan was written to: %q", b)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, nil, &out, &errOut); code != 0 || out.String() != "cleanup-stale-bindings "+client.Version+"\n" || errOut.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// TestServiceWithoutCredentialsIsAUsageError: -service IS… -apply with no
// credentials set once ran the demo and printed "removed 27".
func TestServiceWithoutCredentialsIsAUsageError(t *testing.T) {
	for _, v := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(v, "")
	}
	for _, args := range [][]string{{"-service", "IS0123456789abcdef0123456789abcdef"}, {"-base-url", "http://127.0.0.1:1"}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"-older-than", "720h", "-apply", "-rate", "0"}, args...), nil, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "no TWILIO_* credentials are set") || out.Len() != 0 || strings.Contains(errOut.String(), "emulator") {
			t.Errorf("%q: exit %d\nstdout %q\nstderr %q", args, code, out.String(), errOut.String())
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
