package chattest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends one raw request to the emulator with the given basic auth,
// through the server's own client: a shared pool could hand a request a
// dead connection to an earlier test's server on a reused port. It reports
// failures with t.Errorf (status 0), so goroutines may use it.
func call(t *testing.T, s *Server, method, pathAndQuery, user, pass string) result {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+pathAndQuery, nil)
	if err != nil {
		t.Errorf("%s %s: %v", method, pathAndQuery, err)
		return result{}
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := s.ts.Client().Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, pathAndQuery, err)
		return result{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (s *Server) get(t *testing.T, pathAndQuery string) result {
	return call(t, s, "GET", pathAndQuery, s.AccountSID, s.AuthToken)
}

func seeded(t *testing.T, identity string, types ...chat.BindingType) (*Server, *Service, *User) {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	svc := s.AddService()
	u := svc.AddUser(identity)
	for _, typ := range types {
		u.AddBinding(Binding{Type: typ})
	}
	return s, svc, u
}

var requestID = regexp.MustCompile(`^RQ[0-9a-f]{32}$`)

func TestErrors(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN)
	list := "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings"
	cases := []struct {
		name       string
		method     string
		path       string
		user, pass string
		status     int
		code       int
		msg        string
	}{
		{"no auth", "GET", list, "", "", 401, 20003, "Authenticate"},
		{"wrong token", "GET", list, s.AccountSID, "nope", 401, 20003, "Authenticate"},
		{"key with account token", "GET", list, s.APIKeySID, s.AuthToken, 401, 20003, "Authenticate"},
		{"unknown service", "GET", "/v2/Services/IS" + strings.Repeat("0", 32) + "/Users/alice/Bindings", s.AccountSID, s.AuthToken, 404, 20404, "was not found"},
		{"unknown user", "GET", "/v2/Services/" + svc.SID + "/Users/bob/Bindings", s.AccountSID, s.AuthToken, 404, 20404, "was not found"},
		{"unknown binding", "GET", list + "/BS" + strings.Repeat("0", 32), s.AccountSID, s.AuthToken, 404, 20404, "was not found"},
		{"unknown route", "GET", "/v2/Services/" + svc.SID + "/Channels", s.AccountSID, s.AuthToken, 404, 20404, "was not found"},
		{"post", "POST", list, s.AccountSID, s.AuthToken, 405, 20004, "Method not allowed"},
		{"page size 0", "GET", list + "?PageSize=0", s.AccountSID, s.AuthToken, 400, 20001, "PageSize"},
		{"page size 1001", "GET", list + "?PageSize=1001", s.AccountSID, s.AuthToken, 400, 20001, "PageSize"},
		{"page size text", "GET", list + "?PageSize=ten", s.AccountSID, s.AuthToken, 400, 20001, "PageSize"},
		{"binding type", "GET", list + "?BindingType=apn&BindingType=voip", s.AccountSID, s.AuthToken, 400, 20001, "BindingType"},
		{"page without token", "GET", list + "?Page=2", s.AccountSID, s.AuthToken, 400, 20001, "PageToken is required for paging"},
		{"bad token", "GET", list + "?Page=1&PageToken=zz", s.AccountSID, s.AuthToken, 400, 20001, "PageToken"},
	}
	for _, tc := range cases {
		r := call(t, s, tc.method, tc.path, tc.user, tc.pass)
		if r.status != tc.status || r.body["code"] != float64(tc.code) || r.body["status"] != float64(tc.status) ||
			!strings.Contains(fmt.Sprint(r.body["message"]), tc.msg) || r.body["more_info"] != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", tc.code) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
		if !requestID.MatchString(r.header.Get("Twilio-Request-Id")) {
			t.Errorf("%s: Twilio-Request-Id %q", tc.name, r.header.Get("Twilio-Request-Id"))
		}
	}
	// An API key and its secret are accepted too.
	if r := call(t, s, "GET", list, s.APIKeySID, s.APIKeySecret); r.status != 200 {
		t.Errorf("API key: %d %s", r.status, r.raw)
	}
}

