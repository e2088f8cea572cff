package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
)

// buildTool compiles this program once per test that runs it as a process.
func buildTool(t testing.TB) string {
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

func (w *world) usersFile(t testing.TB) string {
	t.Helper()
	users := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(users, []byte("# users to clean\n"+strings.Join(w.identities(), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return users
}

func exitStatus(cmd *exec.Cmd) int {
	status, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return status.ExitStatus()
}

func TestAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := buildTool(t)
	w := newWorld(t, 4, 2500)
	injectTrouble(w.srv)
	users := w.usersFile(t)
	// A dry run first: it changes nothing.
	out, err := w.command(bin, "-older-than", "720h", "-file", users).Output()
	if err != nil || !strings.Contains(string(out), "Dry run: scanned 10000, matched 5000") || w.srv.Stats().Removed != 0 {
		t.Fatalf("dry run: %v\n%s", err, tail(string(out)))
	}
	cmd := w.command(bin, "-older-than", "720h", "-apply", "-concurrency", "8", "-file", users)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("apply: %v\n%s\n%s", err, tail(string(out)), tail(stderr.String()))
	}
	if s := parseSummary(t, string(out)); s != (summary{scanned: 10000, matched: 5000, removed: 5000}) {
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
	if err := cmd.Wait(); err == nil || exitStatus(cmd) != 130 {
		t.Fatalf("exit: %v (%d)\n%s", err, exitStatus(cmd), tail(stdout.String()))
	}
	s := parseSummary(t, stdout.String())
	stale, _ := w.left(t)
	if int64(s.removed) != w.srv.Stats().Removed || s.removed+stale != 5000 || s.removed == 5000 || s.failed != 0 {
		t.Errorf("summary %+v, emulator removed %d, %d stale left", s, w.srv.Stats().Removed, stale)
	}
}

// TestResumeAfterSIGKILL kills the tool with SIGKILL halfway through 2,000
// users and starts it again with the same flags and state file: no user the
// state file counts as finished is listed again, no binding gets a second
// DELETE, and every stale binding, and only those, is gone at the end.
func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := buildTool(t)
	w := newWorld(t, 2000, 2)
	w.srv.SetLatency(5 * time.Millisecond) // long enough that the first save (after a second) comes well before the end
	tr := w.watch(t)
	users := w.usersFile(t)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "720h", "-apply", "-concurrency", "16", "-file", users, "-state", state}
	first := w.command(bin, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Halfway, once the state file has been saved at least once.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(state); err == nil && w.srv.Stats().Removed >= 1000 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	killedAt := w.srv.Stats().Removed
	done := finishedUsers(readState(t, state), w.identities())
	tr.reset()
	second := w.command(bin, args...)
	out, err := second.Output()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, tail(string(out)))
	}
	relisted, resent := 0, 0
	for _, u := range done {
		relisted += tr.lists[u]
	}
	for _, n := range tr.deletes {
		if n > 1 {
			resent++
		}
	}
	st := w.srv.Stats()
	stale, fresh := w.left(t)
	// A DELETE cut off by the kill before the emulator served it removed
	// nothing, and the resumed run must send it again; a binding removed
	// twice would have met a 404.
	t.Logf("killed after %d removals; the state file counted %d of 2,000 users finished; resuming: %d list requests for them, "+
		"%d DELETEs answered 404 (removed twice), %d cut off by the kill and sent again, %d stale and %d fresh bindings left",
		killedAt, len(done), relisted, st.RemoveMisses, resent, stale, fresh)
	if len(done) == 0 || len(done) == 2000 || relisted != 0 || st.RemoveMisses != 0 || stale != 0 || st.Removed != 2000 {
		t.Errorf("finished %d, relisted %d, removed twice %d, stale left %d, removed %d", len(done), relisted, st.RemoveMisses, stale, st.Removed)
	}
}
