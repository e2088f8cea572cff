package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

// What a hostile or broken server can do to a listing through its pages:
// every case ends in an error after a bounded number of requests, and no
// binding outside the listing reaches the caller.

const hostileList = "https://chat.twilio.com/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"

// servePages answers every request with page(n, query) for the n-th
// request (from 0), counting requests.
func servePages(t *testing.T, mt *httpmock.MockTransport, page func(n int, r *http.Request) string) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		i := n.Add(1) - 1
		if i > 10_000 {
			t.Error("the listing never stopped")
			return httpmock.NewStringResponse(500, ""), nil
		}
		return httpmock.NewStringResponse(200, page(int(i), r)), nil
	})
	return &n
}

func pageWith(next string, bindings ...string) string {
	n := "null"
	if next != "" {
		n = `"` + next + `"`
	}
	return `{"meta":{"key":"bindings","next_page_url":` + n + `},"bindings":[` + strings.Join(bindings, ",") + `]}`
}

func drain[T any](seq func(func(*T, error) bool)) (n int, err error) {
	for _, e := range seq {
		if e != nil {
			return n, e
		}
		n++
	}
	return n, nil
}

func TestHostilePagination(t *testing.T) {
	t.Parallel()
	apn := func(i int) string { return bindingJSON(i, "apn") }
	otherUser := func(i int) string {
		return strings.Replace(bindingJSON(i, "apn"), `"user_sid":"`+testUser, `"user_sid":"US`+strings.Repeat("e", 32), 1)
	}
	otherIdentity := func(i int) string {
		return strings.Replace(bindingJSON(i, "apn"), `"identity":"alice"`, `"identity":"mallory"`, 1)
	}
	cases := []struct {
		name         string
		user         string
		params       *UserBindingListParams
		page         func(n int, r *http.Request) string
		wantYield    int
		maxRequests  int64
		wantPageErr  string // a PageURLError containing this
		wantDecodeAt string // or a DecodeError naming this field
	}{
		{
			name: "the same page, its URL respelled with one more & each time",
			page: func(n int, _ *http.Request) string {
				return pageWith(hostileList+"?PageSize=1&PageToken=A"+strings.Repeat("&", n+1), apn(0))
			},
			wantYield: 2, maxRequests: 2, wantPageErr: "loop",
		},
		{
			// A → B → A → B …, each time spelled anew with a piece that
			// url.ParseQuery rejects, so no canonical form could match:
			// the unparseable query is refused, not compared raw.
			name: "two pages, respelled with ; each time",
			page: func(n int, _ *http.Request) string {
				return pageWith(fmt.Sprintf("%s?PageToken=%c&x=%d;", hostileList, 'A'+n%2, n), apn(n%2))
			},
			wantYield: 1, maxRequests: 1, wantPageErr: "does not parse",
		},
		{
			name: "two pages, respelled with %zz each time",
			page: func(n int, _ *http.Request) string {
				return pageWith(fmt.Sprintf("%s?PageToken=%c&x=%d%%zz", hostileList, 'A'+n%2, n), apn(n%2))
			},
			wantYield: 1, maxRequests: 1, wantPageErr: "does not parse",
		},
		{
			// The token comes back under a new spelling of its name or
			// value, with a new junk parameter each time: the set of tokens
			// met in the listing catches it two pages on.
			name: "two pages, the token respelled",
			page: func(n int, _ *http.Request) string {
				spellings := []string{"PageToken=%s", "Page%%54oken=%s", "pagetoken=%s", "PAGETOKEN=%s"}
				tok := []string{"A", "%42"}[n%2] // A, then B escaped
				return pageWith(fmt.Sprintf("%s?"+spellings[n%4]+"&junk=%d", hostileList, tok, n), apn(n%2))
			},
			wantYield: 3, maxRequests: 3, wantPageErr: "repeats the page token",
		},
		{
			name: "a new page number with the previous page's token",
			page: func(n int, _ *http.Request) string {
				return pageWith(fmt.Sprintf("%s?Page=%d&PageToken=SAME", hostileList, n+1), apn(n))
			},
			wantYield: 2, maxRequests: 2, wantPageErr: "repeats the page token",
		},
		{
			name: "a cycle of three pages with growing page numbers",
			page: func(n int, _ *http.Request) string {
				return pageWith(fmt.Sprintf("%s?Page=%d&PageToken=T%d", hostileList, n+1, (n+1)%3), apn(n))
			},
			// The first page had no token, so T0 is new once; T1 then repeats.
			wantYield: 4, maxRequests: 4, wantPageErr: "already fetched",
		},
		{
			name:   "empty pages with ever-new URLs, Limit 1",
			params: &UserBindingListParams{Limit: 1},
			page: func(n int, _ *http.Request) string {
				return pageWith(fmt.Sprintf("%s?PageToken=E%d", hostileList, n+1))
			},
			wantYield: 0, maxRequests: maxEmptyPages, wantPageErr: "held no binding",
		},
		{
			name:   "a next_page_url that drops the type filter",
			params: &UserBindingListParams{BindingType: []BindingType{BindingTypeAPN}},
			page: func(n int, r *http.Request) string {
				if n == 0 {
					return pageWith(hostileList+"?PageToken=P1", apn(0))
				}
				return pageWith("", bindingJSON(1, "gcm"), apn(2))
			},
			wantYield: 1, maxRequests: 2, wantDecodeAt: "bindings[0].binding_type",
		},
		{
			name:      "another user's binding second on a page, listed by SID",
			page:      func(int, *http.Request) string { return pageWith("", apn(0), otherUser(1)) },
			wantYield: 0, maxRequests: 1, wantDecodeAt: "bindings[1].user_sid",
		},
		{
			name: "another user's binding on page 2, listed by SID",
			page: func(n int, _ *http.Request) string {
				if n == 0 {
					return pageWith(hostileList+"?PageToken=P1", apn(0))
				}
				return pageWith("", otherUser(1))
			},
			wantYield: 1, maxRequests: 2, wantDecodeAt: "bindings[0].user_sid",
		},
		{
			name:      "another identity, listed by identity",
			user:      "alice",
			page:      func(int, *http.Request) string { return pageWith("", apn(0), otherIdentity(1)) },
			wantYield: 0, maxRequests: 1, wantDecodeAt: "bindings[1].identity",
		},
		{
			name: "the user's SID changing mid-listing, listed by identity",
			user: "alice",
			page: func(int, *http.Request) string {
				return pageWith("", apn(0), strings.Replace(otherUser(1), `"identity":"alice"`, `"identity":"alice"`, 1))
			},
			wantYield: 0, maxRequests: 1, wantDecodeAt: "bindings[1].user_sid",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			requests := servePages(t, mt, tc.page)
			user := tc.user
			if user == "" {
				user = testUser
			}
			n, err := drain(api.Services(testService).Users(user).UserBindings.List(context.Background(), tc.params))
			if n != tc.wantYield || requests.Load() > tc.maxRequests {
				t.Errorf("%d bindings yielded after %d requests; want %d after at most %d", n, requests.Load(), tc.wantYield, tc.maxRequests)
			}
			var pe *PageURLError
			var de *DecodeError
			switch {
			case tc.wantPageErr != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tc.wantPageErr)):
				t.Errorf("err = %v, want a PageURLError containing %q", err, tc.wantPageErr)
			case tc.wantDecodeAt != "" && (!errors.As(err, &de) || de.Field != tc.wantDecodeAt):
				t.Errorf("err = %v, want a DecodeError naming %s", err, tc.wantDecodeAt)
			}
		})
	}
}

// TestBasePathV2 puts the client under a base URL whose path prefix is
// /v2, as a gateway might: Twilio's own next_page_url (unprefixed) is still
// this list, and the listing reaches page 2 on the prefixed path.
func TestBasePathV2(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := client.New(client.WithCredentials(testAccount, "t"), client.WithBaseURL("https://gw.test/v2"), client.WithHTTPClient(&http.Client{Transport: mt}))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		paths = append(paths, r.URL.Path)
		page := 0
		fmt.Sscan(r.URL.Query().Get("Page"), &page)
		return httpmock.NewStringResponse(200, pageJSON(hostileList, page, 2, 5)), nil
	})
	n, err := drain(New(c).Services(testService).Users(testUser).UserBindings.List(context.Background(), &UserBindingListParams{PageSize: 2}))
	if err != nil || n != 5 || len(paths) != 3 {
		t.Fatalf("%d bindings in %d requests: %v", n, len(paths), err)
	}
	for _, p := range paths {
		if p != "/v2/v2/Services/"+testService+"/Users/"+testUser+"/Bindings" {
			t.Errorf("request to %s", p)
		}
	}
}
