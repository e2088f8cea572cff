package cleanup_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/client"
)

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2)
	cases := []struct {
		opts  cleanup.Options
		field string
	}{
		{cleanup.Options{}, "OlderThan"},
		{cleanup.Options{OlderThan: -time.Hour}, "OlderThan"},
		{cleanup.Options{OlderThan: month, Types: []chat.BindingType{"voip"}}, "Types"},
		{cleanup.Options{OlderThan: month, Concurrency: -1}, "Concurrency"},
		{cleanup.Options{OlderThan: month, PageSize: -1}, "PageSize"},
		{cleanup.Options{OlderThan: month, PageSize: 1001}, "PageSize"},
		{cleanup.Options{OlderThan: month, Apply: true, Plan: &strings.Builder{}}, "Plan"},
		{cleanup.Options{OlderThan: month, Journal: "j"}, "Journal"},
		{cleanup.Options{OlderThan: month, Audit: &strings.Builder{}}, "Audit"},
	}
	for _, tc := range cases {
		_, err := cleanup.New(w.service(), tc.opts)
		var oe *cleanup.OptionError
		if !errors.As(err, &oe) || oe.Field != tc.field || !strings.Contains(err.Error(), "Options."+tc.field) {
			t.Errorf("%+v: %v, want an OptionError on %s", tc.opts, err, tc.field)
		}
	}
	for _, svc := range []chat.ServiceHandle{{}, w.api.Services("IS1"), w.api.Services("")} {
		var ve *client.ValidationError
		if _, err := cleanup.New(svc, cleanup.Options{OlderThan: month}); !errors.As(err, &ve) || ve.Param != "ServiceSid" {
			t.Errorf("a job on %q: %v, want a *client.ValidationError of ServiceSid", svc.SID(), err)
		}
	}
	if n := w.srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent for bad options", n)
	}
}

func TestUsersRemovesExactlyTheStale(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 20, 10)
	var got outcomes
	job, err := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: got.add})
	if err != nil {
		t.Fatal(err)
	}
	r, err := job.Users(context.Background(), w.names())
	if err != nil {
		t.Fatal(err)
	}
	if r.Scanned != 200 || r.Matched != 100 || r.Removed != 100 || r.Cutoff.IsZero() || r.Elapsed <= 0 {
		t.Errorf("report %+v", r)
	}
	got.agree(t, r)
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale left", stale)
	}
	for _, o := range got.list {
		if o.RequestID == "" || o.User == "" || o.Identity != o.User || o.Updated.IsZero() || o.Type == "" {
			t.Fatalf("an outcome without what it is about: %+v", o)
		}
	}
	if _, err := job.Users(context.Background(), w.names()); !errors.Is(err, cleanup.ErrUsed) {
		t.Errorf("a second run: %v", err)
	}
}

func TestServiceRemovesExactlyTheStale(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 20, 10)
	var got outcomes
	job, err := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: got.add, PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	r, err := job.Service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Scanned != 200 || r.Matched != 100 || r.Removed != 100 {
		t.Errorf("report %+v", r)
	}
	got.agree(t, r)
	if stale, _ := w.left(t); stale != 0 {
		t.Errorf("%d stale left", stale)
	}
}

func TestDryRunRemovesNothing(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 5, 10)
	var got outcomes
	job, err := cleanup.New(w.service(), cleanup.Options{OlderThan: month, OnOutcome: got.add})
	if err != nil {
		t.Fatal(err)
	}
	r, err := job.Users(context.Background(), w.names())
	if err != nil || r.WouldRemove != 25 || r.Matched != 25 || r.Removed != 0 {
		t.Fatalf("%+v, %v", r, err)
	}
	got.agree(t, r)
	if n := c.count("DELETE", ""); n != 0 || w.srv.Stats().Removed != 0 {
		t.Errorf("a dry run sent %d DELETEs", n)
	}
}

func TestTypesAreHeld(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, 30)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Types: []chat.BindingType{chat.BindingTypeAPN}})
	r, err := job.Service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range w.svc.Bindings() {
		if w.stale[b.SID] && b.BindingType == chat.BindingTypeAPN {
			t.Fatalf("a stale apn binding is left: %s", b.SID)
		}
	}
	if stale, _ := w.left(t); stale != 30 || r.Removed != 15 {
		t.Errorf("%d stale left, %d removed; want 30 and 15 (only the stale apn ones removed)", stale, r.Removed)
	}
}

