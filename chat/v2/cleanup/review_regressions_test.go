package cleanup_test

// Regressions found by a hostile review of the cleanup package: each failed
// on the code it reviewed. The tests named Held… are what was tried and held,
// kept as guards.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/client"
)

// alice is an emulator with one user, alice, whose bindings are given by
// their ages, and a client whose requests pass through c.
type alice struct {
	srv  *chattest.Server
	svc  *chattest.Service
	u    *chattest.User
	sids []string
	api  *chat.API
	c    *counter

	onDelete atomic.Pointer[func()] // called as a DELETE is sent, once
}

func newAlice(t *testing.T, ages []time.Duration, opts ...client.Option) *alice {
	t.Helper()
	a := &alice{srv: chattest.NewTestServer(t), c: &counter{}}
	a.svc = a.srv.AddService()
	a.u = a.svc.AddUser("alice")
	for _, age := range ages {
		a.sids = append(a.sids, a.u.AddBinding(chattest.Binding{Type: chat.BindingTypeAPN, DateUpdated: time.Now().Add(-age)}))
	}
	hook := func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodDelete {
				if f := a.onDelete.Swap(nil); f != nil {
					(*f)()
				}
			}
			return rt.RoundTrip(r)
		})
	}
	c, err := a.srv.Client(append([]client.Option{client.WithRetryWait(time.Millisecond, 2*time.Millisecond), client.WithTransportWrapper(a.c.wrap), client.WithTransportWrapper(hook)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	a.api = chat.New(c)
	return a
}

func (a *alice) service() chat.ServiceHandle { return a.api.Services(a.svc.SID) }

// TestALostAnswerToAServedDeleteIsNeverAlreadyGone: the DELETE is served
// but its answer is lost (a 503 after serving, or the connection cut), and
// the reads that follow fail. Whatever the reads meet, the job's own DELETE
// removed the binding, and no outcome or audit line may call it "already
// gone":
//   - reads answered 429 (the client's retries spent): the job waits them
//     out, as it does every 429, reads again, finds it gone: Removed;
//   - reads answered 5xx for good: the removal fails, its error says the
//     DELETE may have applied, and the journal keeps it, so a resumed job
//     reports it Removed (the job does not retry what RemoveIf retried).
func TestALostAnswerToAServedDeleteIsNeverAlreadyGone(t *testing.T) {
	t.Parallel()
	lost := map[string]chattest.Fault{
		"503 after serving": {Method: "DELETE", Status: 503, ServeFirst: true},
		"connection cut":    {Method: "DELETE", CutBody: true},
	}
	reads := map[string]chattest.Fault{
		"429":          {Method: "GET", Status: 429, RetryAfter: "0", Times: 2},
		"503 for good": {Method: "GET", Status: 503, Times: 2},
	}
	for lname, lf := range lost {
		for rname, rf := range reads {
			t.Run(lname+", reads "+rname, func(t *testing.T) {
				t.Parallel()
				a := newAlice(t, []time.Duration{2 * month}, client.WithMaxRetries(1))
				instance := "/v2/Services/" + a.svc.SID + "/Users/alice/Bindings/" + a.sids[0]
				del, read := lf, rf // copies: the subtests of one lost answer share lf
				del.PathPrefix, read.PathPrefix = instance, instance
				a.srv.Inject(del)
				f := func() { a.srv.Inject(read) } // once the DELETE is on its way
				a.onDelete.Store(&f)
				journal := filepath.Join(t.TempDir(), "journal")
				var audit bytes.Buffer
				var got outcomes
				job, err := cleanup.New(a.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Audit: &audit, OnOutcome: got.add})
				if err != nil {
					t.Fatal(err)
				}
				r, err := job.Users(context.Background(), slices.Values([]string{"alice"}))
				if st := a.srv.Stats(); st.Removed != 1 {
					t.Fatalf("the emulator removed %d bindings; the scenario needs the DELETE served", st.Removed)
				}
				if r.AlreadyGone != 0 || strings.Contains(audit.String(), "already_gone") {
					t.Fatalf("report %+v: the job's own DELETE removed the binding; audit:\n%s", r, audit.String())
				}
				if rname == "429" {
					if err != nil || r.Removed != 1 || !strings.Contains(audit.String(), `"outcome":"removed"`) {
						t.Fatalf("report %+v, %v: want it Removed within the job; audit:\n%s", r, err, audit.String())
					}
					return
				}
				if r.Failed != 1 || !errors.Is(err, cleanup.ErrFailed) {
					t.Fatalf("report %+v, %v: want the removal Failed", r, err)
				}
				if o := got.list[0]; !client.MayHaveApplied(o.Err) {
					t.Errorf("the failed outcome's error %v does not say the DELETE may have applied", o.Err)
				}
				audit.Reset()
				job, _ = cleanup.New(a.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Audit: &audit})
				r, err = job.Users(context.Background(), slices.Values([]string{"alice"}))
				if err != nil || r.Removed != 1 || r.AlreadyGone != 0 || !strings.Contains(audit.String(), `"outcome":"removed"`) {
					t.Errorf("resumed: report %+v, %v; want the earlier run's DELETE reported Removed; audit:\n%s", r, err, audit.String())
				}
			})
		}
	}
}

