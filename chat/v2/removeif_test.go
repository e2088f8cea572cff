package chat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

// script answers the requests of one binding in order, recording them.
type script struct {
	mu    sync.Mutex
	steps []httpmock.Responder
	seen  []string
}

func (s *script) respond(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, r.Method)
	if len(s.steps) == 0 {
		return httpmock.NewStringResponse(599, "unexpected request"), nil
	}
	next := s.steps[0]
	s.steps = s.steps[1:]
	return next(r)
}

func (s *script) requests() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.seen, " ")
}

// theBinding renders testBinding of testUser updated at updated.
func theBinding(updated string) httpmock.Responder {
	body := strings.ReplaceAll(bindingJSON(1, "apn"), fmt.Sprintf("BS%032x", 1), testBinding)
	body = strings.Replace(body, `"date_updated":"2016-10-21T11:37:03Z"`, `"date_updated":"`+updated+`"`, 1)
	return httpmock.NewStringResponder(200, body).HeaderSet(http.Header{"Twilio-Request-Id": {"RQread"}})
}

func status(code int, headers ...string) httpmock.Responder {
	h := http.Header{"Twilio-Request-Id": {fmt.Sprintf("RQ%d", code)}}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	body := ""
	if code >= 400 {
		body = fmt.Sprintf(`{"code":%d,"message":"status %d","status":%d}`, 20000+code, code, code)
	}
	return httpmock.NewStringResponder(code, body).HeaderSet(h)
}

func TestRemoveIf(t *testing.T) {
	t.Parallel()
	const stale, fresh = "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z"
	cutoff := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	isStale := func(b *UserBinding) bool { return b.DateUpdated.Before(cutoff) }
	reset := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	refused := func(*http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	cases := []struct {
		name     string
		steps    []httpmock.Responder
		want     RemoveResult
		wantErr  func(error) bool
		requests string
		id       string // the request ID ResponseInto keeps
	}{
		{"stale: removed", []httpmock.Responder{theBinding(stale), status(204)}, Removed, nil, "GET DELETE", "RQ204"},
		{"fresh: kept", []httpmock.Responder{theBinding(fresh)}, Kept, nil, "GET", "RQread"},
		{"not there: already gone", []httpmock.Responder{status(404)}, AlreadyGone, nil, "GET", "RQ404"},
		{"removed by someone else between the read and the DELETE", []httpmock.Responder{theBinding(stale), status(404)}, AlreadyGone, nil, "GET DELETE", "RQ404"},
		// The high defect: a binding refreshed while its DELETE waits out a
		// 429 keeps its binding, because the DELETE is never sent again
		// blind.
		{"refreshed while the DELETE waited out a 429", []httpmock.Responder{theBinding(stale), status(429, "Retry-After", "0"), theBinding(fresh)}, Kept, nil, "GET DELETE GET", "RQread"},
		{"refreshed after a 503", []httpmock.Responder{theBinding(stale), status(503), theBinding(fresh)}, Kept, nil, "GET DELETE GET", "RQread"},
		{"429 then still stale: removed", []httpmock.Responder{theBinding(stale), status(429), theBinding(stale), status(204)}, Removed, nil, "GET DELETE GET DELETE", "RQ204"},
		{"503 may have removed it: the 404 after is ours", []httpmock.Responder{theBinding(stale), status(503), status(404)}, Removed, nil, "GET DELETE GET", "RQ404"},
		{"a reset after sending may have removed it", []httpmock.Responder{theBinding(stale), reset, status(404)}, Removed, nil, "GET DELETE GET", "RQ404"},
		{"a 429 is never acted on: the 404 after is someone else's", []httpmock.Responder{theBinding(stale), status(429), status(404)}, AlreadyGone, nil, "GET DELETE GET", "RQ404"},
		{"a refused connection sent nothing", []httpmock.Responder{theBinding(stale), refused, status(404)}, AlreadyGone, nil, "GET DELETE GET", "RQ404"},
		{"after a 503, the DELETE's own 404", []httpmock.Responder{theBinding(stale), status(503), theBinding(stale), status(404)}, Removed, nil, "GET DELETE GET DELETE", "RQ404"},
		{"Retry-After beyond the limit: the error, at once", []httpmock.Responder{theBinding(stale), status(429, "Retry-After", "3600")}, 0,
			func(err error) bool { return client.IsRateLimited(err) && !client.MayHaveApplied(err) }, "GET DELETE", ""},
		{"retries run out: the last error", []httpmock.Responder{theBinding(stale), status(503), theBinding(stale), status(503), theBinding(stale), status(503)}, 0,
			func(err error) bool {
				var e *client.Error
				return errors.As(err, &e) && e.Status == 503 && client.MayHaveApplied(err)
			}, "GET DELETE GET DELETE GET DELETE", ""},
		{"429s spend none of a 5xx's retries", []httpmock.Responder{theBinding(stale), status(429), theBinding(stale), status(429), theBinding(stale), status(503), theBinding(stale), status(503), theBinding(stale), status(204)},
			Removed, nil, "GET DELETE GET DELETE GET DELETE GET DELETE GET DELETE", "RQ204"},
		{"429s run out apart: the 429", []httpmock.Responder{theBinding(stale), status(503), theBinding(stale), status(429), theBinding(stale), status(429), theBinding(stale), status(429)}, 0,
			func(err error) bool { return client.IsRateLimited(err) && client.MayHaveApplied(err) }, "GET DELETE GET DELETE GET DELETE GET DELETE", ""},
		{"a read answered 429 for good after a 503: the DELETE may have applied", []httpmock.Responder{theBinding(stale), status(503), status(429), status(429), status(429)}, 0,
			func(err error) bool { return client.IsRateLimited(err) && client.MayHaveApplied(err) }, "GET DELETE GET GET GET", ""},
		{"a read that fails for good", []httpmock.Responder{status(401)}, 0, client.IsUnauthorized, "GET", ""},
		{"a DELETE refused for good", []httpmock.Responder{theBinding(stale), status(403)}, 0, client.IsUnauthorized, "GET DELETE", ""},
		{"a 200 carrying an error document", []httpmock.Responder{theBinding(stale), httpmock.NewStringResponder(200, notFound)}, AlreadyGone, nil, "GET DELETE", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			api, mt := newTestAPI(t, client.WithMaxRetries(2))
			s := &script{steps: tc.steps}
			mt.RegisterNoResponder(s.respond)
			var resp client.Response
			got, err := api.Services(testService).Users(testUser).UserBindings(testBinding).RemoveIf(context.Background(), isStale, ResponseInto(&resp))
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("RemoveIf: %v", err)
			case tc.wantErr != nil && (err == nil || !tc.wantErr(err)):
				t.Fatalf("RemoveIf = %v, %v; not the error wanted", got, err)
			}
			if got != tc.want {
				t.Errorf("result %v, want %v", got, tc.want)
			}
			if s.requests() != tc.requests {
				t.Errorf("requests %q, want %q", s.requests(), tc.requests)
			}
			if tc.id != "" && resp.RequestID != tc.id {
				t.Errorf("ResponseInto kept request %q, want %q", resp.RequestID, tc.id)
			}
		})
	}
}

