package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

// serviceBindingJSON renders a valid service-wide binding with SID number i.
func serviceBindingJSON(i int, typ, identity string) string {
	sid := fmt.Sprintf("BS%032x", i)
	return fmt.Sprintf(`{"sid":%q,"account_sid":%q,"service_sid":%q,"credential_sid":%q,`+
		`"date_created":"2016-10-21T11:37:03Z","date_updated":"2016-10-21T11:37:03Z","endpoint":"endpoint-%d",`+
		`"identity":%q,"binding_type":%q,"message_types":["new_message","added_to_channel"],`+
		`"url":"https://chat.twilio.com/v2/Services/%s/Bindings/%s","links":{"user":"https://chat.twilio.com/v2/Services/%s/Users/%s"}}`,
		sid, testAccount, testService, testCred, i, identity, typ, testService, sid, testService, testUser)
}

func TestBindingsOpenAPIListExampleDecodes(t *testing.T) {
	t.Parallel()
	var d decoder[Binding]
	var p BindingPage
	hasMeta, err := d.page([]byte(readTestdata(t, "openapi_binding_list.json")), &p)
	if err != nil || !hasMeta {
		t.Fatalf("page: %v (meta %v)", err, hasMeta)
	}
	a32 := strings.Repeat("a", 32)
	listURL := "https://chat.twilio.com/v2/Services/IS" + a32 + "/Bindings?PageSize=50&Page=0"
	if want := (PageMeta{Page: 0, PageSize: 50, FirstPageURL: listURL, URL: listURL, Key: "bindings"}); p.Meta != want {
		t.Errorf("meta = %+v\nwant %+v", p.Meta, want)
	}
	want := &Binding{
		SID: BindingSID("BS" + a32), AccountSID: AccountSID("AC" + a32), ServiceSID: ServiceSID("IS" + a32),
		CredentialSID: CredentialSID("CR" + a32), DateCreated: seedTime(), DateUpdated: seedTime(),
		Endpoint: "TestUser-endpoint", Identity: "TestUser", BindingType: BindingTypeGCM,
		MessageTypes: []string{"removed_from_channel", "new_message", "added_to_channel", "invited_to_channel"},
		URL:          "https://chat.twilio.com/v2/Services/IS" + a32 + "/Bindings/BS" + a32,
		UserURL:      "https://chat.twilio.com/v2/Services/IS" + a32 + "/Users/TestUser",
	}
	if len(p.Bindings) != 1 || !reflect.DeepEqual(p.Bindings[0], want) {
		t.Fatalf("bindings = %#v\nwant %#v", p.Bindings, want)
	}
}

// TestBindingsListRequests checks the paths and queries the service-wide
// list sends: repeated BindingType and Identity keys, identities escaped in
// the query, and next_page_url followed on the list's own path.
func TestBindingsListRequests(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		params    *BindingListParams
		wantQuery url.Values
	}{
		{"no params", nil, url.Values{}},
		{"types", &BindingListParams{BindingType: []BindingType{BindingTypeAPN, BindingTypeFCM}}, url.Values{"BindingType": {"apn", "fcm"}}},
		{"identities repeated", &BindingListParams{Identity: []string{"alice@example.com", "bob"}}, url.Values{"Identity": {"alice@example.com", "bob"}}},
		{"identities escaped", &BindingListParams{Identity: []string{"a&b=c", "x y+z", "日本", "100%#?/"}}, url.Values{"Identity": {"a&b=c", "x y+z", "日本", "100%#?/"}}},
		{"all", &BindingListParams{BindingType: []BindingType{BindingTypeGCM}, Identity: []string{"x"}, PageSize: 7}, url.Values{"BindingType": {"gcm"}, "Identity": {"x"}, "PageSize": {"7"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			listPath := "/v2/Services/" + testService + "/Bindings"
			var mu sync.Mutex
			var queries []url.Values
			mt.RegisterResponder("GET", testBase+listPath, func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				defer mu.Unlock()
				queries = append(queries, r.URL.Query())
				identity, typ := "x", "gcm"
				if tc.params != nil && len(tc.params.Identity) > 0 {
					identity = tc.params.Identity[len(queries)%len(tc.params.Identity)]
				}
				if tc.params != nil && len(tc.params.BindingType) > 0 {
					typ = string(tc.params.BindingType[0])
				}
				next := "null"
				if len(queries) == 1 { // the server's next page keeps the query and adds its token
					q := r.URL.Query()
					q.Set("PageToken", "PT1")
					next = `"https://chat.twilio.com` + listPath + "?" + q.Encode() + `"`
				}
				return httpmock.NewStringResponse(200, `{"meta":{"next_page_url":`+next+`,"key":"bindings"},"bindings":[`+serviceBindingJSON(len(queries), typ, identity)+`]}`), nil
			})
			var before BindingListParams
			if tc.params != nil {
				before = *tc.params
			}
			n := 0
			for b, err := range api.Services(testService).Bindings.List(context.Background(), tc.params) {
				if err != nil {
					t.Fatal(err)
				}
				if b.UserURL == "" || b.ServiceSID != testService {
					t.Errorf("binding %+v", b)
				}
				n++
			}
			if n != 2 || len(queries) != 2 {
				t.Fatalf("%d bindings in %d requests, want 2 in 2", n, len(queries))
			}
			if !reflect.DeepEqual(queries[0], tc.wantQuery) {
				t.Errorf("first query %v, want %v", queries[0], tc.wantQuery)
			}
			if queries[1].Get("PageToken") != "PT1" || !reflect.DeepEqual(queries[1]["Identity"], tc.wantQuery["Identity"]) {
				t.Errorf("second query %v", queries[1])
			}
			if tc.params != nil && !reflect.DeepEqual(before, *tc.params) {
				t.Errorf("params changed from %+v to %+v", before, *tc.params)
			}
		})
	}
}

