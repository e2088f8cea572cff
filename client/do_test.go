package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

const notFoundBody = `{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404, "details": {"hint": "x"}}`

func TestDoSendsAuthenticatedRequestUnderBasePath(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithCredentials(testAccount, testToken), WithAPIKey(testKey, testSecret, testAccount)} {
		c, mt := newMockClient(t, opt)
		var got *http.Request
		mt.RegisterResponder("GET", testBase+"/v2/Services/a%2Fb/x?PageSize=5",
			func(r *http.Request) (*http.Response, error) {
				got = r
				return httpmock.NewStringResponse(200, `{"ok":true}`), nil
			})
		var body bytes.Buffer
		resp, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/Services/a%2Fb/x", Query: "PageSize=5"}, &body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || body.String() != `{"ok":true}` || resp.Attempts != 1 {
			t.Errorf("response %+v body %q", resp, body.String())
		}
		if got.URL.EscapedPath() != "/prefix/v2/Services/a%2Fb/x" {
			t.Errorf("path sent = %q, want the escaping kept", got.URL.EscapedPath())
		}
		user, pass, ok := got.BasicAuth()
		wantUser, wantPass := testAccount, testToken
		if strings.HasPrefix(got.Header.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte(testKey))[:8]) {
			wantUser, wantPass = testKey, testSecret
		}
		if !ok || user != wantUser || pass != wantPass {
			t.Errorf("basic auth = %q/%q, want %q", user, pass, wantUser)
		}
		if got.Header.Get("Accept") != "application/json" {
			t.Errorf("Accept = %q", got.Header.Get("Accept"))
		}
	}
}

func TestDoRejectsPathsThatAreNotPaths(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	for _, p := range []string{"", "v2/x", "/v2/x?y=1", "/v2/x#y", "/v2/%zz"} {
		_, err := c.Do(context.Background(), Request{Method: "GET", Path: p}, nil)
		if err == nil {
			t.Errorf("Do accepted path %q", p)
		}
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Errorf("%d requests sent for invalid paths", n)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := httpmock.NewStringResponder(200, `{}`)
	status := func(code int) httpmock.Responder {
		return httpmock.NewStringResponder(code, `{"code":1,"message":"m","status":1}`)
	}
	cases := []struct {
		name       string
		method     string
		responders []httpmock.Responder
		opts       []Option
		wantStatus int // of the final error; 0 means success
		wantTries  int
	}{
		{"429 then ok", "GET", []httpmock.Responder{status(429), ok}, nil, 0, 2},
		{"500 then ok", "GET", []httpmock.Responder{status(500), ok}, nil, 0, 2},
		{"502 then ok", "GET", []httpmock.Responder{status(502), ok}, nil, 0, 2},
		{"503 then ok", "GET", []httpmock.Responder{status(503), ok}, nil, 0, 2},
		{"504 then ok", "GET", []httpmock.Responder{status(504), ok}, nil, 0, 2},
		{"delete retried", "DELETE", []httpmock.Responder{status(503), httpmock.NewStringResponder(204, "")}, nil, 0, 2},
		{"connection error then ok", "GET", []httpmock.Responder{httpmock.ConnectionFailure, ok}, nil, 0, 2},
		{"broken body then ok", "GET", []httpmock.Responder{brokenResponder(`{"bindings": [`), ok}, nil, 0, 2},
		{"400 not retried", "GET", []httpmock.Responder{status(400)}, nil, 400, 1},
		{"401 not retried", "GET", []httpmock.Responder{status(401)}, nil, 401, 1},
		{"404 not retried", "DELETE", []httpmock.Responder{status(404)}, nil, 404, 1},
		{"501 not retried", "GET", []httpmock.Responder{status(501)}, nil, 501, 1},
		{"POST not retried", "POST", []httpmock.Responder{status(503)}, nil, 503, 1},
		{"retries disabled", "GET", []httpmock.Responder{status(503)}, []Option{WithMaxRetries(0)}, 503, 1},
		{"exhausted keeps last response", "GET", []httpmock.Responder{status(503), status(502), status(429)}, []Option{WithMaxRetries(2)}, 429, 3},
		{"retry-after within limit", "GET", []httpmock.Responder{withHeader(status(429), "Retry-After", "0"), ok}, nil, 0, 2},
		{"retry-after beyond limit", "GET", []httpmock.Responder{withHeader(status(429), "Retry-After", "120")}, nil, 429, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t, tc.opts...)
			mt.RegisterNoResponder(sequence(t, tc.responders...))
			_, err := c.Do(context.Background(), Request{Method: tc.method, Path: "/v2/x"}, &bytes.Buffer{})
			if got := mt.GetTotalCallCount(); got != tc.wantTries {
				t.Errorf("%d attempts, want %d", got, tc.wantTries)
			}
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				return
			}
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if apiErr.Status != tc.wantStatus || apiErr.Attempts != tc.wantTries {
				t.Errorf("Error status %d attempts %d, want %d and %d", apiErr.Status, apiErr.Attempts, tc.wantStatus, tc.wantTries)
			}
		})
	}
}

