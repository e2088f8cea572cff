package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/client"
)

// world is an emulator with users whose bindings are half stale (updated
// 60 days ago) and half fresh (updated 1 day ago), types cycling.
type world struct {
	srv   *chattest.Server
	svc   *chattest.Service
	users []*chattest.User
	stale map[string]bool
	base  string // where the tool is sent: the emulator, or a proxy before it
}

func newWorld(t testing.TB, users, perUser int) *world {
	t.Helper()
	srv := chattest.NewServer()
	t.Cleanup(srv.Close)
	w := &world{srv: srv, svc: srv.AddService(), stale: map[string]bool{}, base: srv.URL}
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
func (w *world) left(t testing.TB) (stale, fresh int) {
	t.Helper()
	for _, b := range w.svc.Bindings() {
		if w.stale[string(b.SID)] {
			stale++
		} else {
			fresh++
		}
	}
	all := 0
	for _, s := range w.stale {
		if !s {
			all++
		}
	}
	if fresh != all {
		t.Errorf("%d fresh bindings left of %d: a binding that matched no filter was removed", fresh, all)
	}
	return stale, fresh
}

// env points the tool's real-API mode at the emulator.
func (w *world) env(t testing.TB) {
	t.Setenv(client.EnvAccountSID, w.srv.AccountSID)
	t.Setenv(client.EnvAuthToken, w.srv.AuthToken)
	t.Setenv(client.EnvAPIKey, "")
	t.Setenv(client.EnvAPISecret, "")
}

// args are the flags every test gives: the emulator, fast retries, no
// client-side rate limit (the emulator has no write budget unless a test
// turns it on).
func (w *world) args(extra ...string) []string {
	return append([]string{"-service", w.svc.SID, "-base-url", w.base, "-retry-wait", "1ms", "-progress", "50ms", "-rate", "0"}, extra...)
}

func (w *world) run(t *testing.T, ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, w.args(args...), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

var summaryRE = regexp.MustCompile(`Summary: scanned (\d+), matched (\d+), removed (\d+), already gone (\d+), kept \(refreshed\) (\d+), failed (\d+)(?:, not done (\d+))?(?:, not listed (\d+))?`)

type summary struct{ scanned, matched, removed, gone, kept, failed, notDone, notListed int }

func parseSummary(t testing.TB, out string) summary {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in output:\n%s", tail(out))
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	return summary{n(1), n(2), n(3), n(4), n(5), n(6), n(7), n(8)}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

func injectTrouble(srv *chattest.Server) {
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, RetryAfter: "0", Times: 40})
	// Bursts of 5xx no longer than the client retries one call: a longer
	// one fails the binding it meets (TestRetriesAreNotMultiplied).
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 503, Times: 6})
	srv.Inject(chattest.Fault{Method: "GET", Status: 429, Times: 3})
	srv.Inject(chattest.Fault{Method: "GET", Status: 503, Times: 2})
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, Times: 30}) // no Retry-After: backoff
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 502, Body: "<html>proxy</html>", ContentType: "text/html", Times: 6})
}

func TestRemovesExactlyTheStaleBindingsThroughFaults(t *testing.T) {
	for _, mode := range []string{"per user", "all users"} {
		t.Run(mode, func(t *testing.T) {
			w := newWorld(t, 4, 2500) // 10,000 bindings, 5,000 stale
			w.env(t)
			injectTrouble(w.srv)
			args := []string{"-older-than", "720h", "-apply", "-concurrency", "8"}
			stdin := strings.Join(w.identities(), "\n")
			if mode == "all users" {
				args, stdin = append(args, "-all-users"), ""
			}
			code, out, errOut := w.run(t, context.Background(), stdin, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, tail(out), tail(errOut))
			}
			if s := parseSummary(t, out); s != (summary{scanned: 10000, matched: 5000, removed: 5000}) {
				t.Errorf("summary %+v", s)
			}
			if stale, _ := w.left(t); stale != 0 {
				t.Errorf("%d stale bindings left", stale)
			}
			if st := w.srv.Stats(); st.Removed != 5000 || w.srv.PendingFaults() != 0 {
				t.Errorf("emulator removed %d; %d faults unused", st.Removed, w.srv.PendingFaults())
			}
			if !strings.Contains(errOut, "progress: scanned") {
				t.Errorf("no progress:\n%s", tail(errOut))
			}
		})
	}
}

func TestDryRunRemovesNothing(t *testing.T) {
	w := newWorld(t, 2, 100)
	w.env(t)
	code, out, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "720h"}, w.identities()...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "would remove BS"); n != 100 {
		t.Errorf("%d would-remove lines, want 100", n)
	}
	if !strings.Contains(out, "Dry run: scanned 200, matched 100 (would remove 100); nothing was removed") {
		t.Errorf("summary:\n%s", tail(out))
	}
	if st := w.srv.Stats(); st.Removed != 0 || st.RemoveMisses != 0 {
		t.Errorf("a dry run sent DELETEs: %+v", st)
	}
}