// TestRemoveIfErrorRemembersItsDelete: RemoveIf's error says whether a
// DELETE of the call may have reached the server, also when what failed
// last is the read after it (429 or 403 for good).
func TestRemoveIfErrorRemembersItsDelete(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 403} {
		a := newAlice(t, []time.Duration{2 * month}, client.WithMaxRetries(1))
		instance := "/v2/Services/" + a.svc.SID + "/Users/alice/Bindings/" + a.sids[0]
		a.srv.Inject(chattest.Fault{Method: "DELETE", PathPrefix: instance, CutBody: true})
		f := func() {
			a.srv.Inject(chattest.Fault{Method: "GET", PathPrefix: instance, Status: status, RetryAfter: "0", Times: 5})
		}
		a.onDelete.Store(&f)
		res, err := a.service().Users("alice").UserBindings(a.sids[0]).RemoveIf(context.Background(), func(*chat.UserBinding) bool { return true })
		if a.srv.Stats().Removed != 1 {
			t.Fatalf("the scenario needs the DELETE served: %+v", a.srv.Stats())
		}
		var apiErr *client.Error
		if err == nil || !client.MayHaveApplied(err) || !errors.As(err, &apiErr) || apiErr.Status != status {
			t.Errorf("read answered %d: RemoveIf = %v, %v (MayHaveApplied %v); want the read's error, saying the DELETE may have applied", status, res, err, client.MayHaveApplied(err))
		}
	}
}

// TestRetriesAreNotMultiplied: a removal answered 503 for good costs what
// one call costs with the client's retries (WithMaxRetries(2): 3 DELETEs,
// each after its read), not that again for each retry of the job.
func TestRetriesAreNotMultiplied(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 1, 1, client.WithMaxRetries(2))
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 503, Times: 1 << 20})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true})
	r, err := job.Service(context.Background())
	if n := c.count("DELETE", ""); n != 3 || r.Failed != 1 || !errors.Is(err, cleanup.ErrFailed) {
		t.Errorf("%+v, %v: %d DELETEs for one removal, with WithMaxRetries(2); want 3 and the removal Failed", r, err, n)
	}
}

// TestTheJobsOwnPacingIsNotNoProgress: a job paced by its own rate limit
// (2 removals a second, 500 ms apart) against an API that answers at once
// is not stalled by a NoProgress of 300 ms, however long a lister waits to
// hand its bindings to busy removers.
func TestTheJobsOwnPacingIsNotNoProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 12, client.WithRateLimit(client.RateLimit{PerSecond: 2, WritesOnly: true}))
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 1, NoProgress: 300 * time.Millisecond})
	r, err := job.Users(context.Background(), w.names())
	if err != nil || r.Removed != 6 {
		t.Errorf("%+v, %v: only the job's own rate limit paced it", r, err)
	}
}

// aPlan writes a plan by hand, in the documented format.
func aPlan(service, cutoff string, lines ...string) string {
	cut, _ := time.Parse(time.RFC3339, cutoff)
	head := `{"plan":2,"id":"x","service":"` + service + `","mode":"users","types":["apn"],"older_than":"720h0m0s","cutoff":"` + cutoff +
		`","api_time":"` + cut.Add(month).UTC().Format(time.RFC3339) + `","created":"` + time.Now().UTC().Format(time.RFC3339) + `"}`
	body := strings.Join(append([]string{head}, lines...), "\n") + "\n"
	sum := sha256.Sum256([]byte(body))
	return body + fmt.Sprintf(`{"end":true,"lines":%d,"finished":true,"sha256":"%x"}`, len(lines), sum) + "\n"
}

func aPlanLine(sid, user string, updated time.Time) string {
	return `{"sid":"` + sid + `","user":"` + user + `","identity":"` + user + `","binding_type":"apn","date_updated":"` + updated.UTC().Format(time.RFC3339) + `"}`
}

// TestAPlanWhoseCutoffIsInTheFutureIsRefused: a plan whose
// cutoff was edited to the present (or written by a broken tool) makes
// ApplyPlan remove bindings a day old under OlderThan 720h: the "re-check
// against the plan's cutoff" checks nothing. The journal refuses a cutoff
// that contradicts its older_than; the plan must too (issue 17 defect 10's
// twin, and the README's "refuses a plan that ... was edited").
func TestAPlanWhoseCutoffIsInTheFutureIsRefused(t *testing.T) {
	t.Parallel()
	a := newAlice(t, []time.Duration{24 * time.Hour, 48 * time.Hour})
	now := time.Now().UTC()
	plan := aPlan(a.svc.SID, now.Format(time.RFC3339),
		aPlanLine(a.sids[0], "alice", now.Add(-24*time.Hour)), aPlanLine(a.sids[1], "alice", now.Add(-48*time.Hour)))
	p, err := cleanup.ReadPlan(strings.NewReader(plan))
	if err != nil {
		return // refused: good
	}
	job, err := cleanup.New(a.service(), cleanup.Options{OlderThan: month, Types: p.Header.BindingTypes(), Apply: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := job.ApplyPlan(context.Background(), p)
	if len(a.u.Bindings()) != 2 {
		t.Errorf("a plan whose cutoff is now, under older_than 720h, was applied: %+v, %v; %d of 2 bindings a day or two old removed",
			r, err, 2-len(a.u.Bindings()))
	}
}

// TestAPlanWithALineEditedIsRefused: the README says ReadPlan
// refuses a plan that "was edited". A line whose SID was changed to
// another binding's (the count unchanged) is accepted, and ApplyPlan
// removes a binding the dry run did not choose.
func TestAPlanWithALineEditedIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 4)
	plan := string(dryRunPlan(t, w, slices.Values(w.identities()[:1]))) // only the first user's stale bindings
	var other string
	for _, b := range w.users[1].Bindings() {
		if w.stale[b.SID] {
			other = string(b.SID)
		}
	}
	lines := strings.Split(strings.TrimSpace(plan), "\n")
	i := strings.Index(lines[1], `"sid":"`) + len(`"sid":"`)
	lines[1] = lines[1][:i] + other + lines[1][i+34:]
	edited := strings.Join(lines, "\n") + "\n"
	if _, err := cleanup.ReadPlan(strings.NewReader(edited)); err == nil {
		t.Errorf("a plan whose line names another binding than the dry run chose was accepted: it would remove %s, which the dry run never named", other)
	}
}

