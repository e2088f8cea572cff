package chattest

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// seededService is a service with three users of two bindings each, of
// alternating types, added user by user.
func seededService(t *testing.T) (*Server, *Service, []*User) {
	t.Helper()
	s := NewServer()
	t.Cleanup(s.Close)
	svc := s.AddService()
	var users []*User
	for _, id := range []string{"alice", "bob", "carol & dave"} {
		u := svc.AddUser(id)
		u.AddBinding(Binding{Type: chat.BindingTypeAPN})
		u.AddBinding(Binding{Type: chat.BindingTypeFCM})
		users = append(users, u)
	}
	return s, svc, users
}

func bindingField(r result, key string) []string {
	var out []string
	for _, b := range r.body["bindings"].([]any) {
		out = append(out, fmt.Sprint(b.(map[string]any)[key]))
	}
	return out
}

func TestServiceWideListFormatAndFilters(t *testing.T) {
	t.Parallel()
	s, svc, users := seededService(t)
	list := "/v2/Services/" + svc.SID + "/Bindings"
	r := s.get(t, list+"?PageSize=4")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	b := r.body["bindings"].([]any)[0].(map[string]any)
	if _, ok := b["user_sid"]; ok {
		t.Errorf("a service-wide binding has user_sid: %v", b)
	}
	if b["url"] != s.URL+list+"/"+fmt.Sprint(b["sid"]) || b["identity"] != "alice" ||
		b["links"].(map[string]any)["user"] != s.URL+"/v2/Services/"+svc.SID+"/Users/"+users[0].SID {
		t.Errorf("binding = %v", b)
	}
	meta := r.body["meta"].(map[string]any)
	if meta["url"] != s.URL+list+"?PageSize=4&Page=0" || !strings.HasPrefix(fmt.Sprint(meta["next_page_url"]), s.URL+list+"?PageSize=4&Page=1&PageToken=PA") {
		t.Errorf("meta = %v", meta)
	}
	if got := bindingField(r, "identity"); strings.Join(got, ",") != "alice,alice,bob,bob" {
		t.Errorf("first page identities %v: want the order bindings were added", got)
	}

	cases := []struct {
		query, key, want string
	}{
		{"?Identity=bob", "identity", "bob,bob"},
		{"?Identity=alice&Identity=" + url.QueryEscape("carol & dave"), "identity", "alice,alice,carol & dave,carol & dave"},
		{"?Identity=Bob", "identity", ""}, // exact match only
		{"?Identity=nobody", "identity", ""},
		{"?BindingType=fcm", "binding_type", "fcm,fcm,fcm"},
		{"?BindingType=apn&Identity=carol+%26+dave", "identity", "carol & dave"},
	}
	for _, tc := range cases {
		r := s.get(t, list+tc.query)
		if got := strings.Join(bindingField(r, tc.key), ","); r.status != 200 || got != tc.want {
			t.Errorf("%s: %d, %s = %q, want %q", tc.query, r.status, tc.key, got, tc.want)
		}
	}
	// Filters travel in the page URLs.
	r = s.get(t, list+"?Identity=alice&BindingType=apn&BindingType=fcm&PageSize=1")
	next := fmt.Sprint(r.body["meta"].(map[string]any)["next_page_url"])
	if !strings.Contains(next, "BindingType=apn&BindingType=fcm&Identity=alice&PageSize=1&Page=1&PageToken=PA") {
		t.Errorf("next page URL %s lost the filters", next)
	}
	// Identity is not a parameter of the per-user list.
	if r := s.get(t, "/v2/Services/"+svc.SID+"/Users/alice/Bindings?Identity=bob"); len(bindingField(r, "sid")) != 2 {
		t.Errorf("per-user list with Identity: %s", r.raw)
	}
}

// TestOneStoreForBothResources removes bindings through each path and
// reads them through the other.
func TestOneStoreForBothResources(t *testing.T) {
	t.Parallel()
	s, svc, users := seededService(t)
	alice := users[0]
	viaService, viaUser := alice.Bindings()[0].SID, alice.Bindings()[1].SID
	item := "/v2/Services/" + svc.SID + "/Bindings/"
	userItem := "/v2/Services/" + svc.SID + "/Users/alice/Bindings/"

	if r := s.get(t, item+string(viaUser)); r.status != 200 || r.body["identity"] != "alice" || r.body["links"] == nil {
		t.Fatalf("service-wide fetch of a user's binding: %d %s", r.status, r.raw)
	}
	if r := call(t, s, "DELETE", item+string(viaService), s.AccountSID, s.AuthToken); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.raw)
	}
	if r := s.get(t, userItem+string(viaService)); r.status != 404 {
		t.Errorf("removed through the service, still under the user: %d", r.status)
	}
	if r := call(t, s, "DELETE", userItem+string(viaUser), s.AccountSID, s.AuthToken); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.raw)
	}
	if r := s.get(t, item+string(viaUser)); r.status != 404 || r.body["code"] != 20404.0 {
		t.Errorf("removed through the user, still in the service: %d", r.status)
	}
	if r := call(t, s, "DELETE", item+string(viaUser), s.AccountSID, s.AuthToken); r.status != 404 {
		t.Errorf("second DELETE: %d", r.status)
	}
	// Another user's binding is not found under this user.
	bobs := string(users[1].Bindings()[0].SID)
	if r := s.get(t, userItem+bobs); r.status != 404 {
		t.Errorf("bob's binding under alice: %d", r.status)
	}
	if got := len(svc.Bindings()); got != 4 || len(alice.Bindings()) != 0 {
		t.Errorf("%d bindings left in the service, %d for alice", got, len(alice.Bindings()))
	}
	if st := s.Stats(); st.Removed != 2 || st.RemoveMisses != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestServiceWideKeysetPagingSurvivesDeletion(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc := s.AddService()
	for i := 0; i < 90; i++ {
		svc.AddUser(fmt.Sprintf("user-%d", i%7)).AddBinding(Binding{})
	}
	seen := map[string]int{}
	next := "/v2/Services/" + svc.SID + "/Bindings?PageSize=10"
	for next != "" {
		r := s.get(t, next)
		for _, sid := range bindingField(r, "sid") {
			seen[sid]++
			if d := call(t, s, "DELETE", "/v2/Services/"+svc.SID+"/Bindings/"+sid, s.AccountSID, s.AuthToken); d.status != 204 {
				t.Fatalf("DELETE: %d", d.status)
			}
		}
		n, _ := r.body["meta"].(map[string]any)["next_page_url"].(string)
		next = strings.TrimPrefix(n, s.URL)
	}
	if len(seen) != 90 || len(svc.Bindings()) != 0 {
		t.Fatalf("saw %d distinct bindings of 90, %d left", len(seen), len(svc.Bindings()))
	}
	for sid, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", sid, n)
		}
	}
}