func TestTypeFilterIsHonoured(t *testing.T) {
	w := newWorld(t, 1, 300)
	w.env(t)
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-type", "apn", w.users[0].Identity)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, b := range w.svc.Bindings() {
		if w.stale[string(b.SID)] && b.BindingType == chat.BindingTypeAPN {
			t.Fatalf("stale apn binding %s left", b.SID)
		}
	}
	stale, _ := w.left(t)
	if s := parseSummary(t, out); stale != 100 || s.removed != 50 {
		t.Errorf("%d stale left, summary %+v", stale, s)
	}
}

// TestUsersNamedTwice names one user three times (twice by identity, once
// by SID): each binding is judged and removed once.
func TestUsersNamedTwice(t *testing.T) {
	w := newWorld(t, 2, 10)
	w.env(t)
	a := w.users[0]
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "720h", a.Identity, a.Identity, a.SID)
	// Named by SID while its listing by identity is under way, a user is
	// listed twice; each binding is still judged once.
	if s := strings.Count(out, "would remove BS"); code != 0 || s != 5 || !regexp.MustCompile(`scanned (10|20), matched 5 `).MatchString(out) {
		t.Fatalf("dry run: exit %d, %d lines:\n%s", code, s, out)
	}
	code, out, _ = w.run(t, context.Background(), "", "-older-than", "720h", "-apply", a.SID, a.Identity, a.Identity)
	if s := parseSummary(t, out); code != 0 || s.scanned < 10 || s.scanned > 20 || s != (summary{scanned: s.scanned, matched: 5, removed: 5}) {
		t.Fatalf("exit %d, summary %+v", code, s)
	}
	if st := w.srv.Stats(); st.Removed != 5 || st.RemoveMisses != 0 {
		t.Errorf("stats %+v: a binding got a second DELETE", st)
	}
}

func TestInterruptionLeavesACorrectSummary(t *testing.T) {
	w := newWorld(t, 2, 5000)
	w.env(t)
	w.srv.SetLatency(time.Millisecond)
	code, out, _ := w.run(t, w.cancelAfter(t, 500), "", "-older-than", "720h", "-apply", "-concurrency", "4", w.users[0].Identity, w.users[1].Identity)
	if code != 130 {
		t.Fatalf("exit %d, want 130", code)
	}
	s := parseSummary(t, out)
	stale, _ := w.left(t)
	if int64(s.removed) != w.srv.Stats().Removed || s.removed+stale != 5000 || s.failed != 0 || s.removed+s.gone+s.kept+s.notDone != s.matched {
		t.Errorf("summary %+v, emulator removed %d, %d stale left", s, w.srv.Stats().Removed, stale)
	}
	if s.removed >= 5000 || !strings.Contains(out, "Interrupted (SIGINT): no new listings or removals were started") {
		t.Errorf("the run was not interrupted: %+v", s)
	}
}

// addStale gives u one more stale binding.
func (w *world) addStale(u *chattest.User) string {
	sid := u.AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-60 * 24 * time.Hour)})
	w.stale[sid] = true
	return sid
}

// proxy puts a reverse proxy in front of the world's emulator that calls
// after with each request once it is served, with its status (before the
// answer goes back).
func (w *world) proxy(t testing.TB, after func(r *http.Request, status int)) {
	w.proxyWith(t, nil, after)
}

// proxyBefore puts a reverse proxy in front of the world's emulator that
// calls before with each request before it is forwarded.
func (w *world) proxyBefore(t testing.TB, before func(r *http.Request)) { w.proxyWith(t, before, nil) }

func (w *world) proxyWith(t testing.TB, before func(r *http.Request), after func(r *http.Request, status int)) {
	target, _ := url.Parse(w.srv.URL)
	rp := &httputil.ReverseProxy{
		Rewrite:  func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = r.In.Host },
		ErrorLog: log.New(io.Discard, "", 0), // requests cancelled by an interrupted run are expected
	}
	ps := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if before != nil {
			before(r)
		}
		rec := &statusRecorder{ResponseWriter: rw, status: 200}
		rp.ServeHTTP(rec, r)
		if after != nil {
			after(r, rec.status)
		}
	}))
	t.Cleanup(ps.Close)
	w.base = ps.URL
}

// afterFirstListing calls fn once, right after the first listing request
// the tool sends has been answered: a change to the service between the
// listing that found a binding and the re-check before its removal.
func (w *world) afterFirstListing(t testing.TB, fn func()) {
	var once sync.Once
	w.proxy(t, func(r *http.Request, _ int) {
		if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/Bindings") {
			once.Do(fn)
		}
	})
}

// staleOf returns the SIDs of u's stale bindings.
func (w *world) staleOf(u *chattest.User) []string {
	var out []string
	for _, b := range u.Bindings() {
		if w.stale[string(b.SID)] {
			out = append(out, string(b.SID))
		}
	}
	return out
}

