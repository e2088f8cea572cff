package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

const notFound = `{"code":20404,"message":"The requested resource /Services/IS/Users/x/Bindings/BS was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`

// The OpenAPI document's example binding, in both shapes.
const (
	exService = "ISaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	exUser    = "USaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	exBinding = "BSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// TestFetch fetches the OpenAPI document's example of each resource, and
// answers that are not the binding asked for.
func TestFetch(t *testing.T) {
	t.Parallel()
	userExample, bindingExample := readTestdata(t, "openapi_fetch.json"), readTestdata(t, "openapi_binding_fetch.json")
	cases := []struct {
		name      string
		body      string
		fetch     func(*API) (any, error)
		wantField string // "" means success; otherwise the field a DecodeError names
	}{
		{"user binding by identity", userExample, func(a *API) (any, error) {
			return a.Services(exService).Users("TestUser").UserBindings(exBinding).Fetch(context.Background())
		}, ""},
		{"user binding by SID", userExample, func(a *API) (any, error) {
			return a.Services(exService).Users(exUser).UserBindings(exBinding).Fetch(context.Background())
		}, ""},
		{"binding", bindingExample, func(a *API) (any, error) {
			return a.Services(exService).Bindings(exBinding).Fetch(context.Background())
		}, ""},
		{"SIDs compared without case", bindingExample, func(a *API) (any, error) {
			return a.Services(strings.ToUpper(exService[:2]) + strings.ToUpper(exService[2:])).Bindings("BS" + strings.ToUpper(exBinding[2:])).Fetch(context.Background())
		}, ""},

		{"another binding", userExample, func(a *API) (any, error) {
			return a.Services(exService).Users("TestUser").UserBindings(testBinding).Fetch(context.Background())
		}, "sid"},
		{"another service", bindingExample, func(a *API) (any, error) {
			return a.Services(testService).Bindings(exBinding).Fetch(context.Background())
		}, "service_sid"},
		{"another user by SID", userExample, func(a *API) (any, error) {
			return a.Services(exService).Users(testUser).UserBindings(exBinding).Fetch(context.Background())
		}, "user_sid"},
		{"another user by identity", userExample, func(a *API) (any, error) {
			return a.Services(exService).Users("testuser").UserBindings(exBinding).Fetch(context.Background())
		}, "identity"},
		{"no SID at all", `{"identity":"TestUser"}`, func(a *API) (any, error) {
			return a.Services(exService).Users("TestUser").UserBindings(exBinding).Fetch(context.Background())
		}, "sid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			mt.RegisterNoResponder(httpmock.NewStringResponder(200, tc.body))
			got, err := tc.fetch(api)
			if tc.wantField != "" {
				var de *DecodeError
				if !errors.As(err, &de) || de.Field != tc.wantField {
					t.Fatalf("err = %v, want a DecodeError naming %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			created := time.Date(2016, 10, 21, 11, 37, 3, 0, time.UTC)
			types := []string{"removed_from_channel", "new_message", "added_to_channel", "invited_to_channel"}
			var want any
			switch got.(type) {
			case *UserBinding:
				want = &UserBinding{SID: exBinding, AccountSID: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ServiceSID: exService, UserSID: exUser,
					CredentialSID: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DateCreated: created, DateUpdated: created, Endpoint: "TestUser-endpoint",
					Identity: "TestUser", BindingType: BindingTypeGCM, MessageTypes: types,
					URL: "https://chat.twilio.com/v2/Services/" + exService + "/Users/" + exUser + "/Bindings/" + exBinding}
			case *Binding:
				want = &Binding{SID: exBinding, AccountSID: "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ServiceSID: exService,
					CredentialSID: "CRaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DateCreated: created, DateUpdated: created, Endpoint: "TestUser-endpoint",
					Identity: "TestUser", BindingType: BindingTypeGCM, MessageTypes: types,
					URL:     "https://chat.twilio.com/v2/Services/" + exService + "/Bindings/" + exBinding,
					UserURL: "https://chat.twilio.com/v2/Services/" + exService + "/Users/TestUser"}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Fetch = %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestFetchErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		check  func(error) bool
	}{
		{"404", 404, notFound, client.IsNotFound},
		{"401", 401, `{"code":20003,"message":"Authenticate","status":401}`, client.IsUnauthorized},
		{"200 with an error document", 200, notFound, client.IsNotFound},
		{"200 with an empty object", 200, `{}`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) }},
		{"200 with a bad SID", 200, `{"sid":"BS123"}`, func(err error) bool { var de *DecodeError; return errors.As(err, &de) && de.Field == "sid" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			mt.RegisterNoResponder(httpmock.NewStringResponder(tc.status, tc.body))
			b, err := api.Services(testService).Users("alice").UserBindings(testBinding).Fetch(context.Background())
			if b != nil || !tc.check(err) {
				t.Fatalf("Fetch = %v, %v", b, err)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	deleted := httpmock.NewStringResponder(204, "")
	gone := httpmock.NewStringResponder(404, notFound)
	flaky := httpmock.NewStringResponder(503, "")
	cases := []struct {
		name       string
		responders []httpmock.Responder
		opts       []RemoveOption
		wantErr    bool
	}{
		{"204", []httpmock.Responder{deleted}, nil, false},
		{"404 on first attempt", []httpmock.Responder{gone}, nil, true},
		{"404 on first attempt with option", []httpmock.Responder{gone}, []RemoveOption{AcceptRetriedNotFound()}, true},
		{"404 after retry", []httpmock.Responder{flaky, gone}, nil, true},
		{"404 after retry with option", []httpmock.Responder{flaky, gone}, []RemoveOption{AcceptRetriedNotFound()}, false},
		{"retried then 204", []httpmock.Responder{flaky, deleted}, nil, false},
		// A 429 is never acted on: the binding was not there to remove.
		{"404 after 429 with option", []httpmock.Responder{httpmock.NewStringResponder(429, ""), gone}, []RemoveOption{AcceptRetriedNotFound()}, true},
		{"404 after 503 and 429 with option", []httpmock.Responder{flaky, httpmock.NewStringResponder(429, ""), gone}, []RemoveOption{AcceptRetriedNotFound()}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t)
			i := 0
			mt.RegisterResponder("DELETE", testBase+"/v2/Services/"+testService+"/Users/alice/Bindings/"+testBinding,
				func(r *http.Request) (*http.Response, error) {
					i++
					return tc.responders[min(i, len(tc.responders))-1](r)
				})
			err := api.Services(testService).Users("alice").UserBindings(testBinding).Remove(context.Background(), tc.opts...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Remove: %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !client.IsNotFound(err) {
				t.Errorf("err = %v, want not found", err)
			}
			if i != len(tc.responders) {
				t.Errorf("%d attempts, want %d", i, len(tc.responders))
			}
		})
	}
}

func TestEndpointIsRedacted(t *testing.T) {
	t.Parallel()
	ub := &UserBinding{SID: testBinding, Endpoint: "device-token-secret", Identity: "alice", BindingType: BindingTypeAPN, UserSID: testUser}
	sb := &Binding{SID: testBinding, Endpoint: "device-token-secret", Identity: "alice", BindingType: BindingTypeAPN, UserURL: "https://u"}
	for _, tc := range []struct {
		name       string
		ptr, value any
	}{
		{"chat.UserBinding", ub, *ub},
		{"chat.Binding", sb, *sb},
	} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			for _, v := range []any{tc.ptr, tc.value, []any{tc.ptr}, struct{ B any }{tc.value}} {
				out := fmt.Sprintf(verb, v)
				if strings.Contains(out, "device-token-secret") || strings.Contains(out, fmt.Sprintf("%x", "device-token-secret")) {
					t.Errorf("Sprintf(%s, %T) reveals the endpoint: %s", verb, v, out)
				}
			}
		}
		if out := fmt.Sprintf("%+v", tc.ptr); !strings.Contains(out, "Endpoint:[redacted]") || !strings.Contains(out, "SID:"+testBinding) {
			t.Errorf("%%+v = %s", out)
		}
		if out := fmt.Sprintf("%#v", tc.value); !strings.HasPrefix(out, tc.name+"{") {
			t.Errorf("%%#v = %s", out)
		}
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("binding", "b", tc.ptr, "v", tc.value)
		if strings.Contains(logs.String(), "device-token-secret") || !strings.Contains(logs.String(), `"endpoint":"[redacted]"`) || !strings.Contains(logs.String(), `"sid":"`+testBinding) {
			t.Errorf("slog output: %s", logs.String())
		}
		if strings.Contains(logs.String(), "user_sid") != (tc.name == "chat.UserBinding") {
			t.Errorf("slog output has user_sid exactly when the shape does: %s", logs.String())
		}
		var m map[string]any
		if err := json.Unmarshal(logs.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
	}
	if ub.Endpoint != "device-token-secret" || sb.Endpoint != "device-token-secret" {
		t.Error("formatting changed the binding")
	}
}
