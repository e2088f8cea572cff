package main

// One test per defect of issue 17's list (and the long users line), each
// named for what now holds. Tests that run the program as a process are in
// process_test.go; flag checks are in flags_test.go.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// Defect 1: a binding refreshed while its DELETE waits out a 429 was
// removed anyway, reported removed with its old date. The DELETE is never
// sent again blind: the binding is read again first, and kept.
func TestARefreshDuringA429IsKept(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	u := w.users[0]
	sid := w.staleOf(u)[0]
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, RetryAfter: "0", Times: 3})
	deletes := 0
	w.proxy(t, func(r *http.Request, status int) {
		if r.Method == http.MethodDelete {
			deletes++
			if status == http.StatusTooManyRequests {
				u.RefreshBinding(sid, time.Now()) // the device registers again while the DELETE waits
			}
		}
	})
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", u.Identity)
	if s := parseSummary(t, out); code != 0 || s != (summary{scanned: 2, matched: 1, kept: 1}) || !strings.Contains(out, "kept "+sid+"  refreshed: updated "+time.Now().UTC().Format("2006-01-02")) {
		t.Fatalf("exit %d, summary %+v\n%s", code, s, out)
	}
	if len(u.Bindings()) != 2 || deletes != 1 {
		t.Errorf("%d bindings left, %d DELETEs: the refreshed binding must stay, after one DELETE answered 429", len(u.Bindings()), deletes)
	}
}

// Defect 2: an interrupted -all-users resume dropped from its state the
// failed removals it had not retried yet, and the next run exited 0 with
// 19 of 20 stale bindings left.
func TestAnInterruptedResumeKeepsTheFailedRemovals(t *testing.T) {
	w := newWorld(t, 1, 40) // 20 stale
	w.env(t)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "30d", "-apply", "-all-users", "-concurrency", "1", "-state", state}
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 403, Times: 20})
	if code, out, _ := w.run(t, context.Background(), "", args...); code != 1 || parseSummary(t, out).failed != 20 {
		t.Fatalf("first run: exit %d\n%s", code, tail(out))
	}
	w.srv.SetLatency(5 * time.Millisecond)
	code, out, _ := w.run(t, w.cancelAfter(t, 1), "", args...)
	if s := parseSummary(t, out); code != 130 || s.removed == 0 || s.removed >= 20 {
		t.Fatalf("second run: exit %d, summary %+v\n%s", code, s, tail(out))
	}
	w.srv.SetLatency(0)
	code, out, _ = w.run(t, context.Background(), "", args...)
	if stale, _ := w.left(t); code != 0 || stale != 0 || w.srv.Stats().RemoveMisses != 0 {
		t.Fatalf("third run: exit %d, %d stale left, %d DELETEs met a binding already gone\n%s", code, stale, w.srv.Stats().RemoveMisses, tail(out))
	}
}

// Defect 3: a state was matched to its users by hashing the first names it
// counted done (none when it counted none), so a state of users a0..a9 was
// taken for b0..b9, which were then never listed. The journal records each
// finished user by a hash of its own name.
func TestAJournalOfOtherUsersSkipsNoneOfThem(t *testing.T) {
	var a, b []string
	for i := 0; i < 10; i++ {
		a, b = append(a, fmt.Sprintf("a%d", i)), append(b, fmt.Sprintf("b%d", i))
	}
	w := newWorld(t, 0, 0)
	for _, id := range append(append([]string{}, a...), b...) {
		u := w.svc.AddUser(id)
		w.users = append(w.users, u)
		w.addStale(u)
	}
	w.env(t)
	tr := w.watch(t)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "30d", "-apply", "-state", state}
	if code, out, _ := w.run(t, context.Background(), "", append(args, a...)...); code != 0 || parseSummary(t, out).removed != 10 {
		t.Fatalf("a: exit %d\n%s", code, out)
	}
	tr.reset()
	code, out, errOut := w.run(t, context.Background(), "", append(args, b...)...)
	if s := parseSummary(t, out); code != 0 || s.removed != 10 || len(tr.lists) != 10 {
		t.Fatalf("b: exit %d, summary %+v, %d users listed\n%s\n%s", code, s, len(tr.lists), out, errOut)
	}
	tr.reset()
	code, out, errOut = w.run(t, context.Background(), "", append(args, a...)...)
	if code != 0 || len(tr.lists) != 0 || !strings.Contains(errOut, "Resumed: 10 users or plan lines") || !strings.Contains(out, "scanned 0") {
		t.Errorf("a again: exit %d, %d users listed\n%s\n%s", code, len(tr.lists), out, errOut)
	}
}

