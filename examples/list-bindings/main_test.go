package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/proctest"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

type world struct {
	srv   *chattest.Server
	svc   *chattest.Service
	users []*chattest.User
}

func newWorld(t testing.TB, perUser int, identities ...string) *world {
	t.Helper()
	srv := chattest.NewServer()
	t.Cleanup(srv.Close)
	w := &world{srv: srv, svc: srv.AddService()}
	types := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	for _, id := range identities {
		u := w.svc.AddUser(id)
		w.users = append(w.users, u)
		for i := 0; i < perUser; i++ {
			u.AddBinding(chattest.Binding{Type: types[i%3], Endpoint: fmt.Sprintf("secret-endpoint-%d", i)})
		}
	}
	return w
}

func (w *world) env(t testing.TB) {
	t.Setenv(client.EnvAccountSID, w.srv.AccountSID)
	t.Setenv(client.EnvAuthToken, w.srv.AuthToken)
	t.Setenv(client.EnvAPIKey, "")
	t.Setenv(client.EnvAPISecret, "")
}

func (w *world) args(extra ...string) []string {
	return append([]string{"-service", w.svc.SID, "-base-url", w.srv.URL}, extra...)
}

func TestTable(t *testing.T) {
	w := newWorld(t, 7, "alice", "Jane Doe/ops@example.com")
	w.env(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args("alice", "Jane Doe/ops@example.com"), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 15 || !strings.HasPrefix(lines[0], "BINDING ") {
		t.Fatalf("table:\n%s", out.String())
	}
	// Fixed-width columns: the USER column starts at the same offset on
	// every line.
	col := strings.Index(lines[0], "USER")
	for _, l := range lines[1:] {
		if len(l) < col || (l[col-2:col] != "  " || l[col] == ' ') {
			t.Errorf("misaligned line %q", l)
		}
	}
	if strings.Count(out.String(), "Jane Doe/ops@example.com\n") != 7 || strings.Contains(out.String(), "secret-endpoint") {
		t.Errorf("table:\n%s", out.String())
	}
	if got := errOut.String(); !strings.Contains(got, "14 binding(s) for 2 user(s): apn 6, gcm 4, fcm 4") {
		t.Errorf("summary: %q", got)
	}
}

func TestJSONLinesFilterAndStdin(t *testing.T) {
	w := newWorld(t, 9, "alice", "bob")
	w.env(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), w.args("-json", "-type", "apn,fcm", "-endpoints", "-page-size", "2"), strings.NewReader("alice\nbob\n"), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	sc := bufio.NewScanner(&out)
	n := 0
	for sc.Scan() {
		var b struct {
			SID, User, BindingType, Endpoint string
			UserSID                          string `json:"user_sid"`
		}
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if b.BindingType == "gcm" || !strings.HasPrefix(b.Endpoint, "secret-endpoint-") || (b.User != "alice" && b.User != "bob") {
			t.Errorf("line %q", sc.Text())
		}
		n++
	}
	if n != 12 || !strings.Contains(errOut.String(), "12 binding(s) for 2 user(s): apn 6, gcm 0, fcm 6") {
		t.Errorf("%d lines; summary %q", n, errOut.String())
	}
}

func TestUnknownUserFailsClearly(t *testing.T) {
	w := newWorld(t, 2, "alice")
	w.env(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), w.args("nobody", "alice"), nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), `user "nobody"`) || !strings.Contains(errOut.String(), "20404") ||
		!strings.Contains(errOut.String(), "1 user(s) could not be listed") || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-type", "voip"}, "-type"},
		{[]string{"-nope"}, "not defined"},
		{[]string{"-page-size", "0", "x"}, "-page-size"},
		{[]string{"-page-size", "5000", "x"}, "-page-size"},
		{[]string{"-page-size", "-1", "x"}, "-page-size"},
		{[]string{"-concurrency", "65", "x"}, "-concurrency"},
		{[]string{"-file", "users.txt", "alice"}, "both as arguments and with -file"},
		{[]string{"-all-users", "alice"}, "-all-users"},
		{[]string{"-service", "nope"}, "-service"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, nil, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) || out.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q", tc.args, code, errOut.String())
		}
	}
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, nil, &bytes.Buffer{}, &errOut); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	for _, flag := range []string{"-all-users", "-concurrency", "-json", "-endpoints", "-page-size", "-type", "-file", "-service", "-base-url", "-version", "-v", "143 SIGTERM", "exit status"} {
		if !strings.Contains(errOut.String(), flag) {
			t.Errorf("-h does not describe %s", flag)
		}
	}
	if strings.Contains(errOut.String(), "remov") {
		t.Errorf("-h speaks of removals, which list-bindings never makes:\n%s", errOut.String())
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, nil, &out, &errOut); code != 0 || out.String() != "list-bindings "+client.Version+"\n" || errOut.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}

