package chat

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
)

// identities that break the official SDKs' paths.
var awkwardIdentities = []string{
	"alice", "alice@example.com", "a?b", "a#b", "a/b", "../x", "a%b", "%2F", "a&b=c", "a+b", "a;b", "a,b",
	"with space", "tab\there", "ünïcödé", "日本語", "emoji 😀", "!*'():@&=+$,/?%#[]", US(), strings.Repeat("x", 1000),
}

// US is a real-looking user SID, which is also a valid identity string.
func US() string { return testUser }

func TestIdentityIsExactlyOneSegment(t *testing.T) {
	t.Parallel()
	for _, id := range awkwardIdentities {
		api, mt := newTestAPI(t)
		var got *http.Request
		mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			got = r
			return httpmock.NewStringResponse(204, ""), nil
		})
		u := api.Services(testService).Users(id)
		if err := u.UserBindings(testBinding).Remove(context.Background()); err != nil {
			t.Fatalf("Remove for %q: %v", id, err)
		}
		if got.Method != "DELETE" || got.URL.RawQuery != "" || got.URL.Fragment != "" {
			t.Fatalf("identity %q: sent %s %s", id, got.Method, got.URL)
		}
		segs := strings.Split(got.URL.EscapedPath(), "/")
		want := []string{"", "prefix", "v2", "Services", testService, "Users", "<id>", "Bindings", testBinding}
		if len(segs) != len(want) {
			t.Fatalf("identity %q: path %q has %d segments, want %d", id, got.URL.EscapedPath(), len(segs), len(want))
		}
		decoded, err := url.PathUnescape(segs[6])
		if err != nil || decoded != id {
			t.Errorf("identity %q arrived as %q (%v)", id, decoded, err)
		}
	}
}

func TestPathsMatchTheSeed(t *testing.T) {
	t.Parallel()
	r := ref{service: testService, user: "alice", perUser: true}
	if got, want := r.listPath(), "/v2/Services/"+testService+"/Users/alice/Bindings"; got != want {
		t.Errorf("listPath = %q, want %q", got, want)
	}
	if got, want := r.itemPath(testBinding), "/v2/Services/"+testService+"/Users/alice/Bindings/"+testBinding; got != want {
		t.Errorf("itemPath = %q, want %q", got, want)
	}
}

func FuzzPathBuilding(f *testing.F) {
	for _, id := range awkwardIdentities {
		f.Add(id, testBinding)
	}
	f.Fuzz(func(t *testing.T, id, bsid string) {
		r := ref{service: testService, user: id, perUser: true}
		if checkUser(id) != nil || checkSID("Sid", bindingRule, bsid) != nil {
			return
		}
		p := r.itemPath(bsid)
		u, err := url.Parse("https://h" + p)
		if err != nil {
			t.Fatalf("path for %q does not parse: %v", id, err)
		}
		if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(p, "?#") {
			t.Fatalf("identity %q leaks into query or fragment: %q", id, p)
		}
		segs := strings.Split(u.EscapedPath(), "/")
		if len(segs) != 8 {
			t.Fatalf("identity %q gives %d segments: %q", id, len(segs), p)
		}
		if got, err := url.PathUnescape(segs[5]); err != nil || got != id {
			t.Fatalf("identity %q round-trips as %q", id, got)
		}
		if !samePath(r.listPath(), r.listPath()) {
			t.Fatal("samePath is not reflexive")
		}
	})
}
