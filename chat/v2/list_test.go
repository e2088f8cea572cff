package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

func collect(t *testing.T, seq func(func(*UserBinding, error) bool)) ([]*UserBinding, error) {
	t.Helper()
	var out []*UserBinding
	for b, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, b)
	}
	return out, nil
}

func TestListFollowsNextPageURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		size       int
		total      int
		params     *UserBindingListParams
		wantN      int
		wantPages  int
		firstQuery string
	}{
		{"one page", 50, 3, nil, 3, 1, ""},
		{"exact pages", 2, 6, &UserBindingListParams{PageSize: 2}, 6, 3, "PageSize=2"},
		{"partial last page", 2, 5, &UserBindingListParams{PageSize: 2}, 5, 3, "PageSize=2"},
		{"empty", 50, 0, nil, 0, 1, ""},
		{"limit sets page size", 3, 10, &UserBindingListParams{Limit: 3}, 3, 1, "PageSize=3"},
		{"limit across pages", 2, 10, &UserBindingListParams{Limit: 5, PageSize: 2}, 5, 3, "PageSize=2"},
		{"limit above total", 4, 6, &UserBindingListParams{Limit: 100, PageSize: 4}, 6, 2, "PageSize=4"},
		{"limit never picks a page over 50", 50, 5, &UserBindingListParams{Limit: 60}, 5, 1, "PageSize=50"},
		{"limit far over 50", 50, 120, &UserBindingListParams{Limit: 5000}, 120, 3, "PageSize=50"},
		{"explicit page size over 50 sent as asked", 60, 5, &UserBindingListParams{Limit: 60, PageSize: 60}, 5, 1, "PageSize=60"},
		{"explicit page size 1000 sent as asked", 1000, 5, &UserBindingListParams{PageSize: 1000}, 5, 1, "PageSize=1000"},
		{"filters repeated", 50, 2, &UserBindingListParams{BindingType: []BindingType{BindingTypeAPN, BindingTypeFCM}}, 2, 1, "BindingType=apn&BindingType=fcm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			var pg pager
			pg.register(mt, tc.size, tc.total)
			var before UserBindingListParams
			if tc.params != nil {
				before = *tc.params
				before.BindingType = append([]BindingType(nil), tc.params.BindingType...)
			}
			got, err := collect(t, api.Services(testService).Users(testUser).UserBindings.List(context.Background(), tc.params))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantN || pg.count() != tc.wantPages {
				t.Fatalf("%d bindings in %d requests, want %d in %d", len(got), pg.count(), tc.wantN, tc.wantPages)
			}
			for i, b := range got {
				if want := BindingSID(fmt.Sprintf("BS%032x", i)); b.SID != want {
					t.Fatalf("binding %d is %s, want %s", i, b.SID, want)
				}
			}
			if pg.queries[0] != tc.firstQuery {
				t.Errorf("first query %q, want %q", pg.queries[0], tc.firstQuery)
			}
			if tc.params != nil && !reflect.DeepEqual(before, *tc.params) && !(len(before.BindingType) == 0 && len(tc.params.BindingType) == 0) {
				t.Errorf("params changed from %+v to %+v", before, *tc.params)
			}
		})
	}
}

func TestBreakStopsFetching(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	var pg pager
	pg.register(mt, 2, 100)
	n := 0
	for _, err := range api.Services(testService).Users(testUser).UserBindings.List(context.Background(), &UserBindingListParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	if pg.count() != 2 {
		t.Errorf("%d pages fetched after breaking on the third binding, want 2", pg.count())
	}
}

func TestErrorMidListingIsYieldedOnce(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t, client.WithMaxRetries(0))
	listPath := "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"
	calls := 0
	mt.RegisterResponder("GET", testBase+listPath, func(r *http.Request) (*http.Response, error) {
		calls++
		if calls == 2 {
			return httpmock.NewStringResponse(500, `{"code":20500,"message":"Internal","status":500}`), nil
		}
		return httpmock.NewStringResponse(200, pageJSON("https://chat.twilio.com"+listPath, 0, 2, 10)), nil
	})
	var errs, items int
	for _, err := range api.Services(testService).Users(testUser).UserBindings.List(context.Background(), nil) {
		if err != nil {
			errs++
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || apiErr.Status != 500 {
				t.Errorf("err = %v", err)
			}
			continue
		}
		items++
	}
	if errs != 1 || items != 2 {
		t.Errorf("%d errors and %d bindings, want 1 and 2", errs, items)
	}
}

