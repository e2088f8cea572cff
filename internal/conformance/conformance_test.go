package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// The test drives the SDK through every operation of both binding
// resources against chattest, errors included, records every exchange on
// the wire, and validates each request and response against Twilio's
// OpenAPI description of Chat v2 (testdata/twilio_chat_v2.json, public,
// Apache-2.0) with a real validator.

// exchange is one request and its response as they crossed the wire.
type exchange struct {
	method string
	url    *url.URL
	header http.Header
	status int
	rh     http.Header
	body   []byte
}

// recorder is the transport beneath the SDK's client: it keeps a copy of
// every exchange.
type recorder struct {
	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	u := *req.URL
	r.mu.Lock()
	r.log = append(r.log, exchange{req.Method, &u, req.Header.Clone(), resp.StatusCode, resp.Header.Clone(), body})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) exchanges() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.log...)
}

// validator checks exchanges against the OpenAPI document.
type validator struct {
	router routers.Router
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/twilio_chat_v2.json")
	if err != nil {
		t.Fatal(err)
	}
	// Its examples elsewhere (the Roles resource) break its own schemas;
	// ours are checked by the chat package's tests.
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("the OpenAPI document itself: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{router: router}
}

func init() {
	// The document's URLs are format "uri"; the validator knows no such
	// format until told.
	openapi3.DefineStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("%q is not an absolute URI", s)
		}
		return nil
	}))
}

// basicAuth is the document's only security scheme: HTTP basic.
func basicAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Scheme != "basic" {
		return errors.New("unexpected security scheme")
	}
	if _, _, ok := in.RequestValidationInput.Request.BasicAuth(); !ok {
		return errors.New("no basic credentials")
	}
	return nil
}

// route finds the operation an exchange addressed; the document's server
// is https://chat.twilio.com, so the request is routed as if sent there.
func (v *validator) route(e exchange) (*openapi3filter.RequestValidationInput, error) {
	u := *e.url
	u.Scheme, u.Host = "https", "chat.twilio.com"
	req, err := http.NewRequest(e.method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = e.header
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("no operation for %s %s: %w", e.method, u.Path, err)
	}
	return &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: basicAuth, MultiError: true},
	}, nil
}

func (v *validator) request(e exchange) (string, error) {
	in, err := v.route(e)
	if err != nil {
		return "", err
	}
	return in.Route.Operation.OperationID, openapi3filter.ValidateRequest(context.Background(), in)
}

// twilioError is Twilio's error document, which the OpenAPI description
// does not define: responses other than 200 and 204 are checked against it.
var twilioError = &openapi3.Schema{
	Type:     &openapi3.Types{"object"},
	Required: []string{"code", "message", "more_info", "status"},
	Properties: openapi3.Schemas{
		"code":      openapi3.NewIntegerSchema().NewRef(),
		"message":   openapi3.NewStringSchema().WithMinLength(1).NewRef(),
		"more_info": openapi3.NewStringSchema().WithFormat("uri").NewRef(),
		"status":    openapi3.NewIntegerSchema().NewRef(),
		"details":   openapi3.NewObjectSchema().NewRef(),
	},
}

func (v *validator) response(e exchange) error {
	in, err := v.route(e)
	if err != nil {
		return err
	}
	if e.status/100 == 2 {
		return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: e.status, Header: e.rh, Body: io.NopCloser(bytes.NewReader(e.body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		})
	}
	var doc map[string]any
	if err := json.Unmarshal(e.body, &doc); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	if err := twilioError.VisitJSON(doc); err != nil {
		return err
	}
	if doc["status"] != float64(e.status) {
		return fmt.Errorf("error document says status %v, the response %d", doc["status"], e.status)
	}
	return nil
}