// TestAPlanChangedAfterReadPlanIsNotApplied: ReadPlan checks the
// whole plan "before anything is removed", but ApplyPlan reads the file
// again from the start and removes whatever it holds then: lines added
// after the check (a dry run writing the same path, an editor) are removed
// unchecked, and the digest the journal keeps is the old file's.
func TestAPlanChangedAfterReadPlanIsNotApplied(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 4)
	plan := string(dryRunPlan(t, w, slices.Values(w.identities()[:1])))
	path := filepath.Join(t.TempDir(), "plan")
	if err := os.WriteFile(path, []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := cleanup.ReadPlan(f)
	if err != nil || p.Lines != 2 {
		t.Fatalf("%+v, %v", p, err)
	}
	// After the check, the file gets the second user's stale bindings too.
	whole := string(dryRunPlan(t, w, w.names()))
	if err := os.WriteFile(path, []byte(whole), 0o600); err != nil {
		t.Fatal(err)
	}
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true})
	r, err := job.ApplyPlan(context.Background(), p)
	// The lines checked are applied while they are unchanged; a line that
	// changed stops the job with an error that says so. No line that was not
	// checked is ever applied.
	switch {
	case r.Removed > 2 || r.Scanned > 2:
		t.Errorf("a plan checked with 2 lines removed %d bindings (scanned %d), %v: lines never checked were applied", r.Removed, r.Scanned, err)
	case r.Removed < 2 && (err == nil || !strings.Contains(err.Error(), "changed after ReadPlan")):
		t.Errorf("a plan changed after it was checked: removed %d, %v; want the change named", r.Removed, err)
	}
}

// TestApplyPlanOnAJobAlreadyRunningChangesNothing: a Job runs once;
// a second call is ErrUsed. But ApplyPlan pins the plan's cutoff before it
// finds the job running, so a plan with a later cutoff makes the running
// Users job remove bindings younger than OlderThan.
func TestApplyPlanOnAJobAlreadyRunningChangesNothing(t *testing.T) {
	t.Parallel()
	// 40 users, each with a binding 10 days old: fresh under 30 days.
	srv := chattest.NewTestServer(t)
	svc := srv.AddService()
	var names []string
	for i := 0; i < 40; i++ {
		u := svc.AddUser(fmt.Sprintf("u%d", i))
		names = append(names, u.Identity)
		u.AddBinding(chattest.Binding{Type: chat.BindingTypeAPN, DateUpdated: time.Now().Add(-10 * 24 * time.Hour)})
	}
	c, _ := srv.Client()
	h := chat.New(c).Services(svc.SID)
	job, _ := cleanup.New(h, cleanup.Options{OlderThan: month, Apply: true, Types: []chat.BindingType{chat.BindingTypeAPN}, Concurrency: 1})
	// A plan made by a job with the same options, with a cutoff a day ago
	// (as if its API clock ran 29 days ahead), naming nothing it matters.
	p, err := cleanup.ReadPlan(strings.NewReader(aPlan(svc.SID, time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339))))
	if err != nil {
		t.Fatal(err)
	}
	users := func(yield func(string) bool) {
		for i, n := range names {
			if i == 5 { // while the job runs, someone calls ApplyPlan on it
				if _, err := job.ApplyPlan(context.Background(), p); !errors.Is(err, cleanup.ErrUsed) {
					t.Errorf("ApplyPlan on a running job: %v, want ErrUsed", err)
				}
			}
			if !yield(n) {
				return
			}
		}
	}
	r, err := job.Users(context.Background(), users)
	if r.Removed != 0 || len(svc.Bindings()) != 40 {
		t.Errorf("%+v, %v: %d bindings 10 days old removed under OlderThan 30 days, after a refused ApplyPlan moved the cutoff", r, err, 40-len(svc.Bindings()))
	}
}

// TestProgressIsSafeDuringARun: "safe for concurrent use by Progress
// meanwhile". Run with -race.
func TestProgressIsSafeDuringARun(t *testing.T) {
	// Not parallel: the race detector fails every test running when it reports.
	w := newWorld(t, 3, 4)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = job.Progress()
			}
		}
	}()
	time.Sleep(time.Millisecond) // Progress is being called before the job starts, as a progress line would be
	_, err := job.Users(context.Background(), w.names())
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAResumeWhenTheAPIClockIsAheadIsAccepted: the cutoff goes by the
// API's clock precisely because the machine's may be off. A job whose API
// runs two hours ahead of this machine writes a journal its own resume
// refuses ("an API time more than an hour ahead of this machine's clock"):
// the job cannot be resumed at all.
func TestAResumeWhenTheAPIClockIsAheadIsAccepted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, 4)
	w.srv.SetClockSkew(2 * time.Hour)
	journal := filepath.Join(t.TempDir(), "job.journal")
	ctx, cancel := context.WithCancel(context.Background())
	opts := cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Concurrency: 1, OnOutcome: interruptAfter(3, cancel)}
	job, _ := cleanup.New(w.service(), opts)
	if _, err := job.Users(ctx, w.names()); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	cancel()
	opts.OnOutcome = nil
	job, _ = cleanup.New(w.service(), opts)
	if _, err := job.Users(context.Background(), w.names()); err != nil {
		t.Errorf("the resume refuses the journal its own first run wrote: %v", err)
	}
}

