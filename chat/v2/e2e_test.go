package chat_test

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// fixture is an emulator seeded with one user, and an API pointed at it
// with millisecond retry waits.
type fixture struct {
	srv  *chattest.Server
	svc  *chattest.Service
	user *chattest.User
	api  *chat.API
}

func newFixture(t *testing.T, identity string, n int, opts ...client.Option) *fixture {
	t.Helper()
	srv := chattest.NewServer()
	t.Cleanup(srv.Close)
	svc := srv.AddService()
	u := svc.AddUser(identity)
	types := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	for i := 0; i < n; i++ {
		u.AddBinding(chattest.Binding{Type: types[i%3]})
	}
	c, err := srv.Client(append([]client.Option{client.WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, svc: svc, user: u, api: chat.New(c)}
}

func (f *fixture) bindings() chat.UserBindings {
	return f.api.Services(f.svc.SID).Users(f.user.Identity).UserBindings
}

func sids(t *testing.T, seq func(func(*chat.UserBinding, error) bool)) []string {
	t.Helper()
	var out []string
	for b, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b.SID))
	}
	return out
}

func TestE2EFetchListRemove(t *testing.T) {
	t.Parallel()
	for _, identity := range []string{"alice", "alice@example.com", "Jane Doe / ops?#%&+;", "日本 😀"} {
		f := newFixture(t, identity, 7)
		ctx := context.Background()
		want := f.user.Bindings()
		got := sids(t, f.bindings().List(ctx, &chat.UserBindingListParams{PageSize: 2}))
		if len(got) != 7 || got[0] != string(want[0].SID) || got[6] != string(want[6].SID) {
			t.Fatalf("%q: listed %v", identity, got)
		}
		b, err := f.bindings()(got[3]).Fetch(ctx)
		if err != nil || b.Identity != identity || b.UserSID != chat.UserSID(f.user.SID) || b.SID != want[3].SID || b.Endpoint != want[3].Endpoint ||
			!b.DateUpdated.Equal(want[3].DateUpdated) || b.URL != want[3].URL {
			t.Fatalf("%q: Fetch = %+v, %v", identity, b, err)
		}
		if err := f.bindings()(got[3]).Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bindings()(got[3]).Fetch(ctx); !client.IsNotFound(err) {
			t.Fatalf("Fetch after Remove: %v", err)
		}
		if err := f.bindings()(got[3]).Remove(ctx); !client.IsNotFound(err) {
			t.Fatalf("second Remove: %v", err)
		}
		if n := len(f.user.Bindings()); n != 6 {
			t.Fatalf("%d left", n)
		}
		// The same user by SID.
		bySID := f.api.Services(f.svc.SID).Users(f.user.SID).UserBindings
		if n := len(sids(t, bySID.List(ctx, nil))); n != 6 {
			t.Fatalf("by SID: %d", n)
		}
	}
}

func TestE2EFiltersLimitAndResume(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "bob", 30)
	ctx := context.Background()
	apn := sids(t, f.bindings().List(ctx, &chat.UserBindingListParams{BindingType: []chat.BindingType{chat.BindingTypeAPN}, PageSize: 3}))
	if len(apn) != 10 {
		t.Fatalf("%d apn bindings, want 10", len(apn))
	}
	two := sids(t, f.bindings().List(ctx, &chat.UserBindingListParams{BindingType: []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeFCM}}))
	if len(two) != 20 {
		t.Fatalf("%d apn+fcm bindings, want 20", len(two))
	}
	before := f.srv.Stats().Requests
	limited := sids(t, f.bindings().List(ctx, &chat.UserBindingListParams{Limit: 4}))
	if len(limited) != 4 || f.srv.Stats().Requests-before != 1 {
		t.Fatalf("Limit 4: %d bindings in %d requests", len(limited), f.srv.Stats().Requests-before)
	}
	// A job reads one page, saves the next URL, and resumes in a new listing.
	first, err := f.bindings().FirstPage(ctx, &chat.UserBindingListParams{PageSize: 7, BindingType: []chat.BindingType{chat.BindingTypeGCM}})
	if err != nil {
		t.Fatal(err)
	}
	saved := first.Meta.NextPageURL
	u, _ := url.Parse(saved)
	if u.Host != strings.TrimPrefix(f.srv.URL, "http://") || u.Query().Get("BindingType") != "gcm" {
		t.Fatalf("next page URL %q", saved)
	}
	var resumed []string
	page, err := f.bindings().PageFromURL(ctx, saved)
	for ; page != nil && err == nil; page, err = page.Next(ctx) {
		for _, b := range page.Bindings {
			resumed = append(resumed, string(b.SID))
		}
	}
	if err != nil || len(first.Bindings)+len(resumed) != 10 {
		t.Fatalf("resumed %d after %d: %v", len(resumed), len(first.Bindings), err)
	}
}

