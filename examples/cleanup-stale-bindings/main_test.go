package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// world is an emulator with users whose bindings are half stale (updated
// 60 days ago) and half fresh (updated 1 day ago), types cycling.
type world struct {
	srv   *chattest.Server
	svc   *chattest.Service
	users []*chattest.User
	stale map[string]bool
}

func newWorld(t *testing.T, users, perUser int) *world {
	t.Helper()
	srv := chattest.NewServer()
	t.Cleanup(srv.Close)
	w := &world{srv: srv, svc: srv.AddService(), stale: map[string]bool{}}
	now := time.Now().UTC()
	types := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	for i := 0; i < users; i++ {
		u := w.svc.AddUser(fmt.Sprintf("user %d/ops@example.com", i))
		w.users = append(w.users, u)
		for j := 0; j < perUser; j++ {
			old := j%2 == 0
			updated := now.Add(-24 * time.Hour)
			if old {
				updated = now.Add(-60 * 24 * time.Hour)
			}
			sid := u.AddBinding(chattest.Binding{Type: types[j%3], DateUpdated: updated})
			w.stale[sid] = old
		}
	}
	return w
}

func (w *world) identities() []string {
	var ids []string
	for _, u := range w.users {
		ids = append(ids, u.Identity)
	}
	return ids
}

// left counts the stale and fresh bindings still there, and fails the test
// if any fresh binding is gone.
func (w *world) left(t *testing.T) (stale, fresh int) {
	t.Helper()
	for _, u := range w.users {
		for _, b := range u.Bindings() {
			if w.stale[string(b.SID)] {
				stale++
			} else {
				fresh++
			}
		}
	}
	total := len(w.stale)
	if fresh != total/2 {
		t.Errorf("%d fresh bindings left of %d: a binding that matched no filter was removed", fresh, total/2)
	}
	return stale, fresh
}

// useEmulatorAsRealAPI points the tool's "real API" mode at the emulator.
func (w *world) env(t *testing.T) {
	t.Setenv(client.EnvAccountSID, w.srv.AccountSID)
	t.Setenv(client.EnvAuthToken, w.srv.AuthToken)
	t.Setenv(client.EnvAPIKey, "")
	t.Setenv(client.EnvAPISecret, "")
}

func (w *world) args(extra ...string) []string {
	return append([]string{"-service", w.svc.SID, "-base-url", w.srv.URL, "-retry-wait", "1ms", "-progress", "50ms"}, extra...)
}

var summaryRE = regexp.MustCompile(`Summary: scanned (\d+), matched (\d+), removed (\d+), already gone (\d+), failed (\d+)(?:, not started (\d+))?`)

type summary struct{ scanned, matched, removed, gone, failed, notStarted int }

func parseSummary(t *testing.T, out string) summary {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in output:\n%s", tail(out))
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	return summary{n(1), n(2), n(3), n(4), n(5), n(6)}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

func injectTrouble(srv *chattest.Server) {
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, RetryAfter: "0", Times: 40})
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 503, Times: 20})
	srv.Inject(chattest.Fault{Method: "GET", Status: 429, Times: 3})
	srv.Inject(chattest.Fault{Method: "GET", Status: 503, Times: 2})
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, Times: 30}) // no Retry-After: backoff
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 502, Body: "<html>proxy</html>", ContentType: "text/html", Times: 10})
}

func TestRemovesExactlyTheStaleBindingsThroughFaults(t *testing.T) {
	w := newWorld(t, 4, 5000) // 20,000 bindings, 10,000 stale
	w.env(t)
	injectTrouble(w.srv)
	var out, errOut bytes.Buffer
	code := run(context.Background(), w.args("-older-than", "720h", "-apply", "-concurrency", "8", "-page-size", "50"), strings.NewReader(strings.Join(w.identities(), "\n")), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, tail(out.String()), tail(errOut.String()))
	}
	s := parseSummary(t, out.String())
	if s != (summary{scanned: 20000, matched: 10000, removed: 10000}) {
		t.Errorf("summary %+v", s)
	}
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale bindings left", stale)
	}
	st := w.srv.Stats()
	if st.Removed != 10000 || w.srv.PendingFaults() != 0 {
		t.Errorf("emulator removed %d; %d faults unused", st.Removed, w.srv.PendingFaults())
	}
	if !strings.Contains(out.String(), "rate-limited") || !strings.Contains(errOut.String(), "progress: scanned") {
		t.Errorf("no rate-limit count or progress:\n%s", tail(errOut.String()))
	}
}