// cancelAfter returns a context cancelled once the emulator has removed n
// bindings: an operator's Ctrl-C in the middle of a run.
func (w *world) cancelAfter(t testing.TB, n int64) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		for w.srv.Stats().Removed < n && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	return ctx
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// TestRecheckKeepsARefreshedBinding refreshes a stale binding right after
// the listing that found it: the re-check before removal keeps it.
func TestRecheckKeepsARefreshedBinding(t *testing.T) {
	w := newWorld(t, 1, 6)
	w.env(t)
	u := w.users[0]
	refreshed := w.staleOf(u)[0]
	w.afterFirstListing(t, func() { u.RefreshBinding(refreshed, time.Now()) }) // the device registers again
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", u.Identity)
	if s := parseSummary(t, out); code != 0 || s != (summary{scanned: 6, matched: 3, removed: 2, kept: 1}) {
		t.Fatalf("exit %d, summary %+v\n%s", code, s, out)
	}
	if !strings.Contains(out, "kept "+refreshed+"  refreshed") {
		t.Errorf("no kept line for %s:\n%s", refreshed, out)
	}
	left := map[string]bool{}
	for _, b := range u.Bindings() {
		left[string(b.SID)] = true
	}
	if !left[refreshed] || len(left) != 4 {
		t.Errorf("left %v: the refreshed binding must stay", left)
	}
}

// TestALostSuccessCountsAsRemoved: the DELETE removes the binding but its
// answer is lost (a proxy's 502), and the read before trying again finds
// nothing: that is a removal, not "already gone".
func TestALostSuccessCountsAsRemoved(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	u := w.users[0]
	sid := w.staleOf(u)[0]
	path := "/v2/Services/" + w.svc.SID + "/Users/" + url.PathEscape(u.Identity) + "/Bindings/" + sid
	w.srv.Inject(chattest.Fault{Method: "DELETE", PathPrefix: path, ServeFirst: true, Status: 502, Body: "<html>lost</html>", ContentType: "text/html"})
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", u.Identity)
	if s := parseSummary(t, out); code != 0 || s != (summary{scanned: 2, matched: 1, removed: 1}) {
		t.Fatalf("exit %d, summary %+v\n%s", code, s, out)
	}
	if st := w.srv.Stats(); st.Removed != 1 || w.srv.PendingFaults() != 0 {
		t.Errorf("stats %+v, %d faults left", st, w.srv.PendingFaults())
	}
}

func TestRemovedMeanwhileCountsAsGone(t *testing.T) {
	w := newWorld(t, 1, 4)
	w.env(t)
	u := w.users[0]
	gone := w.staleOf(u)[0]
	w.afterFirstListing(t, func() { u.RemoveBinding(gone) }) // someone else gets there first
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", u.Identity)
	if s := parseSummary(t, out); code != 0 || s != (summary{scanned: 4, matched: 2, removed: 1, gone: 1}) {
		t.Fatalf("exit %d, summary %+v\n%s", code, s, out)
	}
}

// TestTheAPIClockSetsTheCutoff runs against an emulator whose clock is 45
// days ahead: by the API's clock even the bindings updated a day ago (by
// the machine's) are older than 720h, and the skew is reported.
func TestTheAPIClockSetsTheCutoff(t *testing.T) {
	w := newWorld(t, 1, 10)
	w.env(t)
	w.srv.SetClockSkew(45 * 24 * time.Hour)
	code, out, errOut := w.run(t, context.Background(), "", "-older-than", "720h", w.users[0].Identity)
	if code != 0 || !strings.Contains(out, "scanned 10, matched 10") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(errOut, "the API's clock is 1080h0m0s ahead of this machine's") {
		t.Errorf("skew not reported:\n%s", errOut)
	}
	w.srv.SetClockSkew(30 * time.Second) // within a minute: not worth a word
	code, out, errOut = w.run(t, context.Background(), "", "-older-than", "720h", w.users[0].Identity)
	if code != 0 || !strings.Contains(out, "scanned 10, matched 5") || strings.Contains(errOut, "clock") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestAuditHasALinePerOutcome(t *testing.T) {
	w := newWorld(t, 2, 6)
	w.env(t)
	a, b := w.users[0], w.users[1]
	gone, kept := w.staleOf(a)[0], w.staleOf(a)[1]
	w.afterFirstListing(t, func() {
		a.RemoveBinding(gone)
		a.RefreshBinding(kept, time.Now())
	})
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	code, out, _ := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-concurrency", "1", "-audit", audit, a.Identity, b.Identity)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	raw, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var r cleanup.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if r.Time.IsZero() || r.User == "" || r.Identity == "" || r.BindingType == "" || r.DateUpdated.IsZero() {
			t.Errorf("incomplete line %q", line)
		}
		if r.Outcome == "removed" && !strings.HasPrefix(r.RequestID, "RQ") {
			t.Errorf("a removal without the Twilio request id: %q", line)
		}
		outcomes[r.SID] = r.Outcome
	}
	if len(outcomes) != 6 || outcomes[gone] != "already_gone" || outcomes[kept] != "kept_refreshed" {
		t.Fatalf("outcomes %v", outcomes)
	}
	if n := strings.Count(string(raw), `"outcome":"removed"`); n != 4 {
		t.Errorf("%d removals audited, want 4", n)
	}
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") + "\n" }

func stringReader(s string) io.Reader { return strings.NewReader(s) }