// Defect 5: the tool's own retry ignored a Retry-After beyond its limit
// and retried 429s without end (7 requests in 5 s when asked to wait an
// hour). Such a 429 fails the removal at once.
func TestARetryAfterOfAnHourFailsTheRemoval(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, RetryAfter: "3600", Times: 100})
	tr := w.watch(t)
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", w.users[0].Identity)
	if s := parseSummary(t, out); code != 1 || s.failed != 1 || len(tr.deletes) != 1 || !strings.Contains(out, "failed BS") || !strings.Contains(out, "429") {
		t.Errorf("exit %d, summary %+v, DELETEs %v\n%s", code, s, tr.deletes, out)
	}
}

// Defects 6 and 7: a plan, or a state, that could not be written: exit 0,
// "Plan written", everything removed. A file that cannot be created is
// refused before anything is sent; one that fails during the run is in
// TestFullDisksAsAProcess.
func TestFilesThatCannotBeCreatedAreRefused(t *testing.T) {
	w := newWorld(t, 1, 4)
	w.env(t)
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-older-than", "30d", "-plan", filepath.Join(notDir, "plan.jsonl"), w.users[0].Identity},
		{"-older-than", "30d", "-apply", "-state", filepath.Join(notDir, "run.state"), w.users[0].Identity},
		{"-older-than", "30d", "-apply", "-audit", filepath.Join(notDir, "audit.jsonl"), w.users[0].Identity},
	} {
		code, out, errOut := w.run(t, context.Background(), "", args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "not a directory") || w.srv.Stats().Requests != 0 {
			t.Errorf("%q: exit %d, %d requests\n%s\n%s", args, code, w.srv.Stats().Requests, out, errOut)
		}
	}
	// Users that cannot be read, found before anything is sent: exit 2 too.
	long := filepath.Join(t.TempDir(), "long.txt")
	if err := os.WriteFile(long, []byte(strings.Repeat("x", cli.MaxLine+1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{filepath.Dir(notDir): "is a directory", long: "line 1 of -file " + long + " is longer than 1 MiB"} {
		code, out, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", "-file", file)
		if code != 2 || out != "" || !strings.Contains(errOut, want) || w.srv.Stats().Requests != 0 {
			t.Errorf("-file %s: exit %d\n%s\n%s", file, code, out, errOut)
		}
	}
}

// Defect 8: audit write errors (a full disk) were dropped silently, exit 0.
// The first one ends the run, and says so.
func TestAnAuditOnAFullDiskEndsTheRun(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	w := newWorld(t, 4, 100)
	w.env(t)
	code, out, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "30d", "-apply", "-concurrency", "2", "-audit", "/dev/full"}, w.identities()...)...)
	s := parseSummary(t, out)
	if code != 1 || !strings.Contains(errOut, "cleanup: writing the audit: write /dev/full: no space left on device") || s.removed > 4 || s.notDone == 0 {
		t.Errorf("exit %d, summary %+v\n%s", code, s, tail(errOut))
	}
}

