package chattest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/client"
)

func TestMaxPageSize(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN)
	lists := []string{"/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings", "/v2/Services/" + svc.SID + "/Bindings"}
	for _, list := range lists {
		if r := s.get(t, list+"?PageSize=50"); r.status != 200 {
			t.Errorf("PageSize 50: %d %s", r.status, r.raw)
		}
		if r := s.get(t, list+"?PageSize=51"); r.status != 400 || r.body["code"] != 20001.0 || !strings.Contains(r.raw, "from 1 to 50") {
			t.Errorf("PageSize 51 by default: %d %s", r.status, r.raw)
		}
	}
	s.SetLimits(Limits{MaxPageSize: 1000})
	for _, list := range lists {
		if r := s.get(t, list+"?PageSize=1000"); r.status != 200 {
			t.Errorf("PageSize 1000 when raised: %d %s", r.status, r.raw)
		}
		if r := s.get(t, list+"?PageSize=1001"); r.status != 400 {
			t.Errorf("PageSize 1001: %d %s", r.status, r.raw)
		}
	}
	if st := s.Stats(); st.RefusedPageSize != 4 {
		t.Errorf("stats %+v, want 4 refused page sizes", st)
	}
}

func TestWriteBudget(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc, other := s.AddService(), s.AddService()
	u, o := svc.AddUser("alice"), other.AddUser("bob")
	var sids []string
	for i := 0; i < 6; i++ {
		sids = append(sids, u.AddBinding(Binding{}))
	}
	otherSID := o.AddBinding(Binding{})
	// A budget of 2 writes in any 300 ms.
	s.SetLimits(Limits{WritesPerSecond: 20.0 / 3, WriteWindow: 300 * time.Millisecond})
	del := func(service, sid string) result {
		return call(t, s, "DELETE", "/v2/Services/"+service+"/Bindings/"+sid, s.AccountSID, s.AuthToken)
	}
	start := time.Now()
	if r := del(svc.SID, sids[0]); r.status != 204 {
		t.Fatalf("first DELETE: %d", r.status)
	}
	if r := call(t, s, "DELETE", "/v2/Services/"+svc.SID+"/Users/alice/Bindings/"+sids[1], s.AccountSID, s.AuthToken); r.status != 204 {
		t.Fatalf("second DELETE, per user: %d", r.status)
	}
	r := del(svc.SID, sids[2])
	if time.Since(start) < 250*time.Millisecond {
		if r.status != 429 || r.body["code"] != 20429.0 || r.header.Get("Retry-After") != "" {
			t.Fatalf("third DELETE within the window: %d %v %s", r.status, r.header, r.raw)
		}
		// Reads are not writes; another service has its own budget.
		if g := s.get(t, "/v2/Services/"+svc.SID+"/Bindings"); g.status != 200 {
			t.Errorf("a read was refused: %d", g.status)
		}
		if d := del(other.SID, otherSID); d.status != 204 {
			t.Errorf("another service's write was refused: %d", d.status)
		}
		if st := s.Stats(); st.RefusedWrites != 1 || st.Removed != 3 {
			t.Errorf("stats %+v", st)
		}
	}
	time.Sleep(350 * time.Millisecond)
	if r := del(svc.SID, sids[3]); r.status != 204 {
		t.Errorf("after the window: %d", r.status)
	}
	s.SetLimits(Limits{WritesPerSecond: 1.0 / 3600, WriteWindow: time.Hour, RetryAfter: "7"}) // one write an hour
	del(svc.SID, sids[4])
	if r := del(svc.SID, sids[5]); r.status != 429 || r.header.Get("Retry-After") != "7" {
		t.Errorf("with RetryAfter: %d %v", r.status, r.header)
	}
}