func TestRetryAfterBeyondLimitIsReported(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t, WithRetryAfterLimit(time.Second))
	mt.RegisterNoResponder(withHeader(httpmock.NewStringResponder(429, `{"code":20429,"message":"Too Many Requests","status":429}`), "Retry-After", "7"))
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil)
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 7*time.Second || !IsRateLimited(err) {
		t.Fatalf("err = %v, want a 429 *Error with RetryAfter 7s", err)
	}
	if !strings.Contains(err.Error(), "asked to wait 7s") {
		t.Errorf("message does not say how long to wait: %v", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{"172800", 48 * time.Hour, true}, // what the server asked, not a cap of ours
		{"99999999999", math.MaxInt64, true},
		{"99999999999999999999", math.MaxInt64, true}, // beyond int64: still an answer, the longest wait
		{"+5", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestJitteredBackoffStaysInBounds(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	cases := []struct {
		min, max time.Duration
		attempt  int
		lo, hi   time.Duration
	}{
		{10 * ms, 80 * ms, 0, 10 * ms, 20 * ms}, // the first wait is near the minimum
		{10 * ms, 80 * ms, 1, 20 * ms, 40 * ms},
		{10 * ms, 80 * ms, 2, 40 * ms, 80 * ms},
		{10 * ms, 80 * ms, 3, 40 * ms, 80 * ms}, // capped, still jittered
		{10 * ms, 80 * ms, 69, 40 * ms, 80 * ms},
		{0, 4 * time.Second, 0, 0, 2 * ms}, // WithRetryWait(0, 4s) once waited 2–4 s first
		{0, 4 * time.Second, 5, 32 * ms, 64 * ms},
		{0, 4 * time.Second, 40, 2 * time.Second, 4 * time.Second},
		{250 * ms, 5 * time.Second, 0, 250 * ms, 500 * ms},
		{3 * time.Second, 4 * time.Second, 0, 3 * time.Second, 4 * time.Second}, // never below min
		{0, 0, 3, 0, 0},
		{5 * ms, 5 * ms, 2, 5 * ms, 5 * ms},
	}
	for _, tc := range cases {
		for i := 0; i < 200; i++ {
			if d := jittered(tc.min, tc.max, tc.attempt); d < tc.lo || d > tc.hi {
				t.Fatalf("jittered(%v, %v, %d) = %v, outside [%v, %v]", tc.min, tc.max, tc.attempt, d, tc.lo, tc.hi)
			}
		}
	}
}

// TestRetryAfterAtTheEdges: what the server asked for is reported as asked,
// and anything beyond the limit ends the retries at once.
func TestRetryAfterAtTheEdges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header string
		want   time.Duration
	}{
		{"99999999999999999999", math.MaxInt64},
		{"172800", 48 * time.Hour},
		{"31", 31 * time.Second},
	}
	for _, tc := range cases {
		c, mt := newMockClient(t)
		mt.RegisterNoResponder(withHeader(httpmock.NewStringResponder(429, `{"code":20429,"message":"Too Many Requests","status":429}`), "Retry-After", tc.header))
		_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.RetryAfter != tc.want || mt.GetTotalCallCount() != 1 {
			t.Errorf("Retry-After %s: err = %v after %d requests; want RetryAfter %v after 1", tc.header, err, mt.GetTotalCallCount(), tc.want)
		}
	}
}

// TestPriorAttemptUncertain: only an attempt the server may have acted on
// (no answer after sending, or a 5xx) makes a later answer uncertain.
func TestPriorAttemptUncertain(t *testing.T) {
	t.Parallel()
	gone := httpmock.NewStringResponder(404, `{"code":20404,"message":"Not found","status":404}`)
	refused := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	reset := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	cases := []struct {
		name       string
		responders []httpmock.Responder
		want       bool
	}{
		{"404 at once", []httpmock.Responder{gone}, false},
		{"after 429s", []httpmock.Responder{httpmock.NewStringResponder(429, ""), httpmock.NewStringResponder(429, ""), gone}, false},
		{"after a refused connection", []httpmock.Responder{refused, gone}, false},
		{"after a 503", []httpmock.Responder{httpmock.NewStringResponder(503, ""), gone}, true},
		{"after a reset", []httpmock.Responder{reset, gone}, true},
		{"after a 502 then a 429", []httpmock.Responder{httpmock.NewStringResponder(502, ""), httpmock.NewStringResponder(429, ""), gone}, true},
		{"the last attempt's own 503 is not prior", []httpmock.Responder{httpmock.NewStringResponder(429, ""), httpmock.NewStringResponder(503, "")}, false},
	}
	for _, tc := range cases {
		c, mt := newMockClient(t, WithMaxRetries(len(tc.responders)-1))
		mt.RegisterNoResponder(sequence(t, tc.responders...))
		_, err := c.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/x"}, nil)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.PriorAttemptUncertain != tc.want || apiErr.Attempts != len(tc.responders) {
			t.Errorf("%s: err = %v, PriorAttemptUncertain %v; want %v", tc.name, err, apiErr != nil && apiErr.PriorAttemptUncertain, tc.want)
		}
	}
}