// TestTheAPIClockSetsTheCutoff: bindings updated 20 days ago by this
// machine's clock are 60 days old by an API whose clock runs 40 days ahead,
// and are removed under 30 days; 45 days behind, 60-day-old ones are 15
// days old, and kept.
func TestTheAPIClockSetsTheCutoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		skew, age   time.Duration
		wantRemoved int64
	}{
		{40 * 24 * time.Hour, 20 * 24 * time.Hour, 3},
		{-45 * 24 * time.Hour, 60 * 24 * time.Hour, 0},
	} {
		srv := chattest.NewTestServer(t)
		svc := srv.AddService()
		u := svc.AddUser("alice")
		for i := 0; i < 3; i++ {
			u.AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-tc.age)})
		}
		srv.SetClockSkew(tc.skew)
		c, _ := srv.Client()
		job, _ := cleanup.New(chat.New(c).Services(svc.SID), cleanup.Options{OlderThan: month, Apply: true})
		r, err := job.Users(context.Background(), slices.Values([]string{"alice"}))
		if err != nil || r.Removed != tc.wantRemoved {
			t.Errorf("skew %v: %+v, %v; want %d removed", tc.skew, r, err, tc.wantRemoved)
		}
		if want := time.Now().Add(tc.skew - month); r.Cutoff.Sub(want).Abs() > time.Minute {
			t.Errorf("skew %v: cutoff %v, want about %v", tc.skew, r.Cutoff, want)
		}
	}
}

// TestABindingOfUnknownAgeIsNeverStale: a binding with no date_updated is
// not matched, however old the cutoff.
func TestABindingOfUnknownAgeIsNeverStale(t *testing.T) {
	t.Parallel()
	const svc, user = "IS0123456789abcdef0123456789abcdef", "US0123456789abcdef0123456789abcdef"
	var deletes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes.Add(1)
		}
		w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
		_, _ = w.Write([]byte(`{"meta":{"key":"bindings","next_page_url":null},"bindings":[` +
			`{"sid":"BS0123456789abcdef0123456789abcdef","service_sid":"` + svc + `","user_sid":"` + user + `","identity":"alice","binding_type":"apn","date_updated":null},` +
			`{"sid":"BS0123456789abcdef0123456789abcdee","service_sid":"` + svc + `","user_sid":"` + user + `","identity":"alice","binding_type":"apn"}]}`))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.WithCredentials("AC0123456789abcdef0123456789abcdef", "token"), client.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	job, _ := cleanup.New(chat.New(c).Services(svc), cleanup.Options{OlderThan: time.Nanosecond, Apply: true})
	r, err := job.Users(context.Background(), slices.Values([]string{user}))
	if err != nil || r.Scanned != 2 || r.Matched != 0 || deletes.Load() != 0 {
		t.Fatalf("%+v, %v, %d DELETEs", r, err, deletes.Load())
	}
}

// TestEachBindingIsJudgedOnce: users named twice are listed once; a user
// named by identity and by SID is listed under each name; either way each
// stale binding is judged and removed once.
func TestEachBindingIsJudgedOnce(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 10, 6)
	names := append(w.identities(), w.identities()...)
	for _, u := range w.users {
		names = append(names, u.SID)
	}
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 3})
	r, err := job.Users(context.Background(), slices.Values(names))
	if err != nil || r.Matched != 30 || r.Removed != 30 {
		t.Fatalf("%+v, %v", r, err)
	}
	if st := w.srv.Stats(); st.RemoveMisses != 0 || c.deletedTwice() != 0 {
		t.Errorf("removed twice: %d", st.RemoveMisses)
	}
	if n := c.userLists(); n != 20 {
		t.Errorf("%d listings of 10 users named 30 times; want 20: each identity and each SID once", n)
	}
}

// TestARefreshedBindingIsKept: a device that registers again between the
// listing and the removal keeps its binding.
func TestARefreshedBindingIsKept(t *testing.T) {
	t.Parallel()
	c := &counter{}
	w := newWorld(t, 1, 10, client.WithTransportWrapper(c.wrap))
	u := w.users[0]
	var once atomic.Bool
	c.after = func(r *http.Request, _ *http.Response) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Bindings") && once.CompareAndSwap(false, true) {
			for _, b := range u.Bindings() { // listed: now every device registers again
				u.RefreshBinding(string(b.SID), time.Now())
			}
		}
	}
	var got outcomes
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: got.add})
	r, err := job.Users(context.Background(), slices.Values([]string{u.Identity}))
	if err != nil || r.Matched != 5 || r.Kept != 5 || r.Removed != 0 || len(u.Bindings()) != 10 {
		t.Fatalf("%+v, %v, %d left", r, err, len(u.Bindings()))
	}
	for _, o := range got.list {
		if o.Result != cleanup.Kept || time.Since(o.Updated) > time.Minute {
			t.Errorf("outcome %+v: want kept, with the date it was refreshed to", o)
		}
	}
}