// TestTwoJobsOnOneJournalAreNotSilent: a cron job that starts while
// the last run is still going (same options, same journal path). The
// second rewrites the journal (a new file renamed over the path); the
// first goes on appending to the file it opened, now unlinked: everything
// it records after that is lost, and neither job says anything.
func TestTwoJobsOnOneJournalAreNotSilent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 6, 4)
	journal := filepath.Join(t.TempDir(), "job.journal")
	names := w.identities()
	secondDone := make(chan error, 1)
	var second sync.Once
	users := func(yield func(string) bool) {
		for i, n := range names {
			if i == 3 {
				second.Do(func() {
					// the next run starts, on one user, and ends
					job2, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
					_, err := job2.Users(context.Background(), slices.Values(names[5:]))
					secondDone <- err
				})
			}
			if !yield(n) {
				return
			}
		}
	}
	job1, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Concurrency: 1})
	_, err1 := job1.Users(context.Background(), users)
	err2 := <-secondDone
	if err1 != nil || err2 != nil {
		return // one of them said something: good
	}
	raw, _ := os.ReadFile(journal)
	done := strings.Count(string(raw), `"done"`)
	if done < 6 {
		t.Errorf("two jobs shared a journal, both ended without an error, and the journal counts %d of the 6 users done: the first job's later records went to an unlinked file\n%s", done, raw)
	}
}

// TestUsersReturnsWhenCtxEndsWhileTheIteratorWaits: "It returns ...
// when ctx ends". Names read from a pipe or a queue wait for the next one;
// cancelling the job (Ctrl-C, SIGTERM) must end it, with its journal
// closed, not wait for a name that may never come.
func TestUsersReturnsWhenCtxEndsWhileTheIteratorWaits(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 2)
	release := make(chan struct{})
	defer close(release)
	users := func(yield func(string) bool) {
		if !yield(w.users[0].Identity) {
			return
		}
		<-release // the next name has not come yet
	}
	ctx, cancel := context.WithCancel(context.Background())
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: func(cleanup.Outcome) { cancel() }})
	done := make(chan error, 1)
	go func() {
		_, err := job.Users(ctx, users)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("Users did not return 5 s after its ctx was cancelled: it waits for the iterator")
	}
}

// TestASlowSourceOfNamesIsNotNoProgress: names that come slowly (a
// queue, a paginated query of another system) are not an API answering
// 429 to everything; the job is killed with ErrNoProgress, whose message
// blames the API, while the API answered every request at once.
func TestASlowSourceOfNamesIsNotNoProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, 2)
	users := func(yield func(string) bool) {
		for _, n := range w.identities() {
			time.Sleep(400 * time.Millisecond)
			if !yield(n) {
				return
			}
		}
	}
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, NoProgress: 200 * time.Millisecond})
	if r, err := job.Users(context.Background(), users); errors.Is(err, cleanup.ErrNoProgress) {
		t.Errorf("%+v, %v: the API answered everything; the names came slowly", r, err)
	}
}

// lockedBuffer is an audit sink whose contents can be copied at any moment.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// killer simulates a SIGKILL as the n-th request is about to be sent: it
// copies the journal and the audit as they are at that moment (the journal
// first: every outcome it holds was audited before), and from then on no
// request leaves the process. Requests already sent are served.
type killer struct {
	n       int64
	seen    atomic.Int64
	killed  atomic.Bool
	journal string
	audit   *lockedBuffer
	once    sync.Once
	jcopy   []byte
	acopy   string
}

func (k *killer) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if k.seen.Add(1) >= k.n {
			k.once.Do(func() { // later requests wait here: none leaves during the copy
				k.killed.Store(true)
				k.jcopy, _ = os.ReadFile(k.journal)
				k.acopy = k.audit.String()
			})
		}
		if k.killed.Load() {
			return nil, errors.New("killed: nothing leaves a dead process")
		}
		return rt.RoundTrip(r)
	})
}