func TestPagesAndResume(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	var pg pager
	pg.register(mt, 3, 8)
	ub := api.Services(testService).Users(testUser).UserBindings
	ctx := context.Background()
	first, err := ub.FirstPage(ctx, &UserBindingListParams{PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if first.Meta.Page != 0 || first.Meta.PageSize != 3 || first.Meta.Key != "bindings" || first.Meta.NextPageURL == "" || len(first.Bindings) != 3 {
		t.Fatalf("first page meta %+v with %d bindings", first.Meta, len(first.Bindings))
	}
	// A job saves the next page URL and resumes later with a new listing.
	saved := first.Meta.NextPageURL
	resumed, err := ub.PageFromURL(ctx, saved)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Meta.Page != 1 || resumed.Bindings[0].SID != BindingSID(fmt.Sprintf("BS%032x", 3)) {
		t.Fatalf("resumed at page %d starting %s", resumed.Meta.Page, resumed.Bindings[0].SID)
	}
	last, err := resumed.Next(ctx)
	if err != nil || last.Meta.NextPageURL != "" || len(last.Bindings) != 2 {
		t.Fatalf("last page: %+v, %v", last, err)
	}
	if end, err := last.Next(ctx); end != nil || err != nil {
		t.Fatalf("Next after the last page = %v, %v; want nil, nil", end, err)
	}
	pages := 0
	for p, err := range ub.Pages(ctx, &UserBindingListParams{PageSize: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		_ = p
	}
	if pages != 3 {
		t.Errorf("Pages yielded %d pages, want 3", pages)
	}
	if !strings.Contains(pg.queries[1], "PageToken=PT1") {
		t.Errorf("resume query %q lost the page token", pg.queries[1])
	}
}

// TestNextPageURLSafety serves a first page whose next_page_url is hostile
// and checks what the client does with it. Whatever host and scheme it
// names, only its path and query are used, on the client's own base URL: a
// request anywhere else fails the test.
func TestNextPageURLSafety(t *testing.T) {
	t.Parallel()
	listPath := "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"
	cases := []struct {
		name    string
		next    string
		wantErr string // "" means followed
		wantQ   string
	}{
		{"twilio host", "https://chat.twilio.com" + listPath + "?Page=1&PageToken=A", "", "Page=1&PageToken=A"},
		{"regional twilio host", "https://chat.dublin.ie1.twilio.com" + listPath + "?PageToken=B", "", "PageToken=B"},
		{"client's own host with prefix", testBase + listPath + "?PageToken=C", "", "PageToken=C"},
		{"relative", listPath + "?PageToken=D", "", "PageToken=D"},
		{"escaping differs", "https://chat.twilio.com/v2/Services/" + testService + "/Users/%55S0123456789abcdef0123456789abcdef/Bindings?PageToken=E", "", "PageToken=E"},
		{"other host", "https://evil.example" + listPath + "?PageToken=X", "", "PageToken=X"},
		{"twilio lookalike", "https://chat.twilio.com.evil.example" + listPath + "?PageToken=L", "", "PageToken=L"},
		{"the address of an emulator behind a proxy", "http://127.0.0.1:41234" + listPath + "?PageToken=P", "", "PageToken=P"},
		{"ftp", "ftp://chat.twilio.com" + listPath + "?PageToken=F", "", "PageToken=F"},
		{"userinfo, never sent anywhere", "https://user:pw@chat.twilio.com" + listPath + "?PageToken=U", "", "PageToken=U"},
		{"javascript", "javascript:alert(1)", "not an http(s) URL or a path", ""},
		{"a query that does not parse (;)", "https://chat.twilio.com" + listPath + "?PageToken=A;x", "does not parse", ""},
		{"a query that does not parse (%zz)", "https://chat.twilio.com" + listPath + "?PageToken=%zz", "does not parse", ""},
		{"two page tokens", "https://chat.twilio.com" + listPath + "?PageToken=A&pagetoken=B", "more than one page token", ""},
		{"other user", "https://chat.twilio.com/v2/Services/" + testService + "/Users/bob/Bindings?PageToken=X", "leaves this list", ""},
		{"other user's SID", "https://chat.twilio.com/v2/Services/" + testService + "/Users/US" + strings.Repeat("e", 32) + "/Bindings", "leaves this list", ""},
		{"other service", "https://chat.twilio.com/v2/Services/IS" + strings.Repeat("f", 32) + "/Users/" + testUser + "/Bindings", "leaves this list", ""},
		{"other resource", "https://chat.twilio.com/v2/Services/" + testService + "/Users/" + testUser + "/Channels", "leaves this list", ""},
		{"deeper path", "https://chat.twilio.com" + listPath + "/" + testBinding, "leaves this list", ""},
		{"dot segments", "https://chat.twilio.com" + listPath + "/../../bob/Bindings", "leaves this list", ""},
		{"encoded slash", "https://chat.twilio.com/v2/Services/" + testService + "/Users/a%2Fb/Bindings", "leaves this list", ""},
		{"not a URL", "https://chat.twilio.com/%zz", "not a valid URL", ""},
		{"loop to itself", "https://chat.twilio.com" + listPath, "already fetched", ""},
		{"loop to itself on another host", "https://evil.example" + listPath + "?Page=7", "already fetched", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			var queries []string
			mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				if r.URL.Host != "api.test" || r.URL.EscapedPath() != "/prefix"+listPath {
					t.Errorf("request left the list: %s", r.URL)
				}
				queries = append(queries, r.URL.RawQuery)
				next := "null"
				if len(queries) == 1 {
					b, _ := json.Marshal(tc.next)
					next = string(b)
				}
				return httpmock.NewStringResponse(200, `{"meta":{"page":0,"page_size":1,"next_page_url":`+next+`,"key":"bindings"},"bindings":[`+bindingJSON(len(queries), "apn")+`]}`), nil
			})
			got, err := collect(t, api.Services(testService).Users(testUser).UserBindings.List(context.Background(), nil))
			if tc.wantErr == "" {
				if err != nil || len(got) != 2 || len(queries) != 2 || queries[1] != tc.wantQ {
					t.Fatalf("got %d bindings, queries %q, err %v", len(got), queries, err)
				}
				return
			}
			var pe *PageURLError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want a PageURLError containing %q", err, tc.wantErr)
			}
			if len(got) != 1 || len(queries) != 1 {
				t.Errorf("%d bindings and %d requests; the hostile URL must not be fetched", len(got), len(queries))
			}
		})
	}
}