// TestEndpointsInTheTable: -endpoints adds an ENDPOINT column to the table,
// escaped like the identity; without it no endpoint is printed.
func TestEndpointsInTheTable(t *testing.T) {
	w := newWorld(t, 3, "alice")
	w.env(t)
	w.users[0].AddBinding(chattest.Binding{Endpoint: "evil\x1b[2J"})
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args("-endpoints", "alice"), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "  ENDPOINT ") || strings.Count(out.String(), "secret-endpoint-") != 3 ||
		!strings.Contains(out.String(), `"evil\x1b[2J"`) || strings.Contains(out.String(), "\x1b") {
		t.Fatalf("table:\n%s", out.String())
	}
	col := strings.Index(lines[0], "USER")
	for _, l := range lines[1:] {
		if !strings.HasSuffix(l, "  alice") || len(l) != col+len("alice") {
			t.Errorf("misaligned line %q", l)
		}
	}
}

// TestAStdoutThatCannotBeWrittenIsAFailure: exit 1 and a message, not 0.
func TestAStdoutThatCannotBeWrittenIsAFailure(t *testing.T) {
	w := newWorld(t, 3, "alice")
	w.env(t)
	var errOut bytes.Buffer
	if code := run(context.Background(), w.args("alice"), nil, failingWriter{}, &errOut); code != 1 || !strings.Contains(errOut.String(), "writing to stdout: no space left") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

// TestVerboseLogsTheClient: -v logs each request of the client to stderr,
// never its credentials.
func TestVerboseLogsTheClient(t *testing.T) {
	w := newWorld(t, 2, "alice")
	w.env(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args("-v", "alice"), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got := errOut.String(); !strings.Contains(got, "level=DEBUG msg=\"twilio request\" method=GET") || !strings.Contains(got, "status=200") || strings.Contains(got, w.srv.AuthToken) {
		t.Errorf("stderr:\n%s", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestServiceWithoutCredentialsIsAUsageError: -service or -base-url means
// the real API; with no credentials that is a mistake, not the demo.
func TestServiceWithoutCredentialsIsAUsageError(t *testing.T) {
	for _, k := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(k, "")
	}
	for _, args := range [][]string{{"-service", "IS0123456789abcdef0123456789abcdef"}, {"-base-url", "http://127.0.0.1:1"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "no TWILIO_* credentials") || out.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

func TestIncompleteCredentialsAreAUsageError(t *testing.T) {
	for _, k := range []string{client.EnvAccountSID, client.EnvAuthToken} {
		t.Setenv(k, "")
	}
	t.Setenv(client.EnvAPIKey, "SK0123456789abcdef0123456789abcdef")
	t.Setenv(client.EnvAPISecret, "secret")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"alice"}, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), client.EnvAccountSID) || out.Len() != 0 {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, out.String(), errOut.String())
	}
}

// TestEachUsersBindingsStayTogether lists 20 users 8 at a time: each
// user's bindings come out as one block.
func TestEachUsersBindingsStayTogether(t *testing.T) {
	var ids []string
	for i := 0; i < 20; i++ {
		ids = append(ids, fmt.Sprintf("user-%02d", i))
	}
	w := newWorld(t, 7, ids...)
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args(append([]string{"-page-size", "3", "-concurrency", "8"}, ids...)...), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")[1:]
	done := map[string]bool{}
	prev := ""
	for _, l := range lines {
		f := strings.Fields(l)
		user := f[len(f)-1]
		if user != prev {
			if done[user] {
				t.Fatalf("%s's bindings are split:\n%s", user, out.String())
			}
			done[prev] = true
			prev = user
		}
	}
	if len(lines) != 140 || !strings.Contains(errOut.String(), "140 binding(s) for 20 user(s)") {
		t.Errorf("%d lines; %s", len(lines), errOut.String())
	}
}

func TestUsersNamedTwiceAreListedOnce(t *testing.T) {
	w := newWorld(t, 4, "alice")
	w.env(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args("-json", "alice", "alice", w.users[0].SID), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Errorf("%d lines for 4 bindings:\n%s", n, out.String())
	}
}

func TestAllUsers(t *testing.T) {
	w := newWorld(t, 5, "alice", "bob", "carol")
	w.env(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args("-all-users", "-json", "-type", "apn,gcm"), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 12 || strings.Contains(out.String(), `"fcm"`) || !strings.Contains(errOut.String(), "12 binding(s) in the service: apn 6, gcm 6, fcm 0") {
		t.Errorf("%d lines\n%s\n%s", n, out.String(), errOut.String())
	}
	if before := w.srv.Stats().Requests; before != 1 {
		t.Errorf("%d requests for 15 bindings in one page", before)
	}
}

// TestIdentitiesCannotForgeRows gives identities with a newline, a carriage
// return and terminal escapes: each binding is still one row, and the
// identity is printed escaped.
func TestIdentitiesCannotForgeRows(t *testing.T) {
	evil := "mallory\nBS00000000000000000000000000000000  apn   2030-01-01T00:00:00Z  2030-01-01T00:00:00Z  admin"
	w := newWorld(t, 2, evil, "cr\rover", "esc\x1b[2J")
	w.env(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), w.args(evil, "cr\rover", "esc\x1b[2J"), nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 7 || strings.ContainsAny(out.String(), "\r\x1b") || !strings.Contains(out.String(), `"mallory\nBS0000`) {
		t.Errorf("%d lines:\n%s", n, out.String())
	}
}

// TestInterruptedListingIsNotAFailure stops a listing of 200 users as
// SIGTERM does: the users not listed are counted in one summary line, not
// reported one by one as failures, and the exit status is 143.
func TestInterruptedListingIsNotAFailure(t *testing.T) {
	var ids []string
	for i := 0; i < 200; i++ {
		ids = append(ids, fmt.Sprintf("user-%03d", i))
	}
	w := newWorld(t, 1, ids...)
	w.env(t)
	w.srv.SetLatency(20 * time.Millisecond)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		for w.srv.Stats().Requests < 20 {
			time.Sleep(time.Millisecond)
		}
		cancel(&cli.Interrupted{Signal: syscall.SIGTERM})
	}()
	var out, errOut bytes.Buffer
	code := run(ctx, w.args(append([]string{"-concurrency", "4"}, ids...)...), nil, &out, &errOut)
	if code != 143 || strings.Contains(errOut.String(), "could not be listed") || strings.Count(errOut.String(), "\n") != 2 ||
		!strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("exit %d\nstderr:\n%s", code, errOut.String())
	}
}

func TestDemoModeWithoutCredentials(t *testing.T) {
	for _, k := range []string{client.EnvAccountSID, client.EnvAuthToken, client.EnvAPIKey, client.EnvAPISecret} {
		t.Setenv(k, "")
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "in-process emulator") || !strings.Contains(errOut.String(), "36 binding(s) for 3 user(s)") {
		t.Errorf("stderr %q", errOut.String())
	}
}

// TestStreamsAHundredThousandAsAProcess runs the built program on 100,000
// bindings and checks that it printed them all without holding them: its
// peak resident memory stays far below what 100,000 decoded bindings take.
func TestStreamsAHundredThousandAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and seeds 100,000 bindings")
	}
	bin := buildTool(t)
	w := newWorld(t, 100_000, "big user")
	cmd := exec.Command(bin, w.args("-json", "big user")...)
	cmd.Env = append(os.Environ(), client.EnvAccountSID+"="+w.srv.AccountSID, client.EnvAuthToken+"="+w.srv.AuthToken, client.EnvAPIKey+"=", client.EnvAPISecret+"=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child's own peak resident memory, from its /proc status while it
	// runs. (Rusage's Maxrss would count the parent's memory too: Go starts
	// children with vfork, so they share the parent's pages until exec.)
	hwm := make(chan int64, 1)
	done := make(chan struct{})
	go func() {
		var peak int64
		for {
			if kb := proctest.VmHWM(cmd.Process.Pid); kb > peak {
				peak = kb
			}
			select {
			case <-done:
				hwm <- peak
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	n := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		n++
	}
	close(done)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if n != 100_000 || !strings.Contains(stderr.String(), "100000 binding(s) for 1 user(s)") {
		t.Fatalf("%d lines; %s", n, stderr.String())
	}
	peak := <-hwm
	if peak == 0 {
		t.Skip("no /proc/<pid>/status on this platform")
	}
	t.Logf("peak RSS %d MiB for 100,000 bindings", peak>>10)
	if peak>>10 > 48 {
		t.Errorf("peak RSS %d MiB: the bindings are being held in memory", peak>>10)
	}
}

// tool is the program, compiled once for the tests that run it as a
// process.
var tool = proctest.Binary{Name: "list-bindings"}

func buildTool(t testing.TB) string {
	t.Helper()
	return tool.Build(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	tool.Remove()
	os.Exit(code)
}

// TestSIGTERMAsAProcess sends SIGTERM, as Kubernetes and systemd do, to the
// running program: it stops as Ctrl-C stops it, with its summary, and
// exits 143.
func TestSIGTERMAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := buildTool(t)
	var ids []string
	for i := 0; i < 400; i++ {
		ids = append(ids, fmt.Sprintf("user-%03d", i))
	}
	w := newWorld(t, 1, ids...)
	w.srv.SetLatency(20 * time.Millisecond)
	cmd := exec.Command(bin, w.args("-concurrency", "2", "-file", "-")...)
	cmd.Env = append(os.Environ(), client.EnvAccountSID+"="+w.srv.AccountSID, client.EnvAuthToken+"="+w.srv.AuthToken, client.EnvAPIKey+"=", client.EnvAPISecret+"=")
	cmd.Stdin = strings.NewReader(strings.Join(ids, "\n"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for w.srv.Stats().Requests < 10 {
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || status.ExitStatus() != 143 || !strings.Contains(stderr.String(), "interrupted: the listing stopped") || !strings.HasPrefix(stdout.String(), "BINDING") {
		t.Errorf("exit %v (%d)\nstdout:\n%s\nstderr:\n%s", err, status.ExitStatus(), stdout.String(), stderr.String())
	}
}