// TestHeldAKillAtEveryRequestLosesNothing: for every moment a job of
// users (named twice, and by SID) or a walk can be killed, the job resumed
// from the journal as the kill left it removes every stale binding, none
// twice, no fresh one, and every removal the server served is audited as
// removed.
func TestHeldAKillAtEveryRequestLosesNothing(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"users", "service"} {
		for n := int64(1); n <= 34; n++ {
			t.Run(fmt.Sprintf("%s/kill at request %d", mode, n), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				k := &killer{n: n, journal: filepath.Join(dir, "job.journal"), audit: &lockedBuffer{}}
				w := newWorld(t, 6, 4, client.WithTransportWrapper(k.wrap), client.WithMaxRetries(1))
				w.srv.SetLatency(time.Duration(n%3) * time.Millisecond)
				var names []string
				names = append(names, w.identities()...)
				for _, u := range w.users {
					names = append(names, u.SID)
				}
				names = append(names, w.identities()...)
				opts := cleanup.Options{OlderThan: month, Apply: true, Journal: k.journal, Audit: k.audit, Concurrency: 3, PageSize: 5}
				run := func(job *cleanup.Job) (cleanup.Report, error) {
					if mode == "users" {
						return job.Users(context.Background(), slices.Values(names))
					}
					return job.Service(context.Background())
				}
				var first outcomes
				opts.OnOutcome = first.add
				job, _ := cleanup.New(w.service(), opts)
				r1, _ := run(job)
				first.agree(t, r1)
				if !k.killed.Load() {
					t.Skip("the job ended before the kill")
				}
				if err := os.WriteFile(k.journal, k.jcopy, 0o600); err != nil {
					t.Fatal(err)
				}
				// The process is started again: its requests go out.
				w2 := *w
				c, _ := w.srv.Client(client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
				w2.api = chat.New(c)
				audit2 := &lockedBuffer{}
				var got outcomes
				opts.Audit, opts.OnOutcome = audit2, got.add
				job, _ = cleanup.New(w2.service(), opts)
				r2, err := run(job)
				if err != nil {
					t.Fatalf("resumed: %+v, %v\njournal:\n%s", r2, err, k.jcopy)
				}
				got.agree(t, r2)
				if stale, _ := w.left(t); stale != 0 {
					t.Errorf("%d stale bindings left after the resume", stale)
				}
				if m := w.srv.Stats().RemoveMisses; m != 0 {
					t.Errorf("%d DELETEs found nothing: removed twice", m)
				}
				audits := k.acopy + audit2.String()
				for sid, stale := range w.stale {
					if stale && !strings.Contains(audits, `"sid":"`+string(sid)+`"`) {
						t.Errorf("%s was removed, and no audit line names it\njournal at the kill:\n%s\naudit at the kill:\n%s\naudit resumed:\n%s\nfirst report %+v\nsecond %+v", sid, k.jcopy, k.acopy, audit2.String(), r1, r2)
						continue
					}
					if stale && !regexpRemoved(audits, string(sid)) {
						t.Errorf("%s was removed by the job, and no audit line says removed:\n%s", sid, audits)
					}
				}
			})
		}
	}
}

// regexpRemoved reports whether an audit line for sid says removed.
func regexpRemoved(audits, sid string) bool {
	for _, l := range strings.Split(audits, "\n") {
		if strings.Contains(l, `"sid":"`+sid+`"`) && strings.Contains(l, `"outcome":"removed"`) {
			return true
		}
	}
	return false
}

// fakeAPI answers every list request at once, itself, with one fresh
// binding of the user named in the path; the first user's listing waits
// until its request ends (a user that never finishes).
func fakeAPI(t testing.TB, service string, stuck string) *chat.API {
	t.Helper()
	date := time.Now().UTC().Format(http.TimeFormat)
	var n atomic.Int64
	fake := roundTripper(func(r *http.Request) (*http.Response, error) {
		parts := strings.Split(r.URL.EscapedPath(), "/")
		user := parts[len(parts)-2]
		if user == stuck {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		i := n.Add(1)
		body := fmt.Sprintf(`{"meta":{"key":"bindings","next_page_url":null},"bindings":[{"sid":"BS%032x","service_sid":"%s","user_sid":"US%032x","identity":"%s","binding_type":"apn","date_updated":"%s"}]}`,
			i, service, i, user, time.Now().UTC().Format(time.RFC3339))
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "Date": {date}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	c, err := client.New(client.WithCredentials("AC0123456789abcdef0123456789abcdef", "token"), client.WithBaseURL("https://fake.invalid"),
		client.WithTransportWrapper(func(http.RoundTripper) http.RoundTripper { return fake }))
	if err != nil {
		t.Fatal(err)
	}
	return chat.New(c)
}

// TestAMillionUsersFitTheBound: "A file of a million users costs
// about 8 to 16 MiB, never the names"; issue 17's bound for the tool is
// 64 MiB RSS, also when the first user never finishes. The live heap is
// measured (after a GC) when the millionth name has been taken.
func TestAMillionUsersFitTheBound(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a million requests, and a heap the race detector would distort: run without -race (CI does)")
	}
	const service = "IS0123456789abcdef0123456789abcdef"
	api := fakeAPI(t, service, "u0000000")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var live uint64
	const million = 1_000_000
	users := func(yield func(string) bool) {
		for i := 0; i < million; i++ {
			if !yield(fmt.Sprintf("u%07d", i)) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // the last listings end
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		live = m.HeapAlloc
		cancel() // the first user never finishes
	}
	job, _ := cleanup.New(api.Services(service), cleanup.Options{OlderThan: month, Journal: "", Concurrency: 8})
	r, err := job.Users(ctx, users)
	t.Logf("%+v, %v; live heap %.1f MiB", r, err, float64(live)/(1<<20))
	if r.Scanned < million-10 {
		t.Fatalf("scanned %d", r.Scanned)
	}
	if live > 16<<20 {
		t.Errorf("a million users, the first unfinished: %.1f MiB live on the heap; the README says 8 to 16 MiB", float64(live)/(1<<20))
	}
}

// flaky fails its k-th Write only (from 0), as a disk that fills and is
// freed again would, and keeps what it was given.
type flaky struct {
	mu sync.Mutex
	k  int
	n  int
	b  bytes.Buffer
}

func (f *flaky) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.n-1 == f.k {
		return 0, errors.New("disk full")
	}
	return f.b.Write(p)
}

// TestHeldAWriteThatFailsAnywhereEndsTheJob: the audit's or the plan's
// k-th write fails, for every k: the job ends with a *WriteError, its
// report adds up, every removal is counted, and a plan so written is never
// accepted by ReadPlan.
func TestHeldAWriteThatFailsAnywhereEndsTheJob(t *testing.T) {
	t.Parallel()
	for k := 0; k < 14; k++ {
		for _, what := range []string{"audit", "plan"} {
			if what == "audit" && k >= 12 {
				continue // 12 outcomes: 12 writes
			}
			t.Run(fmt.Sprintf("%s/write %d", what, k), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, 4, 6)
				sink := &flaky{k: k}
				opts := cleanup.Options{OlderThan: month, Concurrency: 2}
				if what == "audit" {
					opts.Apply, opts.Audit = true, sink
				} else {
					opts.Plan = sink
				}
				var got outcomes
				opts.OnOutcome = got.add
				job, _ := cleanup.New(w.service(), opts)
				r, err := job.Users(context.Background(), w.names())
				var we *cleanup.WriteError
				if !errors.As(err, &we) || we.What != what {
					t.Errorf("err = %v, want a WriteError on the %s", err, what)
				}
				got.agree(t, r)
				if n := w.srv.Stats().Removed; n != r.Removed {
					t.Errorf("the emulator removed %d, the report says %d", n, r.Removed)
				}
				if what == "plan" {
					if p, err := cleanup.ReadPlan(bytes.NewReader(sink.b.Bytes())); err == nil {
						t.Errorf("a plan whose write %d failed was accepted: %+v\n%s", k, p, sink.b.String())
					}
				}
			})
		}
	}
}