// TestOutcomesComeAsDecided: the first outcome reaches OnOutcome while
// most of the job is still to do.
func TestOutcomesComeAsDecided(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, 20)
	var staleAtFirst atomic.Int64
	staleAtFirst.Store(-1)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 2, OnOutcome: func(cleanup.Outcome) {
		if staleAtFirst.Load() < 0 {
			stale, _ := w.left(t)
			staleAtFirst.Store(int64(stale))
		}
	}})
	if _, err := job.Users(context.Background(), w.names()); err != nil {
		t.Fatal(err)
	}
	if n := staleAtFirst.Load(); n < 90 {
		t.Errorf("at the first outcome, %d of 100 stale bindings were left: outcomes came late", n)
	}
}

// TestConcurrencyBoundsRemovals: at most Concurrency removals at once, 8
// by default.
func TestConcurrencyBoundsRemovals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ set, want int }{{0, 8}, {3, 3}} {
		w, c := watched(t, 4, 60)
		w.srv.SetLatency(2 * time.Millisecond)
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: tc.set})
		if _, err := job.Users(context.Background(), w.names()); err != nil {
			t.Fatal(err)
		}
		if c.most > tc.want || c.most < 2 {
			t.Errorf("Concurrency %d: %d DELETEs in flight at most; want between 2 and %d", tc.set, c.most, tc.want)
		}
	}
}

// TestAnInterruptedJobAccountsForEverything: stopped midway, the job says
// so, every stale binding has an outcome or is counted not done, and the
// removals in flight finish.
func TestAnInterruptedJobAccountsForEverything(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, 20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got outcomes
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: func(o cleanup.Outcome) {
		got.add(o)
		if len(got.list) == 20 {
			cancel()
		}
	}})
	r, err := job.Users(ctx, w.names())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	got.agree(t, r)
	if stale, _ := w.left(t); int64(stale) != 100-r.Removed || r.Removed < 20 || r.Failed != 0 {
		t.Errorf("%d stale left after %+v", stale, r)
	}
}

// TestNoProgressEndsTheJob: an API answering 429 to everything ends the
// job after NoProgress, with ErrNoProgress.
func TestNoProgressEndsTheJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3, 4)
	w.srv.Inject(chattest.Fault{Status: 429, Times: 1 << 30})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, NoProgress: 300 * time.Millisecond})
	r, err := job.Users(context.Background(), w.names())
	if !errors.Is(err, cleanup.ErrNoProgress) || r.Removed != 0 {
		t.Fatalf("%+v, %v; want ErrNoProgress", r, err)
	}
}

// TestA429StormIsWaitedOut: 429s without Retry-After, more than the client
// retries, are waited out: every stale binding is removed.
func TestA429StormIsWaitedOut(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 20, client.WithMaxRetries(2))
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, Times: 60})
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Concurrency: 4})
	r, err := job.Service(context.Background())
	if err != nil || r.Removed != 20 || r.Failed != 0 {
		t.Fatalf("%+v, %v", r, err)
	}
}

// TestARetryAfterBeyondTheLimitFails: a 429 asking for an hour is not
// waited out, nor retried early: the removal fails, and says why.
func TestARetryAfterBeyondTheLimitFails(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 1, 2, client.WithRetryAfterLimit(time.Second))
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, RetryAfter: "3600", Times: 100})
	var got outcomes
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: got.add})
	r, err := job.Service(context.Background())
	if !errors.Is(err, cleanup.ErrFailed) || r.Failed != 1 || c.count("DELETE", "") != 1 {
		t.Fatalf("%+v, %v after %d DELETEs; want one failure after one", r, err, c.count("DELETE", ""))
	}
	if o := got.list[0]; o.Result != cleanup.Failed || !client.IsRateLimited(o.Err) || o.RequestID == "" {
		t.Errorf("outcome %+v", o)
	}
}

// TestAListingThatFailsIsReported: a user that cannot be listed has an
// outcome without a SID, and the job ends with ErrFailed.
func TestAListingThatFailsIsReported(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 2)
	var got outcomes
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, OnOutcome: got.add, Concurrency: 1})
	r, err := job.Users(context.Background(), slices.Values([]string{"nobody", w.users[0].Identity, "."}))
	if !errors.Is(err, cleanup.ErrFailed) || r.ListFailed != 2 || r.Removed != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
	got.agree(t, r)
	for _, o := range got.list {
		if o.Result == cleanup.Failed && (o.SID != "" || o.Err == nil || (o.User != "nobody" && o.User != ".")) {
			t.Errorf("a failed listing: %+v", o)
		}
	}
}

// TestASlowRateIsNotNoProgress: a job paced by its own rate limit, slower
// than NoProgress allows between two removals, is not stalled: waiting for
// its own turn is not waiting for the API.
func TestASlowRateIsNotNoProgress(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 6, client.WithRateLimit(client.RateLimit{PerSecond: 2, WritesOnly: true}))
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, NoProgress: 200 * time.Millisecond, Concurrency: 1})
	if r, err := job.Users(context.Background(), w.names()); err != nil || r.Removed != 3 {
		t.Fatalf("%+v, %v: a job paced at 2 removals a second, NoProgress 200 ms", r, err)
	}
}
