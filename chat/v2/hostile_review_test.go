package chat_test

// Regressions found by a hostile review of the fixes of issue 15: each failed on
// the code it reviewed.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/client"
)

// allocOf serves body to every request and returns what do allocated.
func allocOf(t *testing.T, body string, do func(api *chat.API) error) (uint64, error) {
	t.Helper()
	raw := []byte(body)
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(raw)))
		_, _ = w.Write(raw)
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := do(api)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// fillTo is head, unit repeated, tail: just under the 10 MiB body limit.
func fillTo(head, unit, tail string) string {
	const size = 10<<20 - 4096
	n := (size - len(head) - len(tail)) / len(unit)
	return head + strings.Repeat(unit, n) + tail
}

func firstPage(api *chat.API) error {
	_, err := api.Services(svcSID).Bindings.FirstPage(context.Background(), nil)
	return err
}

func checkBound(t *testing.T, name string, body string, do func(api *chat.API) error) {
	t.Helper()
	const limit = client.DefaultMaxResponseBytes
	if len(body) > limit {
		t.Fatalf("%s: body over the limit", name)
	}
	grew, err := allocOf(t, body, do)
	t.Logf("%-45s %6.1f MiB (%.1f× the limit), err=%.60v", name, float64(grew)/(1<<20), float64(grew)/limit, err)
	if grew > 5*limit/2 {
		t.Errorf("%s: a %d-byte body cost %d MiB, over 2.5× the %d MiB body limit", name, len(body), grew>>20, limit>>20)
	}
}

// A 2xx body that is Twilio's error document is parsed by errdoc.Parse
// with encoding/json into Details map[string]any, with no bound: 3.5
// million {} in "details" cost ~50× the limit. Pages, Fetch and (new in
// this fix) Remove all take that path with a 10 MiB body.
func TestAnErrorDocumentsDetailsAreBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are measured without -race")
	}
	body := fillTo(`{"code":20001,"message":"m","details":{"x":[`, `{},`, `{}]}}`)
	checkBound(t, "page", body, firstPage)
	checkBound(t, "fetch", body, func(api *chat.API) error {
		_, err := api.Services(svcSID).Bindings(bsSID).Fetch(context.Background())
		return err
	})
	checkBound(t, "remove", body, func(api *chat.API) error {
		return api.Services(svcSID).Bindings(bsSID).Remove(context.Background())
	})
}

// Invalid UTF-8 in a string becomes U+FFFD (3 bytes per byte) in the
// scanner's scratch, grown by append, then copied into the binding's own
// buffer and its settled string.
func TestInvalidUTF8IsRefusedNotExpanded(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are measured without -race")
	}
	checkBound(t, "an endpoint of invalid UTF-8", fillTo(`{"meta":{},"bindings":[{"endpoint":"`, "\xff", `"}]}`), firstPage)
}

// One escape at the start of a long string sends the rest through
// readEscaped's byte-at-a-time append: ~5× the string in regrowth.
func TestALongEscapedStringIsBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are measured without -race")
	}
	checkBound(t, "an endpoint of 10 MiB with one escape", fillTo(`{"meta":{},"bindings":[{"endpoint":"\/`, "e", `"}]}`), firstPage)
}

// A binding's own strings are gathered in d.own by append: three long ones
// regrow it twice before settle copies it again.
func TestLongOwnStringsAreBounded(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are measured without -race")
	}
	body := `{"meta":{},"bindings":[{"endpoint":"` + strings.Repeat("e", 3<<20) + `","url":"` + strings.Repeat("u", 3<<20) +
		`","links":{"user":"` + strings.Repeat("l", 3<<20+512<<10) + `"}}]}`
	checkBound(t, "three long own strings", body, firstPage)
}

const reviewUser = "US0123456789abcdef0123456789abcdef"

// reviewList is the per-user list fakeAPI's server is asked for.
const reviewList = "/v2/Services/" + svcSID + "/Users/" + reviewUser + "/Bindings"

func reviewBinding(i int) string {
	return fmt.Sprintf(`{"sid":"BS%032x","service_sid":%q,"user_sid":%q,"identity":"alice","binding_type":"apn"}`, i, svcSID, reviewUser)
}

func reviewPage(next string, bindings ...string) string {
	n := "null"
	if next != "" {
		n = `"` + next + `"`
	}
	return `{"meta":{"key":"bindings","next_page_url":` + n + `},"bindings":[` + strings.Join(bindings, ",") + `]}`
}