// TestA429StormWithRetryAfterZeroIsNotHammered: an API that answers
// 429 with "Retry-After: 0" to everything (a proxy's default, or a date in
// the past) is asked again at once, without end: the job's growing waits
// (to 30 s) only apply when no Retry-After came, so the job sends as fast
// as the loopback allows until NoProgress ends it.
func TestA429StormWithRetryAfterZeroIsNotHammered(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2, client.WithRetryWait(50*time.Millisecond, time.Second))
	w.srv.Inject(chattest.Fault{Status: 429, RetryAfter: "0", Times: 1 << 30})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, NoProgress: time.Second})
	_, err := job.Users(context.Background(), w.names())
	n := w.srv.Stats().Requests
	t.Logf("%d requests in the second before NoProgress: %v", n, err)
	// With waits from 50 ms doubling, a second holds at most about 10.
	if n > 100 {
		t.Errorf("%d requests in about a second to an API answering 429 to each: the job does not back off", n)
	}
}

// TestHeldAnInterruptionAnywhereAddsUpAndResumes: cancelled after each
// number of outcomes, under a rate limit (removals waiting for their turn)
// and with latency (removals in flight), the report adds up, and the job
// resumed from its journal finishes the work, removing nothing twice.
func TestHeldAnInterruptionAnywhereAddsUpAndResumes(t *testing.T) {
	t.Parallel()
	for k := 1; k <= 12; k++ {
		for _, mode := range []string{"users", "service"} {
			t.Run(fmt.Sprintf("%s/after %d", mode, k), func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, 4, 6, client.WithRateLimit(client.RateLimit{PerSecond: 200, WritesOnly: true}))
				w.srv.SetLatency(time.Duration(k%3) * time.Millisecond)
				journal := filepath.Join(t.TempDir(), "j")
				ctx, cancel := context.WithCancel(context.Background())
				var got outcomes
				var seen atomic.Int64
				opts := cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Concurrency: 3, PageSize: 4, OnOutcome: func(o cleanup.Outcome) {
					got.add(o)
					if seen.Add(1) == int64(k) {
						cancel()
					}
				}}
				run := func(ctx context.Context, job *cleanup.Job) (cleanup.Report, error) {
					if mode == "users" {
						return job.Users(ctx, w.names())
					}
					return job.Service(ctx)
				}
				job, _ := cleanup.New(w.service(), opts)
				r1, err := run(ctx, job)
				cancel()
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Fatalf("first: %v", err)
				}
				got.agree(t, r1)
				if n := w.srv.Stats().Removed; n != r1.Removed {
					t.Errorf("the emulator removed %d, the report says %d", n, r1.Removed)
				}
				var again outcomes
				opts.OnOutcome = again.add
				job, _ = cleanup.New(w.service(), opts)
				r2, err := run(context.Background(), job)
				if err != nil {
					t.Fatalf("resumed: %v", err)
				}
				again.agree(t, r2)
				if stale, _ := w.left(t); stale != 0 || w.srv.Stats().RemoveMisses != 0 || r1.Removed+r2.Removed != 12 {
					t.Errorf("%d stale left; removed %d + %d of 12; %d misses", stale, r1.Removed, r2.Removed, w.srv.Stats().RemoveMisses)
				}
			})
		}
	}
}

// TestAUsersIteratorThatPanicsLeavesNothingRunning: the caller's
// iterator panics (a bug, a corrupt input file); the panic reaches the
// caller, who recovers. The job's listers and removers must not stay
// blocked for ever (nor its journal open): a service that runs jobs
// leaks 2×Concurrency goroutines per panic.
func TestAUsersIteratorThatPanicsLeavesNothingRunning(t *testing.T) {
	w := newWorld(t, 3, 2)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: filepath.Join(t.TempDir(), "j"), Concurrency: 4})
	users := func(yield func(string) bool) {
		yield(w.users[0].Identity)
		panic("the users file is corrupt")
	}
	func() {
		defer func() { _ = recover() }()
		_, _ = job.Users(context.Background(), users)
	}()
	var left int
	for i := 0; i < 100; i++ { // give them every chance to end
		time.Sleep(20 * time.Millisecond)
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		left = strings.Count(stacks, "cleanup.(*Job).Users.func1.1") + strings.Count(stacks, "cleanup.(*Job).run.func")
		if left == 0 {
			return
		}
	}
	t.Errorf("%d of the job's goroutines still blocked 2 s after its iterator panicked", left)
}