func TestListFormatMatchesTheSeed(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice@example.com", chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM)
	r := s.get(t, "/v2/Services/"+svc.SID+"/Users/"+url.PathEscape(u.Identity)+"/Bindings?PageSize=2")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	meta := r.body["meta"].(map[string]any)
	keys := []string{}
	for k := range meta {
		keys = append(keys, k)
	}
	if len(keys) != 7 {
		t.Errorf("meta keys %v", keys)
	}
	listURL := s.URL + "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings"
	if meta["page"] != 0.0 || meta["page_size"] != 2.0 || meta["key"] != "bindings" || meta["previous_page_url"] != nil ||
		meta["first_page_url"] != listURL+"?PageSize=2&Page=0" || meta["url"] != listURL+"?PageSize=2&Page=0" ||
		!strings.HasPrefix(fmt.Sprint(meta["next_page_url"]), listURL+"?PageSize=2&Page=1&PageToken=PA") {
		t.Errorf("meta = %v", meta)
	}
	bs := r.body["bindings"].([]any)
	b := bs[0].(map[string]any)
	if len(bs) != 2 || b["binding_type"] != "apn" || b["identity"] != "alice@example.com" || b["user_sid"] != u.SID ||
		b["url"] != listURL+"/"+fmt.Sprint(b["sid"]) || b["credential_sid"] != nil || len(b["message_types"].([]any)) != 4 {
		t.Errorf("binding = %v", b)
	}
	next := r.body["meta"].(map[string]any)["next_page_url"].(string)
	r2 := s.get(t, strings.TrimPrefix(next, s.URL))
	meta2 := r2.body["meta"].(map[string]any)
	if len(r2.body["bindings"].([]any)) != 1 || meta2["next_page_url"] != nil || meta2["page"] != 1.0 ||
		!strings.Contains(fmt.Sprint(meta2["previous_page_url"]), "Page=0&PageToken=PB") {
		t.Errorf("second page = %s", r2.raw)
	}
	// The previous page is the first one again.
	prev := meta2["previous_page_url"].(string)
	r3 := s.get(t, strings.TrimPrefix(prev, s.URL))
	if got := r3.body["bindings"].([]any); len(got) != 2 || got[0].(map[string]any)["sid"] != b["sid"] {
		t.Errorf("previous page = %s", r3.raw)
	}
}

func TestFilterWithRepeatedKeys(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM, chat.BindingTypeAPN)
	r := s.get(t, "/v2/Services/"+svc.SID+"/Users/"+u.SID+"/Bindings?BindingType=apn&BindingType=fcm")
	var types []string
	for _, b := range r.body["bindings"].([]any) {
		types = append(types, b.(map[string]any)["binding_type"].(string))
	}
	if strings.Join(types, ",") != "apn,fcm,apn" {
		t.Errorf("filtered types %v", types)
	}
	if meta := r.body["meta"].(map[string]any); !strings.HasSuffix(meta["url"].(string), "?BindingType=apn&BindingType=fcm&PageSize=50&Page=0") {
		t.Errorf("url %v keeps no filters", meta["url"])
	}
}

func TestEscapedIdentities(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc := s.AddService()
	for _, id := range []string{"a/b", "a?b", "a#b", "a%b", "with space", "ünï", "x&y=z+w;v"} {
		u := svc.AddUser(id)
		bs := u.AddBinding(Binding{})
		r := s.get(t, "/v2/Services/"+svc.SID+"/Users/"+url.PathEscape(id)+"/Bindings/"+bs)
		if r.status != 200 || r.body["identity"] != id {
			t.Errorf("identity %q: %d %s", id, r.status, r.raw)
		}
	}
}