// Defect 10: a state file's cutoff was trusted even when it contradicted
// its own older_than (bindings a day old removed under -older-than 720h).
func TestAJournalWhoseCutoffContradictsItsAgeIsRefused(t *testing.T) {
	w := newWorld(t, 2, 4)
	w.env(t)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "720h", "-apply", "-state", state}
	if code, _, errOut := w.run(t, context.Background(), "", append(args, w.users[0].Identity)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, state)), "\n") {
		if strings.Contains(l, `"cutoff"`) {
			now := time.Now().UTC().Truncate(time.Second)
			b, _ := json.Marshal(map[string]time.Time{"cutoff": now.Add(-2 * time.Hour), "api_time": now})
			l = string(b)
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(state, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := w.srv.Stats().Requests
	code, out, errOut := w.run(t, context.Background(), "", append(args, w.users[1].Identity)...)
	if code != 2 || out != "" || !strings.Contains(errOut, "has a cutoff that is not older_than (720h0m0s) before the API time") || w.srv.Stats().Requests != before {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// failingWriter is a stdout that takes n writes, then fails every one.
type failingWriter struct {
	mu sync.Mutex
	n  int
}

func (f *failingWriter) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return 0, syscall.ENOSPC
	}
	f.n--
	return len(b), nil
}

// Defect 11: stdout write errors were ignored, exit 0. The first one stops
// the run (decisions nobody can see are not made), and exit is 1.
func TestAStdoutThatFailsStopsTheRun(t *testing.T) {
	w := newWorld(t, 4, 100)
	w.env(t)
	var errOut bytes.Buffer
	code := run(context.Background(), w.args(append([]string{"-older-than", "30d", "-apply", "-concurrency", "2"}, w.identities()...)...), nil, &failingWriter{n: 3}, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "writing to stdout: no space left on device (the run stopped") || w.srv.Stats().Removed > 8 {
		t.Errorf("exit %d, %d removed\n%s", code, w.srv.Stats().Removed, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), w.args("-older-than", "30d", w.users[0].Identity), nil, &failingWriter{n: 1000}, &errOut); code != 0 {
		t.Errorf("a stdout that works: exit %d\n%s", code, errOut.String())
	}
}

// Defect 12: a resumed walk retried a failed SID and met it again on a
// re-listed page: two DELETEs, its own removal counted "already gone".
func TestAResumedWalkRemovesAFailedBindingOnce(t *testing.T) {
	w := newWorld(t, 2, 10) // one page
	w.env(t)
	tr := w.watch(t)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "30d", "-apply", "-all-users", "-state", state}
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 403})
	if code, out, _ := w.run(t, context.Background(), "", args...); code != 1 || parseSummary(t, out) != (summary{scanned: 20, matched: 10, removed: 9, failed: 1}) {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	code, out, _ := w.run(t, context.Background(), "", args...)
	if s := parseSummary(t, out); code != 0 || s.removed != 1 || s.gone != 0 || s.matched != 1 {
		t.Fatalf("second run: exit %d, summary %+v\n%s", code, s, out)
	}
	for p, n := range tr.deletes {
		if n > 2 {
			t.Errorf("%s: %d DELETEs", path.Base(p), n)
		}
	}
	if stale, _ := w.left(t); stale != 0 || w.srv.Stats().RemoveMisses != 0 {
		t.Errorf("%d stale left, %d DELETEs met a binding already gone", stale, w.srv.Stats().RemoveMisses)
	}
}

