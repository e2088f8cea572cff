package cleanup_test

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/client"
)

const month = 30 * 24 * time.Hour

// world is an emulator with users whose bindings alternate stale (updated
// 60 days ago) and fresh (a day ago), types cycling.
type world struct {
	srv   *chattest.Server
	svc   *chattest.Service
	users []*chattest.User
	stale map[chat.BindingSID]bool
	api   *chat.API
}

func newWorld(t testing.TB, users, perUser int, opts ...client.Option) *world {
	t.Helper()
	srv := chattest.NewTestServer(t)
	w := &world{srv: srv, svc: srv.AddService(), stale: map[chat.BindingSID]bool{}}
	now := time.Now().UTC()
	types := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	for i := 0; i < users; i++ {
		u := w.svc.AddUser(fmt.Sprintf("user %d/ops@example.com", i))
		w.users = append(w.users, u)
		for k := 0; k < perUser; k++ {
			updated := now.Add(-24 * time.Hour)
			if k%2 == 0 {
				updated = now.Add(-2 * month)
			}
			sid := u.AddBinding(chattest.Binding{Type: types[k%3], DateUpdated: updated})
			w.stale[chat.BindingSID(sid)] = k%2 == 0
		}
	}
	c, err := srv.Client(append([]client.Option{client.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	w.api = chat.New(c)
	return w
}

func (w *world) service() chat.ServiceHandle { return w.api.Services(w.svc.SID) }

func (w *world) names() func(func(string) bool) {
	return slices.Values(w.identities())
}

func (w *world) identities() []string {
	var ids []string
	for _, u := range w.users {
		ids = append(ids, u.Identity)
	}
	return ids
}

// left counts the stale and fresh bindings still there, and fails the test
// if a fresh one is gone.
func (w *world) left(t testing.TB) (stale, fresh int) {
	t.Helper()
	for _, b := range w.svc.Bindings() {
		if w.stale[b.SID] {
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
		t.Errorf("%d fresh bindings left of %d: a binding that was not stale was removed", fresh, all)
	}
	return stale, fresh
}

// outcomes collects what OnOutcome is given, checking it is called one
// call at a time.
type outcomes struct {
	mu      sync.Mutex
	busy    bool
	overlap bool
	list    []cleanup.Outcome
}

func (o *outcomes) add(x cleanup.Outcome) {
	o.mu.Lock()
	if o.busy {
		o.overlap = true
	}
	o.busy = true
	o.mu.Unlock()
	time.Sleep(10 * time.Microsecond) // long enough for a second call to overlap, if calls could
	o.mu.Lock()
	o.list = append(o.list, x)
	o.busy = false
	o.mu.Unlock()
}

func (o *outcomes) count(r cleanup.Result) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := int64(0)
	for _, x := range o.list {
		if x.Result == r {
			n++
		}
	}
	return n
}

// agree checks that a report agrees with the outcomes given to OnOutcome.
func (o *outcomes) agree(t testing.TB, r cleanup.Report) {
	t.Helper()
	if o.overlap {
		t.Error("OnOutcome was called again before a call returned")
	}
	bindingFailures := int64(0)
	o.mu.Lock()
	for _, x := range o.list {
		if x.Result == cleanup.Failed && x.SID != "" {
			bindingFailures++
		}
	}
	o.mu.Unlock()
	got := cleanup.Report{WouldRemove: o.count(cleanup.WouldRemove), Removed: o.count(cleanup.Removed), AlreadyGone: o.count(cleanup.AlreadyGone),
		Kept: o.count(cleanup.Kept), Failed: bindingFailures, ListFailed: o.count(cleanup.Failed) - bindingFailures}
	want := cleanup.Report{WouldRemove: r.WouldRemove, Removed: r.Removed, AlreadyGone: r.AlreadyGone, Kept: r.Kept, Failed: r.Failed, ListFailed: r.ListFailed}
	if got != want {
		t.Errorf("the outcomes count %+v; the report %+v", got, want)
	}
	if sum := r.WouldRemove + r.Removed + r.AlreadyGone + r.Kept + r.Failed + r.NotDone; sum != r.Matched {
		t.Errorf("matched %d, but outcomes and not done add up to %d: %+v", r.Matched, sum, r)
	}
}

// counter is a transport wrapper that counts requests by method and path
// prefix, and the most DELETEs in flight at once.
type counter struct {
	mu       sync.Mutex
	requests map[string]int // "GET /v2/Services/…/Users/alice/Bindings" etc.
	deletes  map[string]int // by binding SID
	inFlight int
	most     int
	after    func(r *http.Request, resp *http.Response) // called after each response, if set
}

func (c *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		if c.requests == nil {
			c.requests, c.deletes = map[string]int{}, map[string]int{}
		}
		c.requests[r.Method+" "+r.URL.Path]++
		if r.Method == http.MethodDelete {
			c.deletes[path.Base(r.URL.Path)]++
			c.inFlight++
			c.most = max(c.most, c.inFlight)
		}
		c.mu.Unlock()
		resp, err := rt.RoundTrip(r)
		c.mu.Lock()
		if r.Method == http.MethodDelete {
			c.inFlight--
		}
		after := c.after
		c.mu.Unlock()
		if after != nil && err == nil {
			after(r, resp)
		}
		return resp, err
	})
}

// count is how many requests went to paths ending with suffix by method.
func (c *counter) count(method, suffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.requests {
		if strings.HasPrefix(k, method+" ") && strings.HasSuffix(k, suffix) {
			n += v
		}
	}
	return n
}

// userLists is how many list requests went to a user's bindings.
func (c *counter) userLists() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.requests {
		if strings.HasPrefix(k, "GET ") && strings.Contains(k, "/Users/") && strings.HasSuffix(k, "/Bindings") {
			n += v
		}
	}
	return n
}

// deletedTwice is how many bindings got more than one DELETE.
func (c *counter) deletedTwice() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.deletes {
		if v > 1 {
			n++
		}
	}
	return n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// watched is a world whose client's requests are counted.
func watched(t testing.TB, users, perUser int, opts ...client.Option) (*world, *counter) {
	t.Helper()
	c := &counter{}
	return newWorld(t, users, perUser, append(opts, client.WithTransportWrapper(c.wrap))...), c
}