// drive makes every call the SDK has, against chattest, through rec.
func drive(t *testing.T, rec *recorder) {
	t.Helper()
	srv := chattest.NewServer()
	t.Cleanup(srv.Close)
	srv.SetLimits(chattest.RealLimits())
	svc := srv.AddService()
	types := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	identities := []string{"alice", "bob@example.com", "carol / ops?", "日本"}
	for i := 0; i < 28; i++ {
		svc.AddUser(identities[i%4]).AddBinding(chattest.Binding{Type: types[i%3], CredentialSID: map[bool]string{true: "CR" + strings.Repeat("c", 32)}[i%2 == 0]})
	}
	hc := &http.Client{Transport: rec}
	c, err := srv.Client(client.WithHTTPClient(hc), client.WithMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	api := chat.New(c)
	ctx := context.Background()
	all := api.Services(svc.SID).Bindings
	alice := api.Services(svc.SID).Users("alice").UserBindings
	aliceSID := svc.AddUser("alice").SID // AddUser of an identity it has returns that user
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	drain := func(what string, seq func(func(any, error) bool)) {
		t.Helper()
		for _, err := range seq {
			must(what, err)
		}
	}
	anyOf := func(u func(func(*chat.UserBinding, error) bool)) func(func(any, error) bool) {
		return func(y func(any, error) bool) { u(func(b *chat.UserBinding, err error) bool { return y(b, err) }) }
	}
	anyOfB := func(u func(func(*chat.Binding, error) bool)) func(func(any, error) bool) {
		return func(y func(any, error) bool) { u(func(b *chat.Binding, err error) bool { return y(b, err) }) }
	}

	drain("per-user list by identity", anyOf(alice.List(ctx, &chat.UserBindingListParams{PageSize: 2, BindingType: []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeFCM}})))
	drain("per-user list by SID", anyOf(api.Services(svc.SID).Users(aliceSID).UserBindings.List(ctx, &chat.UserBindingListParams{Limit: 5})))
	drain("per-user list, awkward identity", anyOf(api.Services(svc.SID).Users("carol / ops?").UserBindings.List(ctx, &chat.UserBindingListParams{PageSize: 3, Prefetch: true})))
	drain("service list", anyOfB(all.List(ctx, &chat.BindingListParams{PageSize: 4, Identity: []string{"alice", "carol / ops?"}, BindingType: []chat.BindingType{chat.BindingTypeGCM, chat.BindingTypeAPN}})))
	drain("service list, defaults", anyOfB(all.List(ctx, nil)))
	first, err := all.FirstPage(ctx, &chat.BindingListParams{PageSize: 10})
	must("service first page", err)
	_, err = all.PageFromURL(ctx, first.Meta.NextPageURL)
	must("service page from URL", err)
	ufirst, err := alice.FirstPage(ctx, &chat.UserBindingListParams{PageSize: 3})
	must("per-user first page", err)
	_, err = alice.PageFromURL(ctx, ufirst.Meta.NextPageURL)
	must("per-user page from URL", err)

	bindings := svc.Bindings()
	_, err = all(string(bindings[1].SID)).Fetch(ctx)
	must("service fetch", err)
	_, err = alice(string(bindings[0].SID)).Fetch(ctx)
	must("per-user fetch", err)
	must("service remove", all(string(bindings[1].SID)).Remove(ctx))
	must("per-user remove", alice(string(bindings[0].SID)).Remove(ctx))

	// Errors: not found, unauthorized, a page size above 50, rate limited.
	if _, err := all(string(bindings[1].SID)).Fetch(ctx); !client.IsNotFound(err) {
		t.Fatalf("fetch of a removed binding: %v", err)
	}
	if err := alice(string(bindings[0].SID)).Remove(ctx); !client.IsNotFound(err) {
		t.Fatalf("remove of a removed binding: %v", err)
	}
	wrong, _ := client.New(client.WithCredentials(srv.AccountSID, "wrong"), client.WithBaseURL(srv.URL), client.WithHTTPClient(hc), client.WithMaxRetries(0))
	if _, err := chat.New(wrong).Services(svc.SID).Bindings.FirstPage(ctx, nil); !client.IsUnauthorized(err) {
		t.Fatalf("wrong credentials: %v", err)
	}
	if _, err := alice.FirstPage(ctx, &chat.UserBindingListParams{PageSize: 60}); !errors.Is(err, client.ErrInvalidParameter) && !strings.Contains(fmt.Sprint(err), "20001") {
		t.Fatalf("page size 60: %v", err)
	}
	srv.SetLimits(chattest.Limits{WritesPerSecond: 1.0 / 3600, WriteWindow: time.Hour})
	must("remove under a budget of one", all(string(bindings[2].SID)).Remove(ctx))
	if err := all(string(bindings[3].SID)).Remove(ctx); !client.IsRateLimited(err) {
		t.Fatalf("over the write budget: %v", err)
	}
}