// Defect 13: a duplicated plan line: two DELETEs. A plan whose lines do not
// add up to its last line is refused; one edited to agree (count and
// digest) has each binding removed once.
func TestADuplicatedPlanLineIsRemovedOnce(t *testing.T) {
	w := newWorld(t, 2, 6)
	w.env(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.jsonl")
	if code, _, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "30d", "-plan", plan}, w.identities()...)...); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, plan)), "\n")
	dup := append(append([]string{}, lines[:2]...), lines[1:]...) // line 2 twice
	edited := filepath.Join(dir, "edited.jsonl")
	if err := os.WriteFile(edited, []byte(strings.Join(dup, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := w.run(t, context.Background(), "", "-apply", "-from-plan", edited)
	if code != 2 || out != "" || !strings.Contains(errOut, "counts 6 bindings, but the plan has 7: lines were added or removed") || w.srv.Stats().Removed != 0 {
		t.Fatalf("a duplicated line: exit %d\n%s\n%s", code, out, errOut)
	}
	sum := sha256.Sum256([]byte(strings.Join(dup[:len(dup)-1], "\n") + "\n")) // the last line's digest of the lines before it
	b, _ := json.Marshal(map[string]any{"end": true, "lines": 7, "finished": true, "sha256": hex.EncodeToString(sum[:])})
	dup[len(dup)-1] = string(b)
	agreed := filepath.Join(dir, "agreed.jsonl")
	if err := os.WriteFile(agreed, []byte(strings.Join(dup, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = w.run(t, context.Background(), "", "-apply", "-from-plan", agreed)
	if s := parseSummary(t, out); code != 0 || s.removed != 6 || s.gone != 0 || w.srv.Stats().RemoveMisses != 0 {
		t.Errorf("an agreed duplicate: exit %d, summary %+v, %d DELETEs met a binding already gone\n%s", code, s, w.srv.Stats().RemoveMisses, errOut)
	}
}

// Defect 15: a dry run that found nothing wrote a plan that -from-plan
// refused. It applies: nothing to do, exit 0.
func TestAnEmptyPlanApplies(t *testing.T) {
	w := newWorld(t, 2, 4)
	w.env(t)
	plan := filepath.Join(t.TempDir(), "plan.jsonl")
	code, out, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "365d", "-plan", plan}, w.identities()...)...)
	if code != 0 || !strings.Contains(out, "matched 0") || !strings.Contains(out, "Plan written to "+plan) {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = w.run(t, context.Background(), "", "-apply", "-from-plan", plan)
	if s := parseSummary(t, out); code != 0 || s != (summary{}) {
		t.Errorf("apply: exit %d, summary %+v\n%s\n%s", code, s, out, errOut)
	}
}

// bytesRead is how many bytes this process has read with read(2), or -1
// when the system does not say.
func bytesRead() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -1
}

// Defect 16: a 1 GiB file given as -state was read whole before it was
// refused. It is refused having read at most a line (1 MiB): this process
// reads under 16 MiB in all, and allocates under 64 MiB. (Not parallel: it
// counts the whole process's reads.)
func TestAGiBStateIsRefusedUnread(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	state := filepath.Join(t.TempDir(), "huge.state")
	f, err := os.Create(state)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	read := bytesRead()
	code, out, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", "-state", state, w.users[0].Identity)
	readNow := bytesRead() - read
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if code != 2 || out != "" || !strings.Contains(errOut, "is not a journal of this package") || w.srv.Stats().Requests != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("refused after reading %d KiB and allocating %d KiB", readNow>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
	if read >= 0 && readNow > 16<<20 {
		t.Errorf("%d MiB read to refuse it", readNow>>20)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("%d MiB allocated to refuse it", n>>20)
	}
}

// Defect 17: -plan F checked that F was new at the start, then renamed over
// a file created at F during the run. That file is left as it is, and the
// plan is kept beside it, in the file the message names.
func TestAPlanNeverOverwritesAFileMadeDuringTheRun(t *testing.T) {
	w := newWorld(t, 1, 4)
	w.env(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.jsonl")
	var once sync.Once
	w.proxy(t, func(*http.Request, int) {
		once.Do(func() { _ = os.WriteFile(plan, []byte("someone else's\n"), 0o600) })
	})
	code, out, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-plan", plan, w.users[0].Identity)
	if code != 1 || strings.Contains(out, "Plan written") || !strings.Contains(errOut, "was created by something else during the run, and is left as it is") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := readFile(t, plan); got != "someone else's\n" {
		t.Errorf("the file made during the run was overwritten: %q", got)
	}
	kept := errOut[strings.Index(errOut, "this run's plan is in ")+len("this run's plan is in "):]
	kept = strings.TrimSpace(kept)
	if lines := strings.Count(readFile(t, kept), "\n"); filepath.Dir(kept) != dir || lines != 4 {
		t.Errorf("the plan kept in %s has %d lines; want the header, 2 bindings and the last line", kept, lines)
	}
}

// Defect 18: resuming a finished 100,000-line plan kept an entry per line,
// and the state grew from 196 bytes to 1 MB. A finished plan's journal
// keeps only that it finished, however long the plan.
func TestAFinishedPlanKeepsASmallJournal(t *testing.T) {
	w := newWorld(t, 10, 100) // 500 stale
	w.env(t)
	dir := t.TempDir()
	plan, state := filepath.Join(dir, "plan.jsonl"), filepath.Join(dir, "run.state")
	if code, _, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-all-users", "-plan", plan); code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	args := []string{"-apply", "-from-plan", plan, "-state", state, "-concurrency", "16"}
	if code, out, _ := w.run(t, context.Background(), "", args...); code != 0 || parseSummary(t, out).removed != 500 {
		t.Fatalf("apply: exit %d\n%s", code, tail(out))
	}
	for i := 0; i < 2; i++ {
		before := w.srv.Stats().Requests
		code, out, _ := w.run(t, context.Background(), "", args...)
		size := len(readFile(t, state))
		if code != 0 || w.srv.Stats().Requests != before || size > 512 || parseSummary(t, out) != (summary{}) {
			t.Errorf("resumed %d: exit %d, %d requests, a journal of %d bytes\n%s", i+1, code, w.srv.Stats().Requests-before, size, out)
		}
	}
}

// The long users line: a users file's line longer than 1 MiB was split,
// and its pieces (one of them empty) listed as users. It ends the run, with
// a message naming the line, before any of it is used; the users before it
// are done, none after it.
func TestAUsersLineLongerThanAMiBEndsTheRun(t *testing.T) {
	w := newWorld(t, 3, 2)
	w.env(t)
	tr := w.watch(t)
	ids := w.identities()
	file := filepath.Join(t.TempDir(), "users.txt")
	content := ids[0] + "\n# a comment\n" + ids[1] + "\n" + strings.Repeat("x", cli.MaxLine+10) + "\n" + ids[2] + "\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", "-concurrency", "1", "-file", file)
	if code != 1 || !strings.Contains(errOut, "line 4 of -file "+file+" is longer than 1 MiB") || strings.Contains(out, "Interrupted") {
		t.Errorf("exit %d\n%s\n%s", code, tail(out), tail(errOut))
	}
	if len(tr.lists) != 2 || tr.lists[ids[0]] != 1 || tr.lists[ids[1]] != 1 {
		t.Errorf("listed %v; want exactly the two users before the long line", tr.lists)
	}
}

// Operators' expectation: decision lines reach stdout as they are decided,
// not at the end: at the first line, most of the run is still to do.
func TestLinesComeAsDecided(t *testing.T) {
	w := newWorld(t, 10, 20) // 100 stale
	w.env(t)
	var staleAtFirst atomic.Int64
	staleAtFirst.Store(-1)
	stdout := writerFunc(func(b []byte) (int, error) {
		if staleAtFirst.Load() < 0 {
			stale, _ := w.left(t)
			staleAtFirst.Store(int64(stale))
		}
		return len(b), nil
	})
	var errOut bytes.Buffer
	if code := run(context.Background(), w.args(append([]string{"-older-than", "30d", "-apply", "-concurrency", "2"}, w.identities()...)...), nil, stdout, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if n := staleAtFirst.Load(); n < 90 {
		t.Errorf("at the first line on stdout, %d of 100 stale bindings were left: lines came late", n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// Operators' expectation: a run that makes no progress for -no-progress
// (an API answering 429 to everything) ends, saves its journal, says why,
// and exits 1; today's retries of 429s went on for ever.
func TestNoProgressEndsTheRun(t *testing.T) {
	w := newWorld(t, 2, 4)
	w.env(t)
	state := filepath.Join(t.TempDir(), "run.state")
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, Times: 1 << 30})
	code, out, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "30d", "-apply", "-state", state, "-no-progress", "300ms"}, w.identities()...)...)
	if code != 1 || !strings.Contains(errOut, "nothing moved for 300ms (-no-progress); the run stopped, and its journal is saved in -state "+state) || parseSummary(t, out).notDone != 4 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if j := journal(t, state); len(j) < 2 || j[0]["journal"] != 1.0 {
		t.Errorf("journal %v", j)
	}
}

// TestNoProgressEndsARunWhoseListingsAll5xx: an API answering 503 to
// every request ends the run after -no-progress, though each failed
// listing is an outcome (which once counted as progress, so a users file
// of a million names would have been tried name by name).
func TestNoProgressEndsARunWhoseListingsAll5xx(t *testing.T) {
	w := newWorld(t, 150, 1)
	w.env(t)
	w.srv.Inject(chattest.Fault{Status: 503, Times: 1 << 30})
	code, out, errOut := w.run(t, context.Background(), strings.Join(w.identities(), "\n"), "-older-than", "30d", "-apply", "-retry-wait", "1ms", "-concurrency", "1", "-no-progress", "300ms")
	if code != 1 || !strings.Contains(errOut, "nothing moved for 300ms (-no-progress)") {
		t.Fatalf("exit %d\n%s\n%s", code, tail(out), tail(errOut))
	}
	if n := w.srv.Stats().Requests; n >= 150*7 {
		t.Errorf("%d requests: every user was tried", n)
	}
}

// Operators' expectation: -json prints one object per outcome, and a last
// one with the summary, for scripts.
func TestJSONOutput(t *testing.T) {
	w := newWorld(t, 2, 6)
	w.env(t)
	gone := w.staleOf(w.users[0])[0]
	w.afterFirstListing(t, func() { w.users[0].RemoveBinding(gone) })
	w.srv.Inject(chattest.Fault{Method: "GET", PathPrefix: "/v2/Services/" + w.svc.SID + "/Users/nobody", Status: 404, Times: 1})
	code, out, _ := w.run(t, context.Background(), "", append([]string{"-older-than", "30d", "-apply", "-json", "-concurrency", "1"}, append(w.identities(), "nobody")...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	outcomes := map[string]int{}
	for _, l := range lines[:len(lines)-1] {
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		outcomes[o["outcome"].(string)]++
	}
	var s struct {
		Summary struct {
			DryRun      bool      `json:"dry_run"`
			Removed     int64     `json:"removed"`
			AlreadyGone int64     `json:"already_gone"`
			NotListed   int64     `json:"not_listed"`
			ExitStatus  int       `json:"exit_status"`
			Cutoff      time.Time `json:"cutoff"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatal(err)
	}
	if code != 1 || outcomes["removed"] != 5 || outcomes["already_gone"] != 1 || outcomes["failed"] != 1 || len(lines) != 8 ||
		s.Summary.Removed != 5 || s.Summary.AlreadyGone != 1 || s.Summary.NotListed != 1 || s.Summary.ExitStatus != 1 || s.Summary.DryRun || s.Summary.Cutoff.IsZero() {
		t.Errorf("exit %d, outcomes %v, summary %+v\n%s", code, outcomes, s.Summary, out)
	}
}

// Operators' expectation: -v sends the client's log to stderr, never a
// credential.
func TestVerboseLogsTheClient(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	code, _, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", "-v", w.users[0].Identity)
	if code != 0 || !strings.Contains(errOut, `level=DEBUG msg="twilio request" method=DELETE`) || strings.Contains(errOut, w.srv.AuthToken) {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

// Operators' expectation: SIGTERM is handled as Ctrl-C is, with exit 143
// (the process is signalled in TestSignalsAsAProcess).
func TestSIGTERMStopsTheRunAsCtrlC(t *testing.T) {
	w := newWorld(t, 1, 2000)
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for w.srv.Stats().Removed < 50 {
			time.Sleep(time.Millisecond)
		}
		cancel(&cli.Interrupted{Signal: syscall.SIGTERM})
	}()
	code, out, _ := w.run(t, ctx, "", "-older-than", "30d", "-apply", "-concurrency", "4", w.users[0].Identity)
	if s := parseSummary(t, out); code != 143 || !strings.Contains(out, "Interrupted (SIGTERM)") || int64(s.removed) != w.srv.Stats().Removed || s.notDone == 0 {
		t.Errorf("exit %d, summary %+v\n%s", code, s, tail(out))
	}
}

// An audit on a device or a pipe (which cannot be synced) is written, and
// the run is not failed for it.
func TestAnAuditOnADevice(t *testing.T) {
	w := newWorld(t, 1, 4)
	w.env(t)
	if code, out, errOut := w.run(t, context.Background(), "", "-older-than", "30d", "-apply", "-audit", os.DevNull, w.users[0].Identity); code != 0 || parseSummary(t, out).removed != 2 {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// The plan of a dry run that was interrupted names what was found before
// the interruption; applied, it says so, and removes exactly that.
func TestAnInterruptedDryRunsPlanApplies(t *testing.T) {
	w := newWorld(t, 1, 2000)
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	plan := filepath.Join(t.TempDir(), "plan.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pages atomic.Int64
	w.proxy(t, func(*http.Request, int) { // as the second page is answered: the first was decided
		if pages.Add(1) == 2 {
			cancel()
		}
	})
	code, out, _ := w.run(t, ctx, "", "-older-than", "30d", "-page-size", "50", "-plan", plan, w.users[0].Identity)
	if code != 130 || !strings.Contains(out, "Plan written to "+plan+" with what was found before the run stopped") {
		t.Fatalf("dry run: exit %d\n%s", code, tail(out))
	}
	planned := strings.Count(readFile(t, plan), `"sid"`)
	code, out, errOut := w.run(t, context.Background(), "", "-apply", "-from-plan", plan)
	if s := parseSummary(t, out); code != 0 || s.removed != planned || planned == 0 || planned == 1000 || !strings.Contains(errOut, "is the plan of a dry run that did not finish") {
		t.Errorf("apply: exit %d, %d planned, summary %+v\n%s", code, planned, s, errOut)
	}
}

// A journal is one run's at a time: a second run given the same -state
// while the first runs is refused before it sends anything.
func TestAJournalInUseIsRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the journal's lock is flock's")
	}
	w := newWorld(t, 1, 40)
	w.env(t)
	release := w.holdDeletes(t, 1)
	state := filepath.Join(t.TempDir(), "run.state")
	args := []string{"-older-than", "30d", "-apply", "-state", state, w.users[0].Identity}
	first := make(chan int)
	go func() {
		code, _, _ := w.run(t, context.Background(), "", args...)
		first <- code
	}()
	for w.srv.Stats().Removed < 1 {
		time.Sleep(time.Millisecond)
	}
	// Exit 2: refused before it sent anything (the tool's rule for 2). The
	// emulator's count of requests cannot tell: the first run is sending.
	code, out, errOut := w.run(t, context.Background(), "", args...)
	release()
	if code != 2 || out != "" || !strings.Contains(errOut, "is in use by another job") {
		t.Errorf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code := <-first; code != 0 {
		t.Errorf("first run: exit %d", code)
	}
}