func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN)
	s.SetLimits(Limits{MaxInFlight: 2})
	s.SetLatency(time.Second) // all five arrive while the first two are served
	list := "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings"
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.get(t, list)
			mu.Lock()
			codes[r.status]++
			mu.Unlock()
			if r.status == 429 && r.body["code"] != 20429.0 {
				t.Errorf("429 without code 20429: %s", r.raw)
			}
		}()
	}
	wg.Wait()
	if codes[200] != 2 || codes[429] != 3 || s.Stats().RefusedInFlight != 3 {
		t.Errorf("statuses %v, stats %+v; want 2 served and 3 refused", codes, s.Stats())
	}
	s.SetLatency(0)
	if r := s.get(t, list); r.status != 200 {
		t.Errorf("after the burst: %d", r.status)
	}
}

func TestRealLimits(t *testing.T) {
	t.Parallel()
	l := RealLimits()
	if l.MaxPageSize != 50 || l.WritesPerSecond != 30 || l.WriteWindow != 5*time.Second || l.MaxInFlight != 100 || l.RetryAfter != "" {
		t.Fatalf("RealLimits = %+v", l)
	}
	s := NewServer()
	defer s.Close()
	if got := s.currentLimits(); got.WritesPerSecond != 0 || got.MaxInFlight != 0 || got.MaxPageSize != 50 {
		t.Fatalf("NewServer's limits %+v: only the page size is limited by default", got)
	}
}

// TestBehindAProxy lists through reverse proxies: one that passes the
// client's Host on, one that says where the client went with
// X-Forwarded-Host and -Proto, one that rewrites Host and says nothing (so
// page URLs name the emulator itself), and one under a path prefix. Every
// request must go through the proxy.
func TestBehindAProxy(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc := s.AddService()
	u := svc.AddUser("alice")
	for i := 0; i < 25; i++ {
		u.AddBinding(Binding{})
	}
	target, _ := url.Parse(s.URL)
	proxies := map[string]*httputil.ReverseProxy{
		"Host passed on": {Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		}},
		"X-Forwarded-Host": {Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.SetXForwarded()
		}},
		// nginx's default, and Stoplight Prism: Host rewritten to the
		// upstream and no X-Forwarded-* header, so the emulator writes its
		// own address in every page URL; the client follows their path and
		// query on its own base URL, the proxy.
		"Host rewritten, no X-Forwarded": {Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
		}},
		"path prefix": {Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.URL.Path = strings.TrimPrefix(r.Out.URL.Path, "/chat")
			r.Out.URL.RawPath = ""
			r.SetXForwarded()
		}},
	}
	for name, proxy := range proxies {
		var through atomic.Int64
		ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			through.Add(1)
			proxy.ServeHTTP(w, r)
		}))
		base := ps.URL
		if name == "path prefix" {
			base += "/chat"
		}
		c, err := client.New(client.WithCredentials(s.AccountSID, s.AuthToken), client.WithBaseURL(base))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, err := range chat.New(c).Services(svc.SID).Users("alice").UserBindings.List(context.Background(), &chat.UserBindingListParams{PageSize: 4}) {
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			n++
		}
		if n != 25 || through.Load() != 7 {
			t.Errorf("%s: %d of 25 bindings listed, %d requests through the proxy", name, n, through.Load())
		}
		ps.Close()
	}
}

func TestClockSkewAndRefresh(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN)
	list := "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings"
	s.SetClockSkew(48 * time.Hour)
	r := s.get(t, list)
	date, err := http.ParseTime(r.header.Get("Date"))
	if err != nil || time.Until(date) < 47*time.Hour {
		t.Errorf("Date %q, %v: want two days ahead", r.header.Get("Date"), err)
	}
	sid := string(u.Bindings()[0].SID)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if !u.RefreshBinding(sid, at) || !u.Bindings()[0].DateUpdated.Equal(at) {
		t.Errorf("RefreshBinding did not set date_updated: %+v", u.Bindings()[0])
	}
	if u.RefreshBinding("BS"+strings.Repeat("0", 32), at) || svc.AddUser("bob").RefreshBinding(sid, at) {
		t.Error("RefreshBinding of a binding that is not the user's")
	}
}