// TestAPanickingOnOutcomeCanBeRecovered: OnOutcome is the caller's
// code, called on the job's goroutines. When it panics, the process dies:
// the caller cannot recover, as it can from its own iterator. (Run in a
// child process.)
func TestAPanickingOnOutcomeCanBeRecovered(t *testing.T) {
	if os.Getenv("CLEANUP_PANIC_CHILD") == "1" {
		w := newWorld(t, 2, 2)
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: func(cleanup.Outcome) { panic("a bug in the caller's callback") }})
		defer func() {
			if recover() != nil {
				fmt.Println("RECOVERED")
			}
		}()
		_, _ = job.Users(context.Background(), w.names())
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAPanickingOnOutcomeCanBeRecovered$", "-test.v")
	cmd.Env = append(os.Environ(), "CLEANUP_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if !strings.Contains(string(out), "RECOVERED") {
		t.Errorf("a panic in OnOutcome killed the process (%v); the caller could not recover it:\n%.600s", err, out)
	}
}

// TestZeroValuesAreErrorsNotPanics: "never a panic on input".
// ApplyPlan(nil) is an error; Users(nil) and ApplyPlan of a Plan not read
// by ReadPlan (its fields are exported, so callers build them) panic.
func TestZeroValuesAreErrorsNotPanics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2)
	try := func(name string, f func() error) {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("%s panics: %v", name, p)
			}
		}()
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	try("Users(ctx, nil)", func() error {
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true})
		_, err := job.Users(context.Background(), nil)
		return err
	})
	try("ApplyPlan of a Plan built by hand", func() error {
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true})
		_, err := job.ApplyPlan(context.Background(), &cleanup.Plan{Header: cleanup.PlanHeader{Plan: 1, Service: w.svc.SID, Mode: "users", OlderThan: "720h0m0s"}})
		return err
	})
}

// TestAnAuditToAPipeWorks: the audit is an *os.File, so the job
// syncs it every second and at the end. An audit on stdout (a pipe to jq,
// a terminal, a container's log) cannot be synced: fsync says EINVAL, and
// the job ends with a WriteError, though every line was written.
func TestAnAuditToAPipeWorks(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 4)
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var lines atomic.Int64
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			lines.Add(int64(bytes.Count(buf[:n], []byte("\n"))))
			if err != nil {
				return
			}
		}
	}()
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Audit: wr})
	rep, err := job.Users(context.Background(), w.names())
	wr.Close()
	if err != nil {
		t.Errorf("an audit on a pipe: %+v, %v", rep, err)
	}
}

// TestASlowOnOutcomeIsNotNoProgress: "A slow OnOutcome slows the
// job", says Options; it also kills it, with ErrNoProgress blaming the API:
// a decision counts as a move only once OnOutcome has returned.
func TestASlowOnOutcomeIsNotNoProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 4)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, NoProgress: 200 * time.Millisecond,
		OnOutcome: func(cleanup.Outcome) { time.Sleep(400 * time.Millisecond) }}) // a prompt, a slow log sink
	if r, err := job.Users(context.Background(), w.names()); errors.Is(err, cleanup.ErrNoProgress) {
		t.Errorf("%+v, %v: every request was answered at once; OnOutcome was slow", r, err)
	}
}

// TestA429IsTriedAgainWithoutRetries: "What the API rate-limits is
// tried again without end, the waits growing to 30 s". A client made with
// WithMaxRetries(0) (the job does its own retrying) fails a removal on its
// first 429: the job's 429 loop asks NextRetry(err, 0), which says no.
func TestA429IsTriedAgainWithoutRetries(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2, client.WithMaxRetries(0))
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, Times: 1})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true})
	if r, err := job.Service(context.Background()); err != nil || r.Removed != 1 {
		t.Errorf("one 429: %+v, %v; want it waited out and the binding removed", r, err)
	}
}

// endless names users without end, as a large users file does.
func endless() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 0; ; i++ {
			if !yield(fmt.Sprintf("user-%d", i)) {
				return
			}
		}
	}
}

// TestA5xxForeverEndsTheJobAlsoWithOnOutcome: an API answering 503 to
// everything ends the job with ErrNoProgress, with an OnOutcome as without
// one (a failed listing given to OnOutcome once counted as a move, so the
// job went through every name of its file).
func TestA5xxForeverEndsTheJobAlsoWithOnOutcome(t *testing.T) {
	t.Parallel()
	for _, withOnOutcome := range []bool{false, true} {
		t.Run(fmt.Sprint("OnOutcome=", withOnOutcome), func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, 1, 2, client.WithMaxRetries(2))
			w.srv.Inject(chattest.Fault{Status: 503, Times: 1 << 30})
			opts := cleanup.Options{OlderThan: month, Apply: true, Concurrency: 1, NoProgress: 200 * time.Millisecond}
			if withOnOutcome {
				opts.OnOutcome = func(cleanup.Outcome) {}
			}
			job, _ := cleanup.New(w.service(), opts)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r, err := job.Users(ctx, endless())
			if !errors.Is(err, cleanup.ErrNoProgress) {
				t.Errorf("an API answering 503 to everything for 5 s, NoProgress 200ms: %v (listings failed: %d); want ErrNoProgress", err, r.ListFailed)
			}
		})
	}
}