func TestE2ERetriesHonourRetryAfter(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "carol", 5)
	f.srv.Inject(chattest.Fault{Status: 429, RetryAfter: "1"})
	f.srv.Inject(chattest.Fault{Status: 503, Times: 2})
	start := time.Now()
	got := sids(t, f.bindings().List(context.Background(), nil))
	if len(got) != 5 {
		t.Fatalf("%d bindings", len(got))
	}
	if waited := time.Since(start); waited < 900*time.Millisecond {
		t.Errorf("Retry-After: 1 was not honoured: listing took %v", waited)
	}
	if st := f.srv.Stats(); st.Requests != 4 {
		t.Errorf("%d requests, want 4", st.Requests)
	}
}

func TestE2EDeadlineOverSlowResponses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "dave", 3)
	f.srv.SetLatency(2 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.bindings()(string(f.user.Bindings()[0].SID)).Fetch(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > time.Second {
		t.Error("the call outlived its deadline")
	}
}

func TestE2EDeleteEverythingWhileIterating(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "erin", 250)
	ctx := context.Background()
	seen := map[string]bool{}
	for b, err := range f.bindings().List(ctx, &chat.UserBindingListParams{PageSize: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(b.SID)] {
			t.Fatalf("%s yielded twice", b.SID)
		}
		seen[string(b.SID)] = true
		if err := f.bindings()(string(b.SID)).Remove(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st := f.srv.Stats()
	if len(seen) != 250 || len(f.user.Bindings()) != 0 || st.Removed != 250 || st.RemoveMisses != 0 {
		t.Fatalf("saw %d, %d left, stats %+v", len(seen), len(f.user.Bindings()), st)
	}
}

func TestE2EWrongCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "frank", 1)
	for _, opt := range []client.Option{
		client.WithCredentials(f.srv.AccountSID, "wrong-token"),
		client.WithAPIKey(f.srv.APIKeySID, "wrong-secret", f.srv.AccountSID),
	} {
		c, err := client.New(opt, client.WithBaseURL(f.srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, err = chat.New(c).Services(f.svc.SID).Users("frank").UserBindings.FirstPage(context.Background(), nil)
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Code != 20003 || apiErr.Status != 401 || !client.IsUnauthorized(err) || apiErr.RequestID == "" {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "wrong-") {
			t.Fatal("the error reveals the secret")
		}
	}
	c, _ := client.New(client.WithAPIKey(f.srv.APIKeySID, f.srv.APIKeySecret, f.srv.AccountSID), client.WithBaseURL(f.srv.URL))
	if _, err := chat.New(c).Services(f.svc.SID).Users("frank").UserBindings.FirstPage(context.Background(), nil); err != nil {
		t.Fatalf("API key: %v", err)
	}
}

func TestE2EHundredPagesOneConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "grace", 100)
	got := sids(t, f.bindings().List(context.Background(), &chat.UserBindingListParams{PageSize: 1}))
	if st := f.srv.Stats(); len(got) != 100 || st.Requests != 100 || st.Connections != 1 {
		t.Fatalf("%d bindings, stats %+v: want 100 requests on 1 connection", len(got), st)
	}
	// Removals, 204s with no body, reuse it too.
	for _, sid := range got {
		if err := f.bindings()(sid).Remove(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.srv.Stats(); st.Requests != 200 || st.Connections != 1 {
		t.Fatalf("stats %+v after 100 removals: want 200 requests on 1 connection", st)
	}
}

func TestE2ECutConnectionMidPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "heidi", 60)
	var got []string
	for b, err := range f.bindings().List(context.Background(), &chat.UserBindingListParams{PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b.SID))
		// Break the next page's first attempts in three ways, every page.
		if len(got)%10 == 5 && len(got) < 50 {
			f.srv.Inject(chattest.Fault{CutBody: true, Method: "GET"})
			f.srv.Inject(chattest.Fault{Status: 503, Method: "GET"})
			f.srv.Inject(chattest.Fault{Status: 502, Method: "GET", Body: "<html>proxy</html>", ContentType: "text/html"})
		}
	}
	sorted := append([]string(nil), got...)
	sort.Strings(sorted)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			t.Fatalf("%s yielded twice", sorted[i])
		}
	}
	if len(got) != 60 || f.srv.PendingFaults() != 0 {
		t.Fatalf("%d bindings, want 60; %d faults unused", len(got), f.srv.PendingFaults())
	}
}