func TestDryRunRemovesNothing(t *testing.T) {
	w := newWorld(t, 2, 100)
	w.env(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), w.args(append([]string{"-older-than", "720h"}, w.identities()...)...), nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "would remove BS"); n != 100 {
		t.Errorf("%d would-remove lines, want 100", n)
	}
	if !strings.Contains(out.String(), "Dry run: scanned 200, matched 100 (would remove 100); nothing was removed") {
		t.Errorf("summary:\n%s", tail(out.String()))
	}
	if st := w.srv.Stats(); st.Removed != 0 || st.RemoveMisses != 0 {
		t.Errorf("a dry run sent DELETEs: %+v", st)
	}
	if stale, _ := w.left(t); stale != 100 {
		t.Errorf("%d stale left", stale)
	}
}

func TestTypeFilterIsHonoured(t *testing.T) {
	w := newWorld(t, 1, 300)
	w.env(t)
	var out bytes.Buffer
	if code := run(context.Background(), w.args("-older-than", "720h", "-apply", "-type", "apn", w.users[0].Identity), nil, &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, b := range w.users[0].Bindings() {
		if w.stale[string(b.SID)] && b.BindingType == chat.BindingTypeAPN {
			t.Fatalf("stale apn binding %s left", b.SID)
		}
	}
	stale, _ := w.left(t)
	if s := parseSummary(t, out.String()); stale != 100 || s.removed != 50 {
		t.Errorf("%d stale left, summary %+v", stale, s)
	}
}

func TestInterruptionLeavesACorrectSummary(t *testing.T) {
	w := newWorld(t, 2, 5000)
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for w.srv.Stats().Removed < 500 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	var out bytes.Buffer
	code := run(ctx, w.args("-older-than", "720h", "-apply", "-concurrency", "4", "-page-size", "50", w.users[0].Identity, w.users[1].Identity), nil, &out, &bytes.Buffer{})
	if code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	s := parseSummary(t, out.String())
	st := w.srv.Stats()
	stale, _ := w.left(t)
	if int64(s.removed) != st.Removed || s.removed+stale != 5000 || s.failed != 0 || s.removed+s.gone+s.notStarted != s.matched {
		t.Errorf("summary %+v, emulator removed %d, %d stale left", s, st.Removed, stale)
	}
	if s.removed >= 5000 || !strings.Contains(out.String(), "Interrupted: no new removals were started") {
		t.Errorf("the run was not interrupted: %+v", s)
	}
}

func TestRemovedMeanwhileCountsAsGone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2)
	c, err := w.srv.Client(client.WithRetryWait(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cl := newCleaner(&config{apply: true, olderThan: time.Hour, concurrency: 1, retryWait: time.Millisecond}, chat.New(c).Services(w.svc.SID), &bytes.Buffer{})
	b := w.users[0].Bindings()
	w.users[0].RemoveBinding(string(b[0].SID)) // someone else got there first
	cl.remove(context.Background(), job{w.users[0].Identity, &b[0]})
	cl.remove(context.Background(), job{w.users[0].Identity, &b[1]})
	if cl.gone.Load() != 1 || cl.removed.Load() != 1 || cl.failed.Load() != 0 {
		t.Errorf("gone %d removed %d failed %d", cl.gone.Load(), cl.removed.Load(), cl.failed.Load())
	}
}

func TestStaleNeedsEveryFilter(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := &cleaner{cfg: &config{Flags: cli.Flags{Types: []chat.BindingType{chat.BindingTypeAPN}}}, cutoff: now.Add(-time.Hour)}
	old := now.Add(-2 * time.Hour)
	cases := []struct {
		b    chat.UserBinding
		want bool
	}{
		{chat.UserBinding{SID: "BS1", BindingType: chat.BindingTypeAPN, DateUpdated: old}, true},
		{chat.UserBinding{SID: "BS1", BindingType: chat.BindingTypeFCM, DateUpdated: old}, false},
		{chat.UserBinding{SID: "BS1", BindingType: chat.BindingTypeAPN, DateUpdated: now}, false},
		{chat.UserBinding{SID: "BS1", BindingType: chat.BindingTypeAPN}, false}, // unknown age
		{chat.UserBinding{BindingType: chat.BindingTypeAPN, DateUpdated: old}, false},
	}
	for i, tc := range cases {
		if got := c.stale(&tc.b); got != tc.want {
			t.Errorf("case %d: stale = %v", i, got)
		}
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"-older-than", "-1h"}, {"-older-than", "1h", "-apply", "-dry-run"}, {"-older-than", "1h", "-concurrency", "0"}, {"-older-than", "1h", "-type", "voip"}, {"-nope"}} {
		var errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &bytes.Buffer{}, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

// buildTool compiles this program once per test that runs it as a process.
func buildTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cleanup-stale-bindings")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func (w *world) command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, w.args(args...)...)
	cmd.Env = append(os.Environ(), client.EnvAccountSID+"="+w.srv.AccountSID, client.EnvAuthToken+"="+w.srv.AuthToken, client.EnvAPIKey+"=", client.EnvAPISecret+"=")
	return cmd
}

func TestAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := buildTool(t)
	w := newWorld(t, 4, 5000)
	injectTrouble(w.srv)
	users := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(users, []byte("# users to clean\n"+strings.Join(w.identities(), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A dry run first: it changes nothing.
	out, err := w.command(bin, "-older-than", "720h", "-file", users).Output()
	if err != nil || !strings.Contains(string(out), "Dry run: scanned 20000, matched 10000") || w.srv.Stats().Removed != 0 {
		t.Fatalf("dry run: %v\n%s", err, tail(string(out)))
	}
	cmd := w.command(bin, "-older-than", "720h", "-apply", "-concurrency", "8", "-file", users)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("apply: %v\n%s\n%s", err, tail(string(out)), tail(stderr.String()))
	}
	if s := parseSummary(t, string(out)); s != (summary{scanned: 20000, matched: 10000, removed: 10000}) {
		t.Errorf("summary %+v", s)
	}
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale left", stale)
	}
	if strings.Contains(stderr.String(), "\r") || !strings.Contains(stderr.String(), "progress: scanned") {
		t.Errorf("progress to a pipe should be plain lines:\n%s", tail(stderr.String()))
	}
}

func TestInterruptAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := buildTool(t)
	w := newWorld(t, 1, 10000)
	w.srv.SetLatency(2 * time.Millisecond)
	cmd := w.command(bin, "-older-than", "720h", "-apply", "-concurrency", "4", w.users[0].Identity)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for w.srv.Stats().Removed < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || status.ExitStatus() != 130 {
		t.Fatalf("exit: %v (%d)\n%s", err, status.ExitStatus(), tail(stdout.String()))
	}
	s := parseSummary(t, stdout.String())
	stale, _ := w.left(t)
	if int64(s.removed) != w.srv.Stats().Removed || s.removed+stale != 5000 || s.removed == 5000 || s.failed != 0 {
		t.Errorf("summary %+v, emulator removed %d, %d stale left", s, w.srv.Stats().Removed, stale)
	}
}