func TestServiceWideErrors(t *testing.T) {
	t.Parallel()
	s, svc, _ := seededService(t)
	list := "/v2/Services/" + svc.SID + "/Bindings"
	cases := []struct {
		method, path string
		status, code int
	}{
		{"GET", "/v2/Services/IS" + strings.Repeat("0", 32) + "/Bindings", 404, 20404},
		{"GET", list + "/BS" + strings.Repeat("0", 32), 404, 20404},
		{"GET", list + "/x/y", 404, 20404},
		{"POST", list, 405, 20004},
		{"GET", list + "?BindingType=voip", 400, 20001},
		{"GET", list + "?Page=3", 400, 20001},
	}
	for _, tc := range cases {
		if r := call(t, s, tc.method, tc.path, s.AccountSID, s.AuthToken); r.status != tc.status || r.body["code"] != float64(tc.code) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.raw)
		}
	}
	if r := call(t, s, "GET", list, s.AccountSID, "wrong"); r.status != 401 {
		t.Errorf("wrong token: %d", r.status)
	}
}

// TestSeedsAndViewsAreCopies: what a test reads from the emulator, or
// seeds it with, is not shared with it.
func TestSeedsAndViewsAreCopies(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc := s.AddService()
	u := svc.AddUser("alice")
	DefaultMessageTypes()[0] = "changed"
	types := []string{"new_message"}
	u.AddBinding(Binding{MessageTypes: types})
	u.AddBinding(Binding{})
	types[0] = "changed"
	got := u.Bindings()
	if got[0].MessageTypes[0] != "new_message" || got[1].MessageTypes[0] != "removed_from_channel" {
		t.Fatalf("seeds changed by their callers: %q, %q", got[0].MessageTypes, got[1].MessageTypes)
	}
	got[0].MessageTypes[0] = "changed"
	svc.Bindings()[1].MessageTypes[0] = "changed"
	if again := u.Bindings(); again[0].MessageTypes[0] != "new_message" || again[1].MessageTypes[0] != "removed_from_channel" {
		t.Fatalf("the emulator's bindings changed through views: %q, %q", again[0].MessageTypes, again[1].MessageTypes)
	}
}

// TestServiceBindingsAreTheServiceWideShape: Service.Bindings gives what
// the Binding resource lists, URLs included.
func TestServiceBindingsAreTheServiceWideShape(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	svc := s.AddService()
	u := svc.AddUser("alice")
	sid := u.AddBinding(Binding{Type: chat.BindingTypeAPN})
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	listed, err := chat.New(c).Services(svc.SID).Bindings.FirstPage(context.Background(), nil)
	if err != nil || len(listed.Bindings) != 1 {
		t.Fatalf("listing: %v", err)
	}
	got := svc.Bindings()
	if len(got) != 1 || !reflect.DeepEqual(got[0], *listed.Bindings[0]) {
		t.Fatalf("Service.Bindings() = %+v\nthe Binding resource lists %+v", got, *listed.Bindings[0])
	}
	if got[0].SID != chat.BindingSID(sid) || !strings.HasSuffix(got[0].UserURL, "/Users/"+u.SID) {
		t.Errorf("SID %s, UserURL %s", got[0].SID, got[0].UserURL)
	}
}

// TestSIDsInEitherCase: the API's SID pattern allows upper-case hex; the
// emulator finds services, users and bindings so addressed.
func TestSIDsInEitherCase(t *testing.T) {
	t.Parallel()
	s, svc, u := seeded(t, "alice", chat.BindingTypeAPN)
	b := string(u.Bindings()[0].SID)
	upper := func(v string) string { return v[:2] + strings.ToUpper(v[2:]) }
	list := "/v2/Services/" + upper(svc.SID) + "/Users/" + upper(u.SID) + "/Bindings"
	if r := s.get(t, list); r.status != 200 || !strings.Contains(r.raw, b) {
		t.Fatalf("list with upper-case SIDs: %d %s", r.status, r.raw)
	}
	if r := s.get(t, list+"/"+upper(b)); r.status != 200 {
		t.Fatalf("fetch with upper-case SIDs: %d %s", r.status, r.raw)
	}
	if !u.RefreshBinding(upper(b), time.Now()) || !u.RemoveBinding(upper(b)) || len(u.Bindings()) != 0 {
		t.Fatal("RefreshBinding and RemoveBinding with an upper-case SID")
	}
}