func TestE2EHundredThousandBindings(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 100,000 bindings")
	}
	t.Parallel()
	f := newFixture(t, "ivan", 100_000)
	f.srv.SetLimits(chattest.Limits{MaxPageSize: chat.MaxPageSize}) // the seed's range
	n := 0
	for _, err := range f.bindings().List(context.Background(), &chat.UserBindingListParams{PageSize: chat.MaxPageSize}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 100_000 || f.srv.Stats().Requests != 100 {
		t.Fatalf("%d bindings in %d requests", n, f.srv.Stats().Requests)
	}
}

func TestE2ERemoveAcceptRetriedNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "judy", 2)
	ctx := context.Background()
	left := f.user.Bindings()
	for i, accept := range []bool{false, true} {
		// The first DELETE removes the binding, but its answer is lost (a
		// 502 from a proxy); the retry then finds nothing.
		f.srv.Inject(chattest.Fault{Method: "DELETE", ServeFirst: true, Status: 502, Body: "<html>lost</html>", ContentType: "text/html"})
		var opts []chat.RemoveOption
		if accept {
			opts = append(opts, chat.AcceptRetriedNotFound())
		}
		err := f.bindings()(string(left[i].SID)).Remove(ctx, opts...)
		var apiErr *client.Error
		switch {
		case accept && err != nil:
			t.Errorf("with AcceptRetriedNotFound: %v", err)
		case !accept && (!errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Attempts != 2):
			t.Errorf("without the option: %v, want a 404 after 2 attempts", err)
		}
	}
	if st := f.srv.Stats(); st.Removed != 2 || st.RemoveMisses != 2 || len(f.user.Bindings()) != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestE2EServiceWideBindings walks a service's bindings across users with