func TestBindingFetchAndRemovePaths(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	item := testBase + "/v2/Services/" + testService + "/Bindings/" + testBinding
	mt.RegisterResponder("GET", item, httpmock.NewStringResponder(200, strings.Replace(serviceBindingJSON(0, "apn", "alice"), fmt.Sprintf("BS%032x", 0), testBinding, -1)))
	mt.RegisterResponder("DELETE", item, httpmock.NewStringResponder(204, ""))
	h := api.Services(testService).Bindings(testBinding)
	b, err := h.Fetch(context.Background())
	if err != nil || b.SID != testBinding || b.Identity != "alice" || b.Endpoint != "endpoint-0" {
		t.Fatalf("Fetch = %+v, %v", b, err)
	}
	if err := h.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.SID() != testBinding || api.Services(testService).SID() != testService {
		t.Error("handles forgot their SIDs")
	}
	info := mt.GetCallCountInfo()
	if info["GET "+item] != 1 || info["DELETE "+item] != 1 {
		t.Fatalf("calls: %v", info)
	}
}

func TestBindingsInvalidInputSendsNothing(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	ctx := context.Background()
	svc := api.Services(testService)
	calls := map[string]func() error{
		"Identity": func() error {
			_, err := svc.Bindings.FirstPage(ctx, &BindingListParams{Identity: []string{"alice", ""}})
			return err
		},
		"Identity ": func() error {
			_, err := svc.Bindings.FirstPage(ctx, &BindingListParams{Identity: []string{"a\xffb"}})
			return err
		},
		"PageSize": func() error {
			_, err := svc.Bindings.FirstPage(ctx, &BindingListParams{PageSize: 1001})
			return err
		},
		"BindingType": func() error {
			for _, err := range svc.Bindings.List(ctx, &BindingListParams{BindingType: []BindingType{"voip"}}) {
				return err
			}
			return nil
		},
		"Limit": func() error {
			for _, err := range svc.Bindings.Pages(ctx, &BindingListParams{Limit: -1}) {
				return err
			}
			return nil
		},
		"ServiceSid": func() error {
			_, err := api.Services("IS123").Bindings.PageFromURL(ctx, "/v2/Services/IS123/Bindings")
			return err
		},
		"Sid": func() error { return svc.Bindings("BS123").Remove(ctx) },
		"Sid ": func() error {
			_, err := svc.Bindings("US0123456789abcdef0123456789abcdef").Fetch(ctx)
			return err
		},
	}
	for param, call := range calls {
		var ve *client.ValidationError
		if err := call(); !errors.As(err, &ve) || ve.Param != strings.TrimSpace(param) {
			t.Errorf("%s: err = %v, want a ValidationError for it", param, err)
		}
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Fatalf("%d requests sent for invalid input", n)
	}
	var zero ServiceHandle
	var h BindingHandle
	if _, err := h.Fetch(ctx); err == nil {
		t.Error("Fetch through a zero BindingHandle succeeded")
	}
	for _, err := range zero.Bindings.List(ctx, nil) {
		if err == nil {
			t.Error("List through a zero ServiceHandle yielded a binding")
		}
	}
}

// TestBindingsHeldToTheirFilters: whatever the server sends, a binding
// outside the listing's filters or service never reaches the caller.
func TestBindingsHeldToTheirFilters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		params    *BindingListParams
		binding   string
		wantField string
	}{
		{"identity outside the filter", &BindingListParams{Identity: []string{"alice", "bob"}}, serviceBindingJSON(1, "apn", "mallory"), "bindings[0].identity"},
		{"identity differing in case", &BindingListParams{Identity: []string{"alice"}}, serviceBindingJSON(1, "apn", "Alice"), "bindings[0].identity"},
		{"type outside the filter", &BindingListParams{BindingType: []BindingType{BindingTypeFCM}}, serviceBindingJSON(1, "apn", "alice"), "bindings[0].binding_type"},
		{"another service", nil, strings.Replace(serviceBindingJSON(1, "apn", "alice"), `"service_sid":"`+testService, `"service_sid":"IS`+strings.Repeat("f", 32), 1), "bindings[0].service_sid"},
		{"no service said: null", nil, strings.Replace(serviceBindingJSON(1, "apn", "alice"), `"service_sid":"`+testService+`"`, `"service_sid":null`, 1), "bindings[0].service_sid"},
		{"no service said: absent", nil, strings.Replace(serviceBindingJSON(1, "apn", "alice"), `"service_sid":"`+testService+`",`, ``, 1), "bindings[0].service_sid"},
		{"inside the filters", &BindingListParams{Identity: []string{"alice"}, BindingType: []BindingType{BindingTypeAPN}}, serviceBindingJSON(1, "apn", "alice"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			mt.RegisterNoResponder(httpmock.NewStringResponder(200, `{"meta":{"key":"bindings"},"bindings":[`+tc.binding+`]}`))
			n := 0
			var err error
			for _, e := range api.Services(testService).Bindings.List(context.Background(), tc.params) {
				if err = e; err != nil {
					break
				}
				n++
			}
			if tc.wantField == "" {
				if err != nil || n != 1 {
					t.Fatalf("%d bindings, %v", n, err)
				}
				return
			}
			var de *DecodeError
			if n != 0 || !errors.As(err, &de) || de.Field != tc.wantField {
				t.Fatalf("%d bindings yielded, err = %v; want none and a DecodeError naming %s", n, err, tc.wantField)
			}
		})
	}
}