func TestContextEndsRetries(t *testing.T) {
	t.Parallel()
	t.Run("deadline while waiting to retry", func(t *testing.T) {
		t.Parallel()
		c, mt := newMockClient(t)
		mt.RegisterNoResponder(withHeader(httpmock.NewStringResponder(503, ""), "Retry-After", "5"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, Request{Method: "GET", Path: "/v2/x"}, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
		if time.Since(start) > 4*time.Second {
			t.Error("the retry wait ignored the deadline")
		}
		var re *RequestError
		if !errors.As(err, &re) || re.Path != "/v2/x" {
			t.Errorf("err = %#v, want a *RequestError naming the path", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		t.Parallel()
		c, mt := newMockClient(t)
		mt.RegisterNoResponder(httpmock.NewStringResponder(503, ""))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.Do(ctx, Request{Method: "GET", Path: "/v2/x"}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want Canceled", err)
		}
		if n := mt.GetTotalCallCount(); n > 1 {
			t.Errorf("%d attempts after cancellation", n)
		}
	})
}

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		status    int
		body      string
		check     func(error) bool
		wantCode  int
		wantInMsg []string
	}{
		{"twilio 404", 404, notFoundBody, IsNotFound, 20404, []string{"code 20404", "The requested resource was not found", "https://www.twilio.com/docs/errors/20404", "RQ0123", "check that the service"}},
		{"twilio 401", 401, `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`, IsUnauthorized, 20003, []string{"code 20003", "check the account SID"}},
		{"html from a proxy", 502, "<html><body>\n<h1>502 Bad Gateway</h1></body></html>", func(error) bool { return true }, 0, []string{"502 Bad Gateway", `body "<html><body> <h1>502`}},
		{"empty body", 404, "", IsNotFound, 0, []string{"404 Not Found"}},
		{"redirect", 302, "", func(error) bool { return true }, 0, []string{"does not redirect"}},
		{"huge html", 500, "<p>" + strings.Repeat("x", 1<<20), func(error) bool { return true }, 0, []string{"…"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t, WithMaxRetries(0))
			mt.RegisterNoResponder(withHeader(httpmock.NewStringResponder(tc.status, tc.body), "Twilio-Request-Id", "RQ0123456789abcdef0123456789abcdef"))
			_, err := c.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/x"}, nil)
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if apiErr.Status != tc.status || apiErr.Code != tc.wantCode || apiErr.RequestID != "RQ0123456789abcdef0123456789abcdef" || apiErr.Method != "DELETE" || apiErr.Path != "/v2/x" {
				t.Errorf("Error = %+v", apiErr)
			}
			if !tc.check(err) {
				t.Errorf("helper does not classify %v", err)
			}
			for _, s := range tc.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err.Error(), s)
				}
			}
			if len(apiErr.Body) > 300 {
				t.Errorf("body excerpt is %d bytes", len(apiErr.Body))
			}
		})
	}
	t.Run("details", func(t *testing.T) {
		var e Error
		if e.fill([]byte(notFoundBody)); e.Details["hint"] != "x" || e.MoreInfo == "" || e.Body != "" {
			t.Errorf("fill: %+v", e)
		}
	})
}