func TestRetryNeverGivesUpOnRateLimits(t *testing.T) {
	t.Parallel()
	lim := throttle{min: time.Microsecond}
	var throttled atomic.Int64
	calls := 0
	v, err := retry(context.Background(), &lim, &throttled, func() (int, error) {
		if calls++; calls <= 25 {
			return 0, &client.Error{Status: 429, RetryAfter: time.Microsecond}
		}
		return 7, nil
	})
	if err != nil || v != 7 || throttled.Load() != 25 {
		t.Fatalf("retry = %d, %v after %d rate limits", v, err, throttled.Load())
	}
	calls = 0
	_, err = retry(context.Background(), &lim, &throttled, func() (int, error) {
		calls++
		return 0, &client.Error{Status: 503}
	})
	if err == nil || calls != 6 {
		t.Fatalf("server errors: %d calls, %v; want 6 and the error", calls, err)
	}
	calls = 0
	_, err = retry(context.Background(), &lim, &throttled, func() (int, error) {
		calls++
		return 0, &client.Error{Status: 403}
	})
	if err == nil || calls != 1 {
		t.Fatalf("a 403 was retried %d times", calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = retry(ctx, &lim, &throttled, func() (int, error) { return 0, &client.Error{Status: 429} })
	if err == nil {
		t.Fatal("retry went on after cancellation")
	}
}

func TestProgressModes(t *testing.T) {
	t.Parallel()
	c := newCleaner(&config{retryWait: time.Millisecond}, chat.ServiceHandle{}, &bytes.Buffer{})
	c.scanned.Store(42)
	c.removed.Store(7)
	for _, tty := range []bool{true, false} {
		var w bytes.Buffer
		stop := startProgress(c, &w, tty, 20*time.Millisecond)
		time.Sleep(600 * time.Millisecond)
		stop()
		out := w.String()
		lines := strings.Count(out, "progress: scanned 42  matched 0  removed 7")
		if tty && (lines < 2 || !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1) {
			t.Errorf("terminal: %q", out)
		}
		if !tty && (lines < 2 || strings.Contains(out, "\r") || strings.Count(out, "\n") != lines) {
			t.Errorf("pipe: %q", out)
		}
	}
}
