package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/proctest"

	"github.com/twiliochat/twiliochat-go/client"
)

// program is the tool, compiled once for the tests and benchmarks that run
// it as a process.
var program = proctest.Binary{Name: tool}

func buildTool(t testing.TB) string {
	t.Helper()
	return program.Build(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	program.Remove()
	os.Exit(code)
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
	bin := buildTool(t)
	w := newWorld(t, 4, 500)
	injectTrouble(w.srv)
	users := w.usersFile(t)
	// A dry run first: it changes nothing.
	out, err := w.command(bin, "-older-than", "30d", "-file", users).Output()
	if err != nil || !strings.Contains(string(out), "Dry run: scanned 2000, matched 1000") || w.srv.Stats().Removed != 0 {
		t.Fatalf("dry run: %v\n%s", err, tail(string(out)))
	}
	cmd := w.command(bin, "-older-than", "720h", "-apply", "-concurrency", "8", "-file", users)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("apply: %v\n%s\n%s", err, tail(string(out)), tail(stderr.String()))
	}
	if s := parseSummary(t, string(out)); s != (summary{scanned: 2000, matched: 1000, removed: 1000}) {
		t.Errorf("summary %+v", s)
	}
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale left", stale)
	}
	if strings.Contains(stderr.String(), "\r") || !strings.Contains(stderr.String(), "progress: scanned") {
		t.Errorf("progress to a pipe should be plain lines:\n%s", tail(stderr.String()))
	}
}

// holdDeletes makes the proxy before the world's emulator hold every
// DELETE after the first n until release is called.
func (w *world) holdDeletes(t testing.TB, n int) (release func()) {
	var mu sync.Mutex
	seen := 0
	gate := make(chan struct{})
	w.proxyBefore(t, func(r *http.Request) {
		if r.Method != http.MethodDelete {
			return
		}
		mu.Lock()
		seen++
		hold := seen > n
		mu.Unlock()
		if hold {
			<-gate
		}
	})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return release
}