func TestResponseSizeIsBounded(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t, WithMaxResponseBytes(4096))
	mt.RegisterNoResponder(httpmock.NewBytesResponder(200, bytes.Repeat([]byte("x"), 100000)))
	var body bytes.Buffer
	_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, &body)
	if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "WithMaxResponseBytes") {
		t.Fatalf("err = %v, want ErrResponseTooLarge with advice", err)
	}
	if n := mt.GetTotalCallCount(); n != 1 {
		t.Errorf("a too-large body was retried: %d attempts", n)
	}
	if body.Len() != 0 {
		t.Errorf("buffer keeps %d bytes of a failed response", body.Len())
	}
}

func TestLogsHaveNoSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	c, mt := newMockClient(t, WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	mt.RegisterNoResponder(sequence(t, httpmock.NewStringResponder(503, ""), httpmock.ConnectionFailure, httpmock.NewStringResponder(200, "{}")))
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"twilio request", "twilio retry", "status=503", "status=200", "path=/v2/x", "attempt=3"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{testToken, base64.StdEncoding.EncodeToString([]byte(testAccount + ":" + testToken))} {
		if strings.Contains(out, secret) {
			t.Fatal("logs reveal a secret")
		}
	}
}

func TestSilentByDefault(t *testing.T) {
	t.Parallel()
	c, _ := newMockClient(t)
	if c.log != nil || c.rc.Logger != nil {
		t.Fatal("a client without WithLogger has a logger")
	}
}

func TestMayHaveApplied(t *testing.T) {
	t.Parallel()
	reset := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	refused := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	status := func(code int) httpmock.Responder { return httpmock.NewStringResponder(code, "") }
	cases := []struct {
		name       string
		responders []httpmock.Responder
		cancelled  bool
		want       bool
	}{
		{"a 503 at the end", []httpmock.Responder{status(503)}, false, true},
		{"a 500 before a 429", []httpmock.Responder{status(500), status(429)}, false, true},
		{"429s only", []httpmock.Responder{status(429), status(429)}, false, false},
		{"a 404", []httpmock.Responder{status(404)}, false, false},
		{"a reset connection", []httpmock.Responder{reset}, false, true},
		{"a refused connection", []httpmock.Responder{refused, refused}, false, false},
		// httpmock does not refuse a request whose context has ended, as a
		// real transport does; this responder does.
		{"cancelled before sending", []httpmock.Responder{func(r *http.Request) (*http.Response, error) { return nil, r.Context().Err() }}, true, false},
	}
	for _, tc := range cases {
		c, mt := newMockClient(t, WithMaxRetries(max(len(tc.responders)-1, 0)))
		mt.RegisterNoResponder(sequence(t, tc.responders...))
		ctx, cancel := context.WithCancel(context.Background())
		if tc.cancelled {
			cancel()
		}
		_, err := c.Do(ctx, Request{Method: "DELETE", Path: "/v2/x"}, nil)
		cancel()
		if err == nil || MayHaveApplied(err) != tc.want {
			t.Errorf("%s: err = %v, MayHaveApplied %v, want %v", tc.name, err, MayHaveApplied(err), tc.want)
		}
	}
	if MayHaveApplied(nil) || MayHaveApplied(errors.New("x")) || MayHaveApplied(&ValidationError{}) {
		t.Error("MayHaveApplied of a non-request error")
	}
}