func TestKeysetPagingSurvivesDeletion(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice")
	for i := 0; i < 95; i++ {
		u.AddBinding(Binding{})
	}
	seen := map[string]int{}
	next := "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings?PageSize=10"
	for next != "" {
		r := s.get(t, next)
		for _, b := range r.body["bindings"].([]any) {
			sid := b.(map[string]any)["sid"].(string)
			seen[sid]++
			// Remove each binding as soon as it is seen: an offset-based
			// page 2 would now start 10 bindings too far.
			if d := call(t, s, "DELETE", "/v2/Services/"+svc.SID+"/Users/"+u.SID+"/Bindings/"+sid, s.AccountSID, s.AuthToken); d.status != 204 || d.raw != "" {
				t.Fatalf("DELETE: %d %q", d.status, d.raw)
			}
		}
		n, _ := r.body["meta"].(map[string]any)["next_page_url"].(string)
		next = strings.TrimPrefix(n, s.URL)
	}
	if len(seen) != 95 {
		t.Errorf("saw %d distinct bindings, want 95", len(seen))
	}
	for sid, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", sid, n)
		}
	}
	if left := u.Bindings(); len(left) != 0 {
		t.Errorf("%d bindings left", len(left))
	}
	if st := s.Stats(); st.Removed != 95 || st.RemoveMisses != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN)
	list := "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings"
	s.Inject(Fault{Status: 429, RetryAfter: "3", Times: 2})
	s.Inject(Fault{Status: 502, Body: "<html>bad gateway</html>", ContentType: "text/html"})
	s.Inject(Fault{Method: "DELETE", Status: 503})
	if s.PendingFaults() != 4 {
		t.Fatalf("pending %d", s.PendingFaults())
	}
	for i := 0; i < 2; i++ {
		r := s.get(t, list)
		if r.status != 429 || r.header.Get("Retry-After") != "3" || r.body["code"] != 20429.0 {
			t.Errorf("429 fault: %d %v %s", r.status, r.header, r.raw)
		}
	}
	if r := s.get(t, list); r.status != 502 || r.raw != "<html>bad gateway</html>" || r.header.Get("Content-Type") != "text/html" {
		t.Errorf("html fault: %d %s", r.status, r.raw)
	}
	if r := s.get(t, list); r.status != 200 {
		t.Errorf("the DELETE fault applied to a GET: %d", r.status)
	}
	if r := call(t, s, "DELETE", list+"/"+string(u.Bindings()[0].SID), s.AccountSID, s.AuthToken); r.status != 503 {
		t.Errorf("DELETE fault: %d", r.status)
	}
	if s.PendingFaults() != 0 {
		t.Errorf("pending %d", s.PendingFaults())
	}

	s.Inject(Fault{CutBody: true})
	resp, err := s.ts.Client().Do(func() *http.Request {
		req, _ := http.NewRequest("GET", s.URL+list, nil)
		req.SetBasicAuth(s.AccountSID, s.AuthToken)
		return req
	}())
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("a cut body read without error")
	}

	s.Inject(Fault{Latency: 30 * time.Millisecond})
	start := time.Now()
	s.get(t, list)
	if time.Since(start) < 30*time.Millisecond {
		t.Error("latency fault not applied")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice")
	var sids []string
	for i := 0; i < 200; i++ {
		sids = append(sids, u.AddBinding(Binding{Type: chat.BindingTypeGCM}))
	}
	list := "/v2/Services/" + svc.SID + "/Users/" + u.SID + "/Bindings"
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(sids); i += 8 {
				if r := call(t, s, "DELETE", list+"/"+sids[i], s.AccountSID, s.AuthToken); r.status != 204 {
					t.Errorf("DELETE %d", r.status)
				}
				if r := s.get(t, list+"?PageSize=5"); r.status != 200 {
					t.Errorf("GET %d", r.status)
				}
			}
		}(w)
	}
	wg.Wait()
	if len(u.Bindings()) != 0 || s.Stats().Removed != 200 {
		t.Errorf("%d left, stats %+v", len(u.Bindings()), s.Stats())
	}
}

func TestAddUserIsIdempotentByIdentity(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc := s.AddService()
	a, b := svc.AddUser("alice"), svc.AddUser("alice")
	if a.SID != b.SID {
		t.Error("the same identity made two users")
	}
	sid := a.AddBinding(Binding{SID: "BS" + strings.Repeat("1", 32), Type: chat.BindingTypeAPN, Endpoint: "tok", CredentialSID: "CR" + strings.Repeat("2", 32),
		DateCreated: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)})
	got := b.Bindings()
	if len(got) != 1 || string(got[0].SID) != sid || got[0].Endpoint != "tok" || !got[0].DateUpdated.Equal(got[0].DateCreated) || got[0].URL == "" {
		t.Errorf("Bindings = %+v", got)
	}
}

// TestFormattingHidesTheCredentials: no verb of fmt shows the auth token or
// API key secret of a *Server, nor of a value that holds one.
func TestFormattingHidesTheCredentials(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	holder := struct{ Srv *Server }{srv}
	var zero Server
	var nilServer *Server
	cases := []struct {
		name string
		v    any
		want string // what the output must say
	}{
		{"a running server", srv, srv.URL},
		{"a struct holding one", holder, "not shown"},
		{"a struct holding one, by pointer", &holder, "not shown"},
		{"a zero server", &zero, "not running"},
		{"a nil server", nilServer, "nil"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
				out := fmt.Sprintf(verb, tc.v)
				if strings.Contains(out, srv.AuthToken) || strings.Contains(out, srv.APIKeySecret) {
					t.Errorf("fmt.Sprintf(%q) shows a credential: %s", verb, out)
				}
				if verb == "%v" && !strings.Contains(out, tc.want) {
					t.Errorf("%%v = %s, want it to say %q", out, tc.want)
				}
			}
		})
	}
}
