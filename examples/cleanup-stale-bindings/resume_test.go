package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

// traffic records the requests that reach the emulator through a proxy:
// list requests by user, and DELETEs by path.
type traffic struct {
	mu      sync.Mutex
	lists   map[string]int // user (as in the path) -> list requests
	deletes map[string]int // path -> DELETEs sent (whatever their answer, which a killed run never reads)
}

func (w *world) watch(t testing.TB) *traffic {
	tr := &traffic{lists: map[string]int{}, deletes: map[string]int{}}
	w.proxy(t, func(r *http.Request, status int) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		segs := strings.Split(r.URL.EscapedPath(), "/")
		switch {
		case r.Method == "GET" && len(segs) == 7 && segs[4] == "Users":
			u, _ := url.PathUnescape(segs[5])
			tr.lists[u]++
		case r.Method == "DELETE":
			tr.deletes[r.URL.Path]++
		}
	})
	return tr
}

func (tr *traffic) reset() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.lists = map[string]int{}
}

// journal is the lines of a job's journal (see the package's README for
// their format), but for a last line cut off by a write that failed.
func journal(t testing.TB, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	text := readFile(t, path)
	lines := strings.Split(text, "\n")
	for _, line := range lines[:len(lines)-1] {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("journal line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// finishedUsers are the users a journal records as finished: by the first 8
// bytes of the SHA-256 of their names.
func finishedUsers(t testing.TB, path string, users []string) []string {
	t.Helper()
	done := map[string]bool{}
	for _, rec := range journal(t, path) {
		if d, ok := rec["done"].(string); ok {
			done[d] = true
		}
	}
	var out []string
	for _, u := range users {
		sum := sha256.Sum256([]byte(u))
		if done[hex.EncodeToString(sum[:8])] {
			out = append(out, u)
		}
	}
	return out
}

func cutoffOf(t testing.TB, path string) string {
	t.Helper()
	for _, rec := range journal(t, path) {
		if c, ok := rec["cutoff"].(string); ok {
			return c
		}
	}
	return ""
}

// TestResumeFromTheState interrupts a run with a state file halfway and
// starts it again with the same flags: no finished user is listed again,
// no binding is removed twice, and the end is exact.
func TestResumeFromTheState(t *testing.T) {
	w := newWorld(t, 400, 2)
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	tr := w.watch(t)
	dir := t.TempDir()
	state, users := filepath.Join(dir, "run.state"), filepath.Join(dir, "users.txt")
	if err := os.WriteFile(users, []byte(strings.Join(w.identities(), "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-older-than", "720h", "-apply", "-concurrency", "8", "-file", users, "-state", state}
	if code, out, _ := w.run(t, w.cancelAfter(t, 200), "", args...); code != 130 {
		t.Fatalf("first run: exit %d\n%s", code, tail(out))
	}
	done := finishedUsers(t, state, w.identities())
	cutoff := cutoffOf(t, state)
	if len(done) < 100 || len(done) == 400 || cutoff == "" {
		t.Fatalf("the journal records %d finished users of 400, cutoff %q", len(done), cutoff)
	}
	tr.reset()
	code, out, errOut := w.run(t, context.Background(), "", args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, tail(out), tail(errOut))
	}
	for _, u := range done {
		if n := tr.lists[u]; n != 0 {
			t.Errorf("finished user %q was listed again (%d requests)", u, n)
		}
	}
	for path, n := range tr.deletes {
		if n != 1 {
			t.Errorf("%s: %d DELETEs", path, n) // the run was interrupted, not killed: nothing was cut off
		}
	}
	if stale, _ := w.left(t); stale != 0 || len(tr.deletes) != 400 || w.srv.Stats().RemoveMisses != 0 {
		t.Errorf("%d stale left, %d removed in all", stale, len(tr.deletes))
	}
	if done := finishedUsers(t, state, w.identities()); len(done) != 400 || cutoffOf(t, state) != cutoff || strings.Contains(readFile(t, state), `"failed"`) {
		t.Errorf("final journal: %d users finished, cutoff %q (was %q)\n%s", len(done), cutoffOf(t, state), cutoff, tail(readFile(t, state)))
	}
	// A third run has nothing left to list.
	tr.reset()
	if code, out, _ := w.run(t, context.Background(), "", args...); code != 0 || len(tr.lists) != 0 || !strings.Contains(out, "scanned 0") {
		t.Errorf("third run: exit %d, %d users listed\n%s", code, len(tr.lists), tail(out))
	}
}

func TestResumeAWalkFromTheState(t *testing.T) {
	w := newWorld(t, 50, 20) // 1,000 bindings, 500 stale, 20 pages of 50
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	tr := w.watch(t)
	state := filepath.Join(t.TempDir(), "walk.state")
	args := []string{"-older-than", "720h", "-apply", "-all-users", "-concurrency", "4", "-state", state}
	if code, _, _ := w.run(t, w.cancelAfter(t, 200), "", args...); code != 130 {
		t.Fatalf("first run: exit %d", code)
	}
	if j := readFile(t, state); !strings.Contains(j, `{"walk":"http`) || strings.Contains(j, `"finished"`) {
		t.Fatalf("journal after an interrupted walk:\n%s", j)
	}
	code, out, _ := w.run(t, context.Background(), "", args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, tail(out))
	}
	s := parseSummary(t, out)
	if stale, _ := w.left(t); stale != 0 || s.scanned >= 1000 {
		t.Errorf("%d stale left; the second run scanned %d: it should resume, not start over", stale, s.scanned)
	}
	for path, n := range tr.deletes {
		if n != 1 {
			t.Errorf("%s removed %d times", path, n)
		}
	}
	if j := journal(t, state); j[len(j)-1]["finished"] != true {
		t.Errorf("final journal: %v; want it to end saying it finished", j[len(j)-1])
	}
}

func TestStateOfAnotherRunIsRefused(t *testing.T) {
	w := newWorld(t, 3, 2)
	w.env(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "run.state")
	ids := w.identities()
	if code, _, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "720h", "-apply", "-state", state}, ids...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cases := []struct {
		args []string
		want string
	}{
		{append([]string{"-older-than", "1440h", "-apply", "-state", state}, ids...), "older than 720h0m0s, not 1440h0m0s"},
		{append([]string{"-older-than", "30d", "-type", "apn", "-apply", "-state", state}, ids...), `types "", not "apn"`},
		{[]string{"-older-than", "720h", "-all-users", "-apply", "-state", state}, "a walk of users, not service"},
	}
	for _, tc := range cases {
		code, out, errOut := w.run(t, context.Background(), "", tc.args...)
		if code != 2 || !strings.Contains(errOut, "is the journal of another job") || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	other := newWorld(t, 1, 1)
	other.env(t)
	if code, _, errOut := other.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-state", state, other.users[0].Identity); code != 2 || !strings.Contains(errOut, "service") {
		t.Errorf("another service: exit %d, %s", code, errOut)
	}
	v020 := `{"version":1,"flags":{"service":"` + w.svc.SID + `","mode":"users","older_than":"720h0m0s"},"cutoff":"2026-11-01T00:00:00Z","done":3}`
	for name, content := range map[string]string{"junk": "not json", "v0.2.0": v020} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-state", filepath.Join(dir, name), ids[0]); code != 2 || !strings.Contains(errOut, "is not a journal") {
			t.Errorf("%s state: exit %d, %s", name, code, errOut)
		}
	}
}

