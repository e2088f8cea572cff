package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

const notFound = `{"code":20404,"message":"The requested resource /Services/IS/Users/x/Bindings/BS was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`

func TestFetch(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	path := "/v2/Services/" + testService + "/Users/alice@example.com/Bindings/" + testBinding
	mt.RegisterResponder("GET", testBase+path, httpmock.NewStringResponder(200, readTestdata(t, "openapi_fetch.json")))
	b, err := api.Services(testService).Users("alice@example.com").UserBindings(testBinding).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b.BindingType != BindingTypeGCM || b.Identity != "TestUser" || b.Endpoint != "TestUser-endpoint" || len(b.MessageTypes) != 4 {
		t.Errorf("Fetch = %+v", b)
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
	b := &UserBinding{SID: testBinding, Endpoint: "device-token-secret", Identity: "alice", BindingType: BindingTypeAPN}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{b, *b, []*UserBinding{b}, struct{ B UserBinding }{*b}} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "device-token-secret") || strings.Contains(out, fmt.Sprintf("%x", "device-token-secret")) {
				t.Errorf("Sprintf(%s, %T) reveals the endpoint: %s", verb, v, out)
			}
		}
	}
	if out := fmt.Sprintf("%+v", b); !strings.Contains(out, "Endpoint:[redacted]") || !strings.Contains(out, "SID:"+testBinding) {
		t.Errorf("%%+v = %s", out)
	}
	if out := fmt.Sprintf("%#v", *b); !strings.HasPrefix(out, "chat.UserBinding{") {
		t.Errorf("%%#v = %s", out)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("binding", "b", b, "v", *b)
	if strings.Contains(logs.String(), "device-token-secret") || !strings.Contains(logs.String(), `"endpoint":"[redacted]"`) {
		t.Errorf("slog output: %s", logs.String())
	}
	var m map[string]any
	if err := json.Unmarshal(logs.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if b.Endpoint != "device-token-secret" {
		t.Error("formatting changed the binding")
	}
}
