package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

type world struct {
	srv   *chattest.Server
	svc   *chattest.Service
	users []*chattest.User
}

func newWorld(t *testing.T, perUser int, identities ...string) *world {
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

func (w *world) env(t *testing.T) {
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
	if !strings.HasSuffix(lines[14], "Jane Doe/ops@example.com") || strings.Contains(out.String(), "secret-endpoint") {
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
	for _, args := range [][]string{{"-type", "voip"}, {"-nope"}, {"-page-size", "0", "x"}} {
		var errOut bytes.Buffer
		code := run(context.Background(), args, nil, &bytes.Buffer{}, &errOut)
		if code == 0 || errOut.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
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
	bin := filepath.Join(t.TempDir(), "list-bindings")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
			if kb := vmHWM(cmd.Process.Pid); kb > peak {
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

// vmHWM is a process's peak resident set in KiB, or 0 when unknown.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb
		}
	}
	return 0
}