// TestSignalsAsAProcess stops the running program with SIGINT (Ctrl-C) and
// with SIGTERM (what Kubernetes and systemd send): each decision line is on
// stdout the moment it is decided (the test reads three while every later
// DELETE is held), and either signal stops the run as Ctrl-C does, with
// the summary, a journal a second run resumes from, and exit 130 or 143.
func TestSignalsAsAProcess(t *testing.T) {
	bin := buildTool(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		w := newWorld(t, 1, 400)
		release := w.holdDeletes(t, 3)
		state := filepath.Join(t.TempDir(), "run.state")
		args := []string{"-older-than", "30d", "-apply", "-concurrency", "4", "-state", state, w.users[0].Identity}
		cmd := w.command(bin, args...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		var rest strings.Builder
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		for i := 0; i < 3; i++ {
			select {
			case l := <-lines:
				if !strings.HasPrefix(l, "removed BS") {
					t.Fatalf("line %q", l)
				}
			case <-time.After(time.Minute):
				t.Fatalf("%v: no decision line on stdout after a minute, while the run went on: stdout is buffered", sig)
			}
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // for the signal to land before the held DELETEs go on
		release()
		for l := range lines {
			rest.WriteString(l + "\n")
		}
		err = cmd.Wait()
		want := 128 + int(sig)
		s := parseSummary(t, rest.String())
		stale, _ := w.left(t)
		if exitStatus(cmd) != want || !strings.Contains(rest.String(), fmt.Sprintf("Interrupted (%s): no new listings or removals were started", map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig])) {
			t.Errorf("%v: exit %v (%d), want %d\n%s", sig, err, exitStatus(cmd), want, tail(rest.String()))
		}
		if int64(s.removed) != w.srv.Stats().Removed || stale == 0 || s.notDone == 0 {
			t.Errorf("%v: summary %+v, the emulator removed %d, %d stale left", sig, s, w.srv.Stats().Removed, stale)
		}
		// The journal is whole: a second run resumes from it and finishes.
		out, err := w.command(bin, args...).Output()
		if err != nil || w.srv.Stats().RemoveMisses != 0 {
			t.Fatalf("%v: resuming: %v, %d DELETEs met a binding already gone\n%s", sig, err, w.srv.Stats().RemoveMisses, tail(string(out)))
		}
		if stale, _ := w.left(t); stale != 0 {
			t.Errorf("%v: %d stale left after resuming", sig, stale)
		}
	}
}

// TestASecondSignalExitsAtOnce: a second SIGINT does not wait for the
// removals in flight (held here until the end): the program exits 130 at
// once, as a kill would, and the journal resumes.
func TestASecondSignalExitsAtOnce(t *testing.T) {
	bin := buildTool(t)
	w := newWorld(t, 1, 400)
	release := w.holdDeletes(t, 3)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "30d", "-apply", "-concurrency", "4", "-state", state, w.users[0].Identity}
	cmd := w.command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for w.srv.Stats().Removed < 3 {
		time.Sleep(time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	release()
	if exitStatus(cmd) != 130 || !strings.Contains(stderr.String(), "SIGINT again: exiting now, without waiting for requests in flight") {
		t.Fatalf("exit %d\n%s", exitStatus(cmd), tail(stderr.String()))
	}
	if out, err := w.command(bin, args...).Output(); err != nil || w.srv.Stats().RemoveMisses != 0 {
		t.Fatalf("resuming: %v, %d DELETEs met a binding already gone\n%s", err, w.srv.Stats().RemoveMisses, tail(string(out)))
	}
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale left after resuming", stale)
	}
}

// TestAClosedStdoutStopsTheRun: stdout piped to a reader that goes away
// (| head -1) is a write error that stops the run, with a message and exit
// 1, not a death by SIGPIPE with no summary.
func TestAClosedStdoutStopsTheRun(t *testing.T) {
	bin := buildTool(t)
	w := newWorld(t, 1, 400)
	w.srv.SetLatency(2 * time.Millisecond)
	cmd := w.command(bin, "-older-than", "30d", "-apply", "-concurrency", "2", w.users[0].Identity)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stdout.Close()
	_ = cmd.Wait()
	if exitStatus(cmd) != 1 || !strings.Contains(stderr.String(), "writing to stdout: write /dev/stdout: broken pipe (the run stopped") || w.srv.Stats().Removed >= 200 {
		t.Errorf("exit %d, %d removed\n%s", exitStatus(cmd), w.srv.Stats().Removed, tail(stderr.String()))
	}
}

// TestResumeAfterSIGKILL kills the tool with SIGKILL halfway through 2,000
// users, at the moment the emulator has served a DELETE whose answer the
// tool has not read, and starts it again with the same flags, journal and
// audit: no user the journal counts as finished is listed again, no binding
// gets a DELETE after it was removed, every stale binding (and only those)
// is gone, every removal the emulator served is audited as removed, and the
// one served as the process died is reported removed, not already gone.
func TestResumeAfterSIGKILL(t *testing.T) {
	bin := buildTool(t)
	w := newWorld(t, 2000, 2)
	w.srv.SetLatency(2 * time.Millisecond)
	dir := t.TempDir()
	users, state, audit := w.usersFile(t), filepath.Join(dir, "run.state"), filepath.Join(dir, "audit.jsonl")
	args := []string{"-older-than", "720h", "-apply", "-concurrency", "16", "-file", users, "-state", state, "-audit", audit}
	var first *exec.Cmd
	var mu sync.Mutex
	served := map[string]int{} // binding SID -> DELETEs answered 204
	lists := map[string]int{}  // user -> list requests
	killedOn := ""
	w.proxy(t, func(r *http.Request, status int) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodDelete && status == http.StatusNoContent:
			served[path.Base(r.URL.Path)]++
			if len(served) == 1000 && killedOn == "" {
				killedOn = path.Base(r.URL.Path)
				_ = first.Process.Signal(syscall.SIGKILL) // before the tool reads the answer
			}
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Bindings"):
			lists[path.Base(path.Dir(r.URL.Path))]++
		}
	})
	mu.Lock()
	first = w.command(bin, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	mu.Unlock()
	_ = first.Wait()
	mu.Lock()
	if killedOn == "" {
		mu.Unlock()
		t.Fatalf("the first run ended before it was killed: %v", first.ProcessState)
	}
	done := finishedUsers(t, state, w.identities())
	lists = map[string]int{}
	mu.Unlock()

	out, err := w.command(bin, args...).Output()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, tail(string(out)))
	}
	mu.Lock()
	defer mu.Unlock()
	relisted, twice := 0, 0
	for _, u := range done {
		relisted += lists[u]
	}
	for _, n := range served {
		if n > 1 {
			twice++
		}
	}
	audited := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, audit)), "\n") {
		if strings.Contains(line, `"outcome":"removed"`) {
			audited[line[strings.Index(line, `"sid":"`)+7:][:34]] = true
		}
	}
	unaudited := 0 // every stale binding was removed by the emulator, at a DELETE of one run or the other
	for sid, stale := range w.stale {
		if stale && !audited[sid] {
			unaudited++
		}
	}
	st := w.srv.Stats()
	stale, fresh := w.left(t)
	t.Logf("killed as the emulator served the 1,000th DELETE; the journal counted %d of 2,000 users finished; resuming: %d list requests for them, "+
		"%d DELETEs answered 404, %d bindings removed twice, %d of 2,000 removals not audited as removed, %d stale and %d fresh bindings left",
		len(done), relisted, st.RemoveMisses, twice, unaudited, stale, fresh)
	if len(done) == 0 || len(done) == 2000 || relisted != 0 || st.RemoveMisses != 0 || twice != 0 || stale != 0 || st.Removed != 2000 || unaudited != 0 {
		t.Errorf("finished %d, relisted %d, 404s %d, removed twice %d, stale left %d, removed %d, unaudited %d",
			len(done), relisted, st.RemoveMisses, twice, stale, st.Removed, unaudited)
	}
	// Reported removed, with the type and date its intent recorded.
	if !regexp.MustCompile(`\nremoved `+killedOn+`  (apn|gcm|fcm) +updated 20\d\d-`).MatchString("\n"+string(out)) || strings.Contains("\n"+string(out), "\nalready gone ") {
		t.Errorf("the removal served as the first run died (%s) is not reported removed by the second:\n%s", killedOn, tail(string(out)))
	}
}