// The issue's promise: "any page token, or any page (however spelled),
// met before in the same listing ends it". A page without a page token
// (the first page, which has none) can be sent again and again under new
// spellings the canonical form does not fold: a parameter repeated, a
// parameter the API ignores, leading zeros. The listing yields the same
// binding for as long as the server likes (capped here at 30 requests).
func TestTheFirstPageRespelledIsALoop(t *testing.T) {
	t.Parallel()
	spellings := map[string]func(n int) string{
		"PageSize repeated":    func(n int) string { return "?PageSize=50" + strings.Repeat("&PageSize=50", n+1) },
		"an ignored parameter": func(n int) string { return fmt.Sprintf("?PageSize=50&x=%d", n) },
		"an empty key":         func(n int) string { return fmt.Sprintf("?PageSize=50&=%d", n) },
		"leading zeros":        func(n int) string { return "?PageSize=" + strings.Repeat("0", n+1) + "50" },
		"BindingType reordered and repeated": func(n int) string {
			return "?PageSize=50" + strings.Repeat("&BindingType=apn", n+1)
		},
	}
	for name, spell := range spellings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				n := int(requests.Add(1) - 1)
				next := reviewList + spell(n)
				if n >= 30 {
					next = ""
				}
				_, _ = w.Write([]byte(reviewPage(next, reviewBinding(0))))
			})
			seen := map[chat.BindingSID]int{}
			var err error
			for b, e := range api.Services(svcSID).Users(reviewUser).UserBindings.List(context.Background(), nil) {
				if e != nil {
					err = e
					break
				}
				seen[b.SID]++
			}
			if n := seen[chat.BindingSID(fmt.Sprintf("BS%032x", 0))]; n > 1 {
				t.Errorf("the same binding yielded %d times over %d requests (err at the end: %v); want the respelled first page refused as a loop", n, requests.Load(), err)
			}
		})
	}
}

// A two-page loop A → B → A' → B where A is the first page (no token): A'
// (A respelled) is fetched and yielded again before B's token repeats.
func TestATwoPageLoopThroughTheFirstPageYieldsOnce(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1) - 1
		if r.URL.Query().Get("PageToken") == "B" {
			_, _ = w.Write([]byte(reviewPage(fmt.Sprintf("%s?PageSize=50&x=%d", reviewList, n), reviewBinding(1))))
			return
		}
		_, _ = w.Write([]byte(reviewPage(reviewList+"?PageSize=50&PageToken=B", reviewBinding(0))))
	})
	seen := map[chat.BindingSID]int{}
	for b, e := range api.Services(svcSID).Users(reviewUser).UserBindings.List(context.Background(), nil) {
		if e != nil {
			break
		}
		seen[b.SID]++
	}
	for s, n := range seen {
		if n > 1 {
			t.Errorf("binding %s yielded %d times in one listing", s, n)
		}
	}
}

// A DELETE whose first attempt reached the server and timed out, retried
// and answered 200 with Twilio's 404 error document (the case issue 15
// item 11 made an error): the error errorDocument builds has no
// PriorAttemptUncertain, so MayHaveApplied says the removal certainly did
// not happen, and AcceptRetriedNotFound (checked after the early return)
// does not accept it, where the same answer with status 404 is accepted.
// A cleanup job would report its own removal as "already gone".
func TestRemove2xxErrorDocumentAfterAnUncertainAttempt(t *testing.T) {
	t.Parallel()
	for _, accept := range []bool{false, true} {
		var requests atomic.Int64
		api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			if requests.Add(1) == 1 {
				select { // received; answered too late
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return
			}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`))
		}, client.WithTimeout(300*time.Millisecond), client.WithMaxRetries(1))
		var opts []chat.RemoveOption
		if accept {
			opts = append(opts, chat.AcceptRetriedNotFound())
		}
		err := api.Services(svcSID).Bindings(bsSID).Remove(context.Background(), opts...)
		switch {
		case requests.Load() != 2:
			t.Fatalf("%d requests, want 2 (err %v)", requests.Load(), err)
		case accept && err != nil:
			t.Errorf("AcceptRetriedNotFound: err = %v; a retried 404 after an attempt that reached the server must be accepted", err)
		case !accept && !client.MayHaveApplied(err):
			t.Errorf("err = %v: MayHaveApplied false, but the first attempt reached the server and may have removed the binding", err)
		}
	}
}

// The decoder's intern table lives as long as the listing: it keeps no
// string longer than 256 bytes, so a server that sends a new long identity
// on each page does not make a listing hold every one of them after the
// caller has dropped the bindings (40 pages of 1 MiB identities once kept
// 40 MiB live).
func TestTheInternTableKeepsNoLongStrings(t *testing.T) {
	if raceEnabled {
		t.Skip("heap is measured without -race")
	}
	const pages = 40
	var requests atomic.Int64
	list := "/v2/Services/" + svcSID + "/Bindings"
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		n := int(requests.Add(1))
		next := ""
		if n < pages {
			next = fmt.Sprintf("%s?PageSize=50&PageToken=T%d", list, n)
		}
		id := fmt.Sprintf("%04d", n) + strings.Repeat("i", 60<<10) // as long as a binding's value may be
		b := fmt.Sprintf(`{"sid":"BS%032x","service_sid":%q,"identity":%q}`, n, svcSID, id)
		_, _ = w.Write([]byte(reviewPage(next, b)))
	})
	runtime.GC()
	var before, at runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for _, err := range api.Services(svcSID).Bindings.List(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == pages {
			runtime.GC()
			runtime.ReadMemStats(&at)
		}
	}
	live := int64(at.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("after %d pages of one binding each, %.1f MiB live", pages, float64(live)/(1<<20))
	if live > 1<<20 {
		t.Errorf("a listing holding one binding at a time keeps %d MiB live after %d pages: the intern table keeps every page's identity", live>>20, pages)
	}
}

// A DELETE answered 200 with a body that has a code and a message but
// names no failing status ({"code":200,"message":"OK"}, as some gateways
// answer) is reported as a failed removal (*client.Error with Status 200)
// with MayHaveApplied false: the removal the server confirmed is said
// certainly not to have happened.
func TestRemove2xxSuccessDocumentIsNotAFailure(t *testing.T) {
	t.Parallel()
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":200,"message":"OK","status":200}`))
	})
	err := api.Services(svcSID).Bindings(bsSID).Remove(context.Background())
	if err != nil {
		t.Errorf("a 200 whose document says status 200: err = %v (MayHaveApplied %v)", err, client.MayHaveApplied(err))
	}
}