// TestPlanThenApplyExactlyThePlan makes a plan, then changes the service
// before applying it: a new stale binding (not in the plan) stays, a
// planned binding that was refreshed stays, one removed meanwhile is
// already gone, and the rest of the plan is removed.
func TestPlanThenApplyExactlyThePlan(t *testing.T) {
	for _, mode := range []string{"per user", "all users"} {
		t.Run(mode, func(t *testing.T) {
			w := newWorld(t, 3, 10)
			w.env(t)
			plan := filepath.Join(t.TempDir(), "plan.jsonl")
			args := []string{"-older-than", "720h", "-plan", plan}
			if mode == "all users" {
				args = append(args, "-all-users")
			} else {
				args = append(args, w.identities()...)
			}
			code, out, errOut := w.run(t, context.Background(), "", args...)
			if code != 0 || !strings.Contains(out, "matched 15") || !strings.Contains(out, "-from-plan "+plan) {
				t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSpace(readFile(t, plan)), "\n")
			if len(lines) != 17 || !strings.Contains(lines[0], `"plan":2`) || !strings.HasPrefix(lines[16], `{"end":true,"lines":15,"finished":true,"sha256":"`) {
				t.Fatalf("plan file: %d lines, header %s", len(lines), lines[0])
			}
			u := w.users[1]
			planned := w.staleOf(u)
			u.RefreshBinding(planned[0], time.Now())
			u.RemoveBinding(planned[1])
			late := u.AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-90 * 24 * time.Hour)})

			code, out, errOut = w.run(t, context.Background(), "", "-apply", "-from-plan", plan)
			if s := parseSummary(t, out); code != 0 || s != (summary{scanned: 15, matched: 15, removed: 13, gone: 1, kept: 1}) {
				t.Fatalf("apply: exit %d, summary %+v\n%s\n%s", code, s, tail(out), errOut)
			}
			left := map[string]bool{}
			for _, b := range w.svc.Bindings() {
				left[string(b.SID)] = true
			}
			if !left[late] || !left[planned[0]] || len(left) != 17 {
				t.Errorf("left %d bindings; the late stale one and the refreshed one must stay", len(left))
			}
			// The plan's flags are the plan's.
			for _, bad := range [][]string{{"-older-than", "1440h"}, {"-type", "apn"}} {
				if code, _, errOut := w.run(t, context.Background(), "", append([]string{"-apply", "-from-plan", plan}, bad...)...); code != 2 || !strings.Contains(errOut, "the plan was made by a job with other options") {
					t.Errorf("%q: exit %d, %s", bad, code, errOut)
				}
			}
		})
	}
}

func TestPlanFilesAreChecked(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.jsonl")
	if err := os.WriteFile(existing, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := w.run(t, context.Background(), "", "-older-than", "720h", "-plan", existing, w.users[0].Identity); code != 2 || !strings.Contains(errOut, "exists") {
		t.Errorf("an existing plan file was overwritten: exit %d, %s", code, errOut)
	}
	if code, _, errOut := w.run(t, context.Background(), "", "-apply", "-from-plan", existing); code != 2 || !strings.Contains(errOut, "not a plan") {
		t.Errorf("a file that is not a plan: exit %d, %s", code, errOut)
	}
	if code, _, errOut := w.run(t, context.Background(), "", "-apply", "-from-plan", filepath.Join(dir, "missing")); code != 2 || !strings.Contains(errOut, "-from-plan") {
		t.Errorf("a missing plan: exit %d, %s", code, errOut)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