// limited runs the program with a file size limit of 2 KiB (SIGXFSZ
// ignored, so a write past it fails with EFBIG): a disk that fills up.
func (w *world) limited(bin string, args ...string) *exec.Cmd {
	cmd := w.command(bin, args...)
	cmd.Path, cmd.Args = "/bin/sh", append([]string{"/bin/sh", "-c", `trap "" XFSZ; ulimit -f 4; exec "$0" "$@"`}, cmd.Args...)
	return cmd
}

// TestFullDisksAsAProcess: a plan, a journal or stdout that can no longer
// be written ends the run with exit 1 and a message, never 0: no plan is
// put in place half written, nothing is removed whose intent the journal
// could not record, and the journal left resumes.
func TestFullDisksAsAProcess(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for ulimit")
	}
	bin := buildTool(t)
	w := newWorld(t, 4, 100) // 200 stale
	users := w.usersFile(t)
	dir := t.TempDir()

	plan := filepath.Join(dir, "plan.jsonl")
	cmd := w.limited(bin, "-older-than", "30d", "-file", users, "-plan", plan)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.Output()
	entries, _ := os.ReadDir(dir)
	if exitStatus(cmd) != 1 || !strings.Contains(stderr.String(), "writing the plan") || !strings.Contains(stderr.String(), "file too large") ||
		strings.Contains(string(out), "Plan written") || len(entries) != 0 {
		t.Errorf("plan: exit %d, %d files left\nstdout:\n%s\nstderr:\n%s", exitStatus(cmd), len(entries), tail(string(out)), tail(stderr.String()))
	}

	state := filepath.Join(dir, "run.state")
	args := []string{"-older-than", "30d", "-apply", "-concurrency", "4", "-file", users, "-state", state}
	cmd = w.limited(bin, args...)
	stderr.Reset()
	cmd.Stderr = &stderr
	out, _ = cmd.Output()
	intents := map[string]bool{}
	for _, rec := range journal(t, state) {
		if rec["intent"] == true {
			intents[rec["sid"].(string)] = true
		}
	}
	removedWithout := 0
	for _, b := range w.users {
		for _, sid := range w.staleOf(b) {
			if !intents[sid] {
				removedWithout++
			}
		}
	}
	stale, _ := w.left(t)
	removedWithout -= stale // those still there were not removed
	if exitStatus(cmd) != 1 || !strings.Contains(stderr.String(), "writing the journal") || stale == 0 || removedWithout != 0 {
		t.Errorf("state: exit %d, %d stale left, %d removed without an intent in the journal\nstdout:\n%s\nstderr:\n%s",
			exitStatus(cmd), stale, removedWithout, tail(string(out)), tail(stderr.String()))
	}
	if out, err := w.command(bin, args...).Output(); err != nil || w.srv.Stats().RemoveMisses != 0 {
		t.Errorf("resuming with room: %v, %d DELETEs met a binding already gone\n%s", err, w.srv.Stats().RemoveMisses, tail(string(out)))
	}
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale left after resuming", stale)
	}

	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	w.srv.SetLatency(5 * time.Millisecond)
	for _, u := range w.users {
		w.addStale(u)
	}
	cmd = w.command(bin, "-older-than", "30d", "-apply", "-file", users)
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = full, &stderr
	_ = cmd.Run()
	if exitStatus(cmd) != 1 || !strings.Contains(stderr.String(), "writing to stdout: write /dev/stdout: no space left on device") {
		t.Errorf("stdout on /dev/full: exit %d\n%s", exitStatus(cmd), tail(stderr.String()))
	}
}