// TestTheProjectConformsToTheOpenAPIDocument validates every exchange.
func TestTheProjectConformsToTheOpenAPIDocument(t *testing.T) {
	v := newValidator(t)
	rec := &recorder{}
	drive(t, rec)
	seen := map[string]bool{}
	for _, e := range rec.exchanges() {
		what := fmt.Sprintf("%s %s → %d", e.method, e.url.RequestURI(), e.status)
		op, err := v.request(e)
		switch {
		case e.url.Query().Get("PageSize") == "60":
			// Asked for explicitly: the SDK sends it as asked, and the
			// document (1..50) objects, as it should.
			if err == nil || !strings.Contains(err.Error(), "PageSize") {
				t.Errorf("%s: the validator let PageSize 60 through: %v", what, err)
			}
		case err != nil:
			t.Errorf("request %s does not conform: %v", what, err)
		}
		if err := v.response(e); err != nil {
			t.Errorf("response to %s does not conform: %v", what, err)
		}
		seen[fmt.Sprintf("%s %d", op, e.status)] = true
		seen[fmt.Sprint(e.status)] = true
	}
	for _, want := range []string{
		"ListUserBinding 200", "FetchUserBinding 200", "DeleteUserBinding 204",
		"ListBinding 200", "FetchBinding 200", "DeleteBinding 204",
		"400", "401", "404", "429",
	} {
		if !seen[want] {
			t.Errorf("no exchange of %s was checked", want)
		}
	}
	t.Logf("%d exchanges validated", len(rec.exchanges()))
}

// TestTheValidatorCatchesViolations keeps the test above honest: a
// response or request that breaks the document fails validation.
func TestTheValidatorCatchesViolations(t *testing.T) {
	v := newValidator(t)
	base, _ := url.Parse("http://127.0.0.1/v2/Services/IS" + strings.Repeat("a", 32) + "/Bindings")
	auth := http.Header{"Authorization": {"Basic QUM6dA=="}}
	jsonType := http.Header{"Content-Type": {"application/json"}}
	ok := `{"meta":{"page":0,"page_size":50,"first_page_url":"https://chat.twilio.com/x","previous_page_url":null,"url":"https://chat.twilio.com/x","next_page_url":null,"key":"bindings"},"bindings":[]}`
	if err := v.response(exchange{method: "GET", url: base, header: auth, status: 200, rh: jsonType, body: []byte(ok)}); err != nil {
		t.Fatalf("a conforming page was refused: %v", err)
	}
	bad := map[string]string{
		"bindings not an array": strings.Replace(ok, `"bindings":[]`, `"bindings":{}`, 1),
		"a malformed SID":       strings.Replace(ok, `"bindings":[]`, `"bindings":[{"sid":"BS123"}]`, 1),
		"a date that is not":    strings.Replace(ok, `"bindings":[]`, `"bindings":[{"date_updated":"yesterday"}]`, 1),
		"an unknown type":       strings.Replace(ok, `"bindings":[]`, `"bindings":[{"binding_type":"voip"}]`, 1),
		"a relative URL":        strings.Replace(ok, `"url":"https://chat.twilio.com/x"`, `"url":"/x"`, 1),
	}
	for name, body := range bad {
		if err := v.response(exchange{method: "GET", url: base, header: auth, status: 200, rh: jsonType, body: []byte(body)}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, q := range []string{"PageSize=51", "PageSize=0", "BindingType=voip", "Page=-1"} {
		u := *base
		u.RawQuery = q
		if _, err := v.request(exchange{method: "GET", url: &u, header: auth}); err == nil {
			t.Errorf("request with %s: accepted", q)
		}
	}
	if _, err := v.request(exchange{method: "GET", url: base}); err == nil {
		t.Error("a request without credentials: accepted")
	}
	if err := v.response(exchange{method: "GET", url: base, header: auth, status: 404, body: []byte(`{"code":20404,"message":"x","more_info":"https://www.twilio.com/docs/errors/20404","status":400}`)}); err == nil {
		t.Error("an error document with the wrong status: accepted")
	}
}