// PageFromURL on a handle addressed by identity adopts whatever user SID
// the saved URL names: another user's URL sends that user's page token on
// this user's list, and when this user's page comes back empty the resume
// "succeeds" with nothing, ending a resumed job for this user early.
func TestPageFromURLByIdentityCannotAdoptAnotherUser(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = w.Write([]byte(reviewPage("")))
	})
	bob := "US" + strings.Repeat("b", 32)
	saved := "https://chat.twilio.com/v2/Services/" + svcSID + "/Users/" + bob + "/Bindings?PageSize=50&Page=3&PageToken=PAbob"
	page, err := api.Services(svcSID).Users("alice").UserBindings.PageFromURL(context.Background(), saved)
	var pe *chat.PageURLError
	if !errors.As(err, &pe) {
		t.Errorf("alice resumed from bob's saved URL: err = %v, %d bindings, %d requests sent with bob's token; want a PageURLError", err, lenOf(page), requests.Load())
	}
}

func lenOf(p *chat.UserBindingPage) int {
	if p == nil {
		return -1
	}
	return len(p.Bindings)
}

// A zero Client "says what to do instead of panicking" (issue 15, Also):
// PageFromURL on chat.New(&client.Client{}) dereferences the nil BaseURL
// of the zero Client in resolve and panics.
func TestPageFromURLOnAZeroClientDoesNotPanic(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("PageFromURL on chat.New(&client.Client{}) panicked: %v", r)
		}
	}()
	_, err := chat.New(&client.Client{}).Services(svcSID).Users(reviewUser).UserBindings.PageFromURL(context.Background(),
		"https://chat.twilio.com"+reviewList+"?PageSize=50&PageToken=PA1")
	if err == nil {
		t.Error("no error from a zero Client")
	}
}

// Never a secret in an error: a saved page URL that carries credentials
// (https://AC…:token@host/…, as some tools print them) is echoed whole in
// the PageURLError, auth token included. The host and userinfo decide
// nothing now, so nothing needs them in the message.
func TestPageURLErrorNeverEchoesUserinfo(t *testing.T) {
	t.Parallel()
	const token = "reliability-token-0123456789" // fakeAPI's auth token
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	other := "US" + strings.Repeat("f", 32)
	_, err := api.Services(svcSID).Users(reviewUser).UserBindings.PageFromURL(context.Background(),
		"https://AC0123456789abcdef0123456789abcdef:"+token+"@chat.twilio.com/v2/Services/"+svcSID+"/Users/"+other+"/Bindings?PageToken=x")
	if err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("err = %v; want an error without the auth token", err)
	}
}

// Remove now reads a 2xx body (to look for an error document) through the
// 10 MiB response limit: a DELETE the server answered 200 with a large
// body (a gateway's HTML page, the deleted resource echoed) is reported as
// a failed call, ErrResponseTooLarge, though the server confirmed the
// removal. Before the fix the body was discarded and Remove returned nil.
func TestRemove2xxLargeBodyIsNotAFailure(t *testing.T) {
	t.Parallel()
	big := []byte("<html>" + strings.Repeat("x", 11<<20) + "</html>")
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(big)
	})
	if err := api.Services(svcSID).Bindings(bsSID).Remove(context.Background()); err != nil {
		t.Errorf("DELETE answered 200 with an 11 MiB page: %v", err)
	}
}