// TestAJournalLinkBehindALinkedDirectoryIsFollowedAsTheKernelDoes: a
// relative link's ".." is read from the directory the link really is in,
// as the kernel reads it, also when that directory is reached through
// another link: the earlier run's journal is the one resumed.
func TestAJournalLinkBehindALinkedDirectoryIsFollowedAsTheKernelDoes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, 2)
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "real", "dir"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "real", "target"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "target"), 0o755)) // where the lexical join lands
	must(os.Symlink(filepath.Join(root, "real", "dir"), filepath.Join(root, "s")))
	must(os.Symlink("../target/journal", filepath.Join(root, "real", "dir", "link")))
	real := filepath.Join(root, "real", "target", "journal")
	viaLink := filepath.Join(root, "s", "link")
	if got, err := filepath.EvalSymlinks(filepath.Dir(viaLink)); err != nil || got == "" {
		t.Fatal(err)
	}

	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: real})
	if _, err := job.Users(context.Background(), w.names()); err != nil {
		t.Fatal(err)
	}
	// The same journal, named through the link: every user is done.
	job, _ = cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: viaLink})
	r, err := job.Users(context.Background(), w.names())
	if err != nil || r.Skipped != 3 {
		_, stray := os.Stat(filepath.Join(root, "target", "journal"))
		t.Errorf("resumed through %s (which leads to %s): %+v, %v; want the 3 users skipped (a journal was written at %s: %v)",
			viaLink, real, r, err, filepath.Join(root, "target", "journal"), stray == nil)
	}
}

// TestTheJobsOwnPacingOfListingsIsNotNoProgress: under a limit on every
// request (not WritesOnly), a healthy API paced at 4 requests a second is
// not stalled by a NoProgress of 150 ms: a lister waiting for its turn is
// the job's own pacing.
func TestTheJobsOwnPacingOfListingsIsNotNoProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 4, client.WithRateLimit(client.RateLimit{PerSecond: 4}))
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 1, PageSize: 2, NoProgress: 150 * time.Millisecond})
	r, err := job.Users(context.Background(), w.names())
	if err != nil || r.Removed != 2 {
		t.Errorf("%+v, %v: only the job's own rate limit (4 requests a second) paced it", r, err)
	}
}

// TestAJournalInUseIsErrRefused: a journal another job holds is refused
// as every journal that cannot be this job's is, with ErrRefused.
func TestAJournalInUseIsErrRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 2)
	journal := filepath.Join(t.TempDir(), "job.journal")
	held := make(chan struct{})
	release := make(chan struct{})
	names := func(yield func(string) bool) {
		close(held)
		<-release
	}
	first, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
	done := make(chan error, 1)
	go func() { _, err := first.Users(context.Background(), names); done <- err }()
	<-held
	second, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
	_, err := second.Users(context.Background(), w.names())
	close(release)
	<-done
	if err == nil || !errors.Is(err, cleanup.ErrRefused) {
		t.Errorf("a journal another job holds: %v; want ErrRefused", err)
	}
}

// TestAJournalThatIsNotARegularFileIsRefused: a FIFO (whose opening would
// wait for a writer for ever) or a directory named as the journal is
// refused at once, with ErrRefused.
func TestAJournalThatIsNotARegularFileIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	for _, path := range []string{fifo, dir} {
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: path})
		if _, err := job.Users(context.Background(), w.names()); !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("journal %s: %v, want ErrRefused saying it is not a regular file", path, err)
		}
	}
	if n := w.srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestA5xxForeverEndsTheJobWithASlowOnOutcome: the time in OnOutcome is
// taken off NoProgress's clock, not a reason to start it again: an API
// answering 503 to everything, with an OnOutcome of 20 ms, ends the job.
func TestA5xxForeverEndsTheJobWithASlowOnOutcome(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2, client.WithMaxRetries(2))
	w.srv.Inject(chattest.Fault{Status: 503, Times: 1 << 30})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 1, NoProgress: 200 * time.Millisecond,
		OnOutcome: func(cleanup.Outcome) { time.Sleep(20 * time.Millisecond) }})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r, err := job.Users(ctx, endless()); !errors.Is(err, cleanup.ErrNoProgress) {
		t.Errorf("503 to everything: %v after %d failed listings; want ErrNoProgress", err, r.ListFailed)
	}
}

// TestDELETEs5xxForeverUnderAWriteLimitEndTheJob: removers that spend
// their time waiting for their turn under a WritesOnly limit, every DELETE
// answered 503, end the job with ErrNoProgress instead of sending a DELETE
// for every stale binding of the service.
func TestDELETEs5xxForeverUnderAWriteLimitEndTheJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 80, client.WithMaxRetries(0), client.WithRateLimit(client.RateLimit{PerSecond: 20, WritesOnly: true}))
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 503, Times: 1 << 30})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 1, NoProgress: 200 * time.Millisecond})
	if r, err := job.Service(context.Background()); !errors.Is(err, cleanup.ErrNoProgress) || r.Failed >= 40 {
		t.Errorf("every DELETE 503: %v, %d removals failed; want ErrNoProgress well before all 40", err, r.Failed)
	}
}

// TestOneFailureThenThePaceOfTheJobIsNotNoProgress: after one 503, a
// healthy API paced by the job's own limit (4 requests a second, 250 ms
// apart) does not stall a NoProgress longer than that pace.
func TestOneFailureThenThePaceOfTheJobIsNotNoProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, 2, client.WithMaxRetries(0), client.WithRateLimit(client.RateLimit{PerSecond: 4}))
	w.srv.Inject(chattest.Fault{Method: "GET", Status: 503, Times: 1})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 1, NoProgress: time.Second})
	if r, err := job.Users(context.Background(), w.names()); err != nil && !errors.Is(err, cleanup.ErrFailed) || errors.Is(err, cleanup.ErrNoProgress) {
		t.Errorf("%+v, %v: one 503, then only the job's own rate limit paced it", r, err)
	}
}