func TestNextPageURLMayNameTheUserBySID(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	var pg pager
	pg.register(mt, 2, 5)
	// Listed by identity; the pages name the user by SID, as the API does.
	mt.RegisterResponder("GET", testBase+"/v2/Services/"+testService+"/Users/alice/Bindings", func(r *http.Request) (*http.Response, error) {
		page := 0
		fmt.Sscan(r.URL.Query().Get("Page"), &page)
		return httpmock.NewStringResponse(200, pageJSON("https://chat.twilio.com/v2/Services/"+testService+"/Users/"+testUser+"/Bindings", page, 2, 5)), nil
	})
	got, err := collect(t, api.Services(testService).Users("alice").UserBindings.List(context.Background(), nil))
	if err != nil || len(got) != 5 {
		t.Fatalf("%d bindings, %v", len(got), err)
	}
	if pg.count() != 0 {
		t.Errorf("%d requests went to the SID path; the listing must stay on the path it was asked for", pg.count())
	}
}

func TestLoopAcrossPagesIsDetected(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	listPath := "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"
	n := 0
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		n++
		// page A -> B -> A -> …
		next := "https://chat.twilio.com" + listPath + "?PageToken=B"
		if r.URL.Query().Get("PageToken") == "B" {
			next = "https://chat.twilio.com" + listPath + "?PageToken=A"
		}
		return httpmock.NewStringResponse(200, `{"meta":{"next_page_url":"`+next+`"},"bindings":[]}`), nil
	})
	ctx := context.Background()
	first, err := api.Services(testService).Users(testUser).UserBindings.PageFromURL(ctx, listPath+"?PageToken=A")
	if err != nil {
		t.Fatal(err)
	}
	second, err := first.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Calling Next twice on one page re-fetches; that is not a loop.
	if _, err := first.Next(ctx); err != nil {
		t.Fatalf("second Next on the same page: %v", err)
	}
	_, err = second.Next(ctx)
	var pe *PageURLError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "already fetched") {
		t.Fatalf("err = %v, want a loop error", err)
	}
	if n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestPageWithErrorBodyAndMissingMeta(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		body  string
		check func(error) bool
	}{
		{"200 carrying an error", `{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, client.IsNotFound},
		{"missing meta", `{"bindings":[]}`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) && de.Field == "meta" }},
		{"null bindings", `{"meta":{},"bindings":null}`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) && de.Field == "bindings" }},
		{"truncated", `{"meta":{},"bindings":[{"sid":"BS`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
		{"html", `<html>oops</html>`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
		{"empty", ``, func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			mt.RegisterNoResponder(httpmock.NewStringResponder(200, tc.body))
			_, err := api.Services(testService).Users(testUser).UserBindings.FirstPage(context.Background(), nil)
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
		})
	}
}

func TestContextCancelledBetweenPages(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	var pg pager
	pg.register(mt, 2, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotErr error
	n := 0
	for _, err := range api.Services(testService).Users(testUser).UserBindings.List(ctx, &UserBindingListParams{PageSize: 2}) {
		if err != nil {
			gotErr = err
			break
		}
		if n++; n == 2 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) || pg.count() != 1 {
		t.Fatalf("err = %v after %d pages, want Canceled after 1", gotErr, pg.count())
	}
}