func TestRemoveIfRefusesBadInput(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	h := api.Services(testService).Users(testUser)
	if _, err := h.UserBindings(testBinding).RemoveIf(context.Background(), nil); !errors.Is(err, client.ErrInvalidParameter) {
		t.Errorf("nil condition: %v", err)
	}
	if _, err := h.UserBindings("BS1").RemoveIf(context.Background(), func(*UserBinding) bool { return true }); !errors.Is(err, client.ErrInvalidParameter) {
		t.Errorf("bad SID: %v", err)
	}
	if _, err := api.Services("IS1").Bindings(testBinding).RemoveIf(context.Background(), func(*Binding) bool { return true }); !errors.Is(err, client.ErrInvalidParameter) {
		t.Errorf("bad service: %v", err)
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

// TestRemoveIfTakesItsTurnFirst: under a limit on every request at one a
// minute, the read and the DELETE both go within the first second: the
// turn is taken before the read, and the DELETE spends it.
func TestRemoveIfTakesItsTurnFirst(t *testing.T) {
	t.Parallel()
	for _, rl := range []client.RateLimit{{PerSecond: 1.0 / 60}, {PerSecond: 1.0 / 60, WritesOnly: true}} {
		api, mt := newTestAPI(t, client.WithRateLimit(rl))
		s := &script{steps: []httpmock.Responder{theBinding("2020-01-01T00:00:00Z"), status(204)}}
		mt.RegisterNoResponder(s.respond)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got, err := api.Services(testService).Users(testUser).UserBindings(testBinding).RemoveIf(ctx, func(*UserBinding) bool { return true })
		cancel()
		if err != nil || got != Removed || s.requests() != "GET DELETE" {
			t.Errorf("%+v: %v, %v after %q", rl, got, err, s.requests())
		}
	}
}

// TestRemoveIfRetriesAnAttemptsTimeout: a DELETE that WithTimeout cut off
// while the caller's context is alive is a DELETE cut off like any other:
// the binding is read again (here: gone, as the stalled DELETE applied) and
// the call reports Removed, not the timeout.
func TestRemoveIfRetriesAnAttemptsTimeout(t *testing.T) {
	t.Parallel()
	var deletes, gets atomic.Int32
	body := strings.ReplaceAll(bindingJSON(1, "apn"), "BS00000000000000000000000000000001", testBinding)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			deletes.Add(1)
			time.Sleep(300 * time.Millisecond) // past the attempt's 100 ms, then served
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if gets.Add(1) > 1 {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":20404,"message":"not found","status":404}`))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := client.New(client.WithCredentials(testAccount, "tok"), client.WithBaseURL(srv.URL),
		client.WithTimeout(100*time.Millisecond), client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h := New(c).Services(testService).Users(testUser).UserBindings(testBinding)
	res, err := h.RemoveIf(context.Background(), func(*UserBinding) bool { return true })
	if err != nil || res != Removed {
		t.Fatalf("RemoveIf = %v, %v; want Removed after the re-read found the binding gone", res, err)
	}
	if gets.Load() != 2 || deletes.Load() != 1 {
		t.Fatalf("%d GETs and %d DELETEs, want 2 and 1 (read, DELETE cut off, read again)", gets.Load(), deletes.Load())
	}
}