// every listing option, and removes through both resources.
func TestE2EServiceWideBindings(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	identities := []string{"alice", "bob@example.com", "carol / ops", "dave?", "日本"}
	types := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	for i := 0; i < 35; i++ {
		svc.AddUser(identities[i%5]).AddBinding(chattest.Binding{Type: types[i%3]})
	}
	c, _ := srv.Client(client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	api := chat.New(c)
	all := api.Services(svc.SID).Bindings
	ctx := context.Background()
	list := func(p *chat.BindingListParams) []*chat.Binding {
		t.Helper()
		var out []*chat.Binding
		for b, err := range all.List(ctx, p) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	want := svc.Bindings()
	got := list(&chat.BindingListParams{PageSize: 4, Prefetch: true})
	if len(got) != 35 {
		t.Fatalf("listed %d of 35", len(got))
	}
	for i, b := range got {
		if b.SID != want[i].SID || b.Identity != want[i].Identity || b.UserURL == "" || b.URL == "" || !b.DateUpdated.Equal(want[i].DateUpdated) {
			t.Fatalf("binding %d = %+v, want %+v", i, b, want[i])
		}
	}
	if n := len(list(&chat.BindingListParams{Identity: []string{"carol / ops", "日本"}, PageSize: 3})); n != 14 {
		t.Errorf("two identities: %d bindings, want 14", n)
	}
	if n := len(list(&chat.BindingListParams{BindingType: []chat.BindingType{chat.BindingTypeGCM}, Identity: []string{"alice"}})); n != 2 {
		t.Errorf("gcm of alice: %d bindings, want 2", n)
	}
	before := srv.Stats().Requests
	if n := len(list(&chat.BindingListParams{Limit: 6})); n != 6 || srv.Stats().Requests-before != 1 {
		t.Errorf("Limit 6: %d bindings in %d requests", n, srv.Stats().Requests-before)
	}

	// Page by hand, save the next URL, resume in a new listing.
	first, err := all.FirstPage(ctx, &chat.BindingListParams{PageSize: 10, BindingType: []chat.BindingType{chat.BindingTypeFCM}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(first.Bindings)
	for p, err := all.PageFromURL(ctx, first.Meta.NextPageURL); p != nil || err != nil; p, err = p.Next(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range p.Bindings {
			if b.BindingType != chat.BindingTypeFCM {
				t.Fatalf("resumed listing lost its filter: %s", b.BindingType)
			}
		}
		n += len(p.Bindings)
	}
	if n != 11 {
		t.Errorf("fcm bindings by pages: %d, want 11", n)
	}
	pages := 0
	for _, err := range all.Pages(ctx, &chat.BindingListParams{PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
	}
	if pages != 4 {
		t.Errorf("%d pages of 10 for 35 bindings", pages)
	}

	// One store: removed through one resource, gone from both.
	alice := api.Services(svc.SID).Users("alice").UserBindings
	b0 := got[0]
	fetched, err := all(string(b0.SID)).Fetch(ctx)
	if err != nil || fetched.SID != b0.SID || fetched.Identity != "alice" {
		t.Fatalf("Fetch = %+v, %v", fetched, err)
	}
	if err := all(string(b0.SID)).Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := alice(string(b0.SID)).Fetch(ctx); !client.IsNotFound(err) {
		t.Errorf("removed service-wide, the user's view says %v", err)
	}
	b1 := got[5] // alice's second binding
	if err := alice(string(b1.SID)).Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := all(string(b1.SID)).Fetch(ctx); !client.IsNotFound(err) {
		t.Errorf("removed through the user, the service's view says %v", err)
	}
	srv.Inject(chattest.Fault{Method: "DELETE", ServeFirst: true, Status: 503})
	if err := all(string(got[1].SID)).Remove(ctx, chat.AcceptRetriedNotFound()); err != nil {
		t.Errorf("a lost success, accepted: %v", err)
	}
	if left := len(svc.Bindings()); left != 32 {
		t.Errorf("%d bindings left, want 32", left)
	}
}

// TestE2EClientRateLimitUnderAWriteBudget removes bindings from an
// emulator with a write budget (scaled down: 100 per second over a 1 s
// window): a fixed client limit under the budget meets no 429 at all, and
// an adaptive one capped at twice the budget settles under it, with few
// 429s. Both counts are upper bounds that a slow machine only lowers.
func TestE2EClientRateLimitUnderAWriteBudget(t *testing.T) {
	t.Parallel()
	budget := chattest.Limits{WritesPerSecond: 100, WriteWindow: time.Second}
	fast := client.WithRetryWait(10*time.Millisecond, 500*time.Millisecond)
	fixed := removeUnderBudget(t, 200, 16, budget, 2*time.Millisecond, &client.RateLimit{PerSecond: 80, WritesOnly: true}, fast)
	if fixed.refused != 0 {
		t.Errorf("a fixed limit of 80/s under a budget of 100/s met %d 429s", fixed.refused)
	}
	adaptive := removeUnderBudget(t, 300, 16, budget, 2*time.Millisecond, &client.RateLimit{PerSecond: 200, Adaptive: true, WritesOnly: true}, fast)
	t.Logf("fixed 80/s: %.0f removals/s, %d 429s; adaptive capped at 200/s: %.0f removals/s, %d 429s of %d DELETEs, ending at %.0f/s",
		fixed.rate, fixed.refused, adaptive.rate, adaptive.refused, adaptive.deletes, adaptive.finalRate)
	if adaptive.refused*10 > adaptive.deletes || adaptive.finalRate >= 200 {
		t.Errorf("adaptive: %d of %d DELETEs answered 429 (want at most 10%%), rate ended at %.0f/s", adaptive.refused, adaptive.deletes, adaptive.finalRate)
	}
}
