package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

// TestEveryVerbReadsATwilioErrorDocumentTheSame: a 2xx answer whose body is
// Twilio's error document is that error, for Fetch, a page and Remove alike;
// an empty or other body on a DELETE is its success.
func TestEveryVerbReadsATwilioErrorDocumentTheSame(t *testing.T) {
	t.Parallel()
	h := func(api *API) UserBindingHandle {
		return api.Services(testService).Users(testUser).UserBindings(testBinding)
	}
	verbs := map[string]func(*API) error{
		"Fetch":  func(api *API) error { _, err := h(api).Fetch(context.Background()); return err },
		"Remove": func(api *API) error { return h(api).Remove(context.Background()) },
		"a page": func(api *API) error {
			_, err := api.Services(testService).Users(testUser).UserBindings.FirstPage(context.Background(), nil)
			return err
		},
	}
	for name, call := range verbs {
		for _, status := range []int{200, 202} {
			api, mt := newTestAPI(t)
			mt.RegisterNoResponder(httpmock.NewStringResponder(status, notFound).HeaderSet(http.Header{"Twilio-Request-Id": {"RQ1"}}))
			err := call(api)
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != 20404 || apiErr.RequestID != "RQ1" || !client.IsNotFound(err) {
				t.Errorf("%s answered %d with an error document: %v, want a *client.Error 404", name, status, err)
			}
		}
	}
	// Keys match exactly, as in a binding: upper-case ones are not Twilio's
	// document, and a DELETE answered 2xx with them succeeded.
	for _, body := range []string{"", " \n", "{}", `{"deleted":true}`, `{"CODE":20404,"Message":"x","STATUS":404}`} {
		api, mt := newTestAPI(t)
		mt.RegisterNoResponder(httpmock.NewStringResponder(200, body))
		if err := h(api).Remove(context.Background()); err != nil {
			t.Errorf("DELETE answered 200 %q: %v", body, err)
		}
	}
}

// TestPageFromURLStaysOnItsUser: a handle addressed by SID does not resume
// from another user's saved URL (whose token, sent on this list, would skip
// this user's first bindings); a handle by identity adopts the SID a URL
// names, then holds the bindings to it.
func TestPageFromURLStaysOnItsUser(t *testing.T) {
	t.Parallel()
	other := "US" + strings.Repeat("e", 32)
	otherURL := "https://chat.twilio.com/v2/Services/" + testService + "/Users/" + other + "/Bindings?PageSize=2&Page=1&PageToken=PT1"
	api, mt := newTestAPI(t)
	mt.RegisterNoResponder(httpmock.NewStringResponder(200, pageJSON(hostileList, 1, 2, 5)))
	_, err := api.Services(testService).Users(testUser).UserBindings.PageFromURL(context.Background(), otherURL)
	var pe *PageURLError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "leaves this list") || mt.GetTotalCallCount() != 0 {
		t.Fatalf("another user's URL on a handle by SID: %v after %d requests; want a PageURLError and none", err, mt.GetTotalCallCount())
	}
	// The same user in upper-case hex is this list.
	upper := "US" + strings.ToUpper(testUser[2:])
	own := strings.Replace(otherURL, other, upper, 1)
	if page, err := api.Services(testService).Users(testUser).UserBindings.PageFromURL(context.Background(), own); err != nil || len(page.Bindings) != 2 {
		t.Fatalf("this user's URL in upper-case hex: %v", err)
	}
	// By identity, the URL's SID is adopted and checked against what the
	// bindings say: they are testUser's, so the other user's URL fails.
	_, err = api.Services(testService).Users("alice").UserBindings.PageFromURL(context.Background(), otherURL)
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "bindings[0].user_sid" {
		t.Fatalf("another user's URL on a handle by identity: %v, want a DecodeError on user_sid", err)
	}
}

// TestUpperCaseSIDsListEveryPage: a user and service addressed in upper-case
// hex get every page, though the API writes its page URLs in lower case.
func TestUpperCaseSIDsListEveryPage(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	upper := func(s string) string { return s[:2] + strings.ToUpper(s[2:]) }
	mt.RegisterResponder("GET", testBase+"/v2/Services/"+upper(testService)+"/Users/"+upper(testUser)+"/Bindings", func(r *http.Request) (*http.Response, error) {
		page := 0
		fmt.Sscan(r.URL.Query().Get("Page"), &page)
		return httpmock.NewStringResponse(200, pageJSON(hostileList, page, 2, 5)), nil
	})
	n, err := drain(api.Services(upper(testService)).Users(upper(testUser)).UserBindings.List(context.Background(), nil))
	if err != nil || n != 5 {
		t.Fatalf("%d of 5 bindings: %v", n, err)
	}
}

// TestRequestIDsOfReads: Fetch keeps its response with ResponseInto, and
// every page carries the response it came in.
func TestRequestIDsOfReads(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	u := api.Services(testService).Users(testUser)
	mt.RegisterResponder("GET", testBase+"/v2/Services/"+testService+"/Users/"+testUser+"/Bindings/"+testBinding,
		httpmock.NewStringResponder(200, strings.ReplaceAll(bindingJSON(1, "apn"), fmt.Sprintf("BS%032x", 1), testBinding)).HeaderSet(http.Header{"Twilio-Request-Id": {"RQfetch"}}))
	n := 0
	mt.RegisterResponder("GET", testBase+"/v2/Services/"+testService+"/Users/"+testUser+"/Bindings", func(r *http.Request) (*http.Response, error) {
		n++
		resp := httpmock.NewStringResponse(200, pageJSON(hostileList, n-1, 2, 3))
		resp.Header.Set("Twilio-Request-Id", "RQpage"+string(rune('0'+n)))
		return resp, nil
	})
	var resp client.Response
	fetched, err := u.UserBindings(testBinding).Fetch(context.Background(), ResponseInto(&resp), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.RequestID != "RQfetch" || resp.StatusCode != 200 || resp.Attempts != 1 || fetched == nil {
		t.Fatalf("Fetch's response: %+v", resp)
	}
	var ids []string
	for page, err := range u.UserBindings.Pages(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, page.Response.RequestID)
	}
	if strings.Join(ids, ",") != "RQpage1,RQpage2" {
		t.Fatalf("pages' request IDs: %q", ids)
	}
}

// TestZeroValuesSayWhatToDo: the zero values of the package's types fail
// with errors that say what to do, and never panic.
func TestZeroValuesSayWhatToDo(t *testing.T) {
	t.Parallel()
	if got := (&DecodeError{}).Error(); got != "chat: decoding response" {
		t.Errorf("(&DecodeError{}).Error() = %q", got)
	}
	if got := (&DecodeError{Field: "sid"}).Error(); !strings.Contains(got, "field sid") {
		t.Errorf("a DecodeError without a cause: %q", got)
	}
	_, err := New(&client.Client{}).Services(testService).Users(testUser).UserBindings(testBinding).Fetch(context.Background())
	var ce *client.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "zero Client") || !strings.Contains(err.Error(), "client.New") {
		t.Errorf("a call on chat.New(&client.Client{}): %v", err)
	}
	_, err = New(nil).Services(testService).Users(testUser).UserBindings(testBinding).Fetch(context.Background())
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "nil") {
		t.Errorf("a call on chat.New(nil): %v", err)
	}
}
