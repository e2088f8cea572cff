package client

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
)

// recorder is a wrapper that notes each round trip as "METHOD status" (or
// "METHOD error") and whether it carried credentials.
type recorder struct {
	next http.RoundTripper

	mu       sync.Mutex
	seen     []string
	noAuth   int
	closeIdl int // CloseIdleConnections calls that reached it
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	note := req.Method + " error"
	if err == nil {
		note = req.Method + " " + strconv.Itoa(resp.StatusCode)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, note)
	if req.Header.Get("Authorization") == "" {
		r.noAuth++
	}
	return resp, err
}

// CloseIdleConnections forwards, as otelhttp's transport and most other
// wrappers do.
func (r *recorder) CloseIdleConnections() {
	r.mu.Lock()
	r.closeIdl++
	r.mu.Unlock()
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (r *recorder) notes() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.seen, ", ")
}

func recording(rec **recorder) Option {
	return WithTransportWrapper(func(next http.RoundTripper) http.RoundTripper {
		*rec = &recorder{next: next}
		return *rec
	})
}

func TestTransportWrapperSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	var rec *recorder
	c, mt := newMockClient(t, recording(&rec))
	mt.RegisterResponder("GET", testBase+"/v2/x", sequence(t,
		httpmock.NewStringResponder(503, `{"code":20503,"message":"down","status":503}`),
		httpmock.NewStringResponder(503, `{"code":20503,"message":"down","status":503}`),
		httpmock.NewStringResponder(200, `{}`)))
	mt.RegisterResponder("DELETE", testBase+"/v2/x", sequence(t,
		httpmock.NewStringResponder(429, `{"code":20429,"message":"slow down","status":429}`),
		httpmock.NewStringResponder(204, "")))
	mt.RegisterResponder("GET", testBase+"/v2/gone", httpmock.NewStringResponder(404, `{"code":20404,"message":"not found","status":404}`))

	if resp, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil || resp.Attempts != 3 {
		t.Fatalf("GET: %v, %+v", err, resp)
	}
	if _, err := c.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/gone"}, nil); !IsNotFound(err) {
		t.Fatalf("GET gone: %v", err)
	}
	if got, want := rec.notes(), "GET 503, GET 503, GET 200, DELETE 429, DELETE 204, GET 404"; got != want {
		t.Errorf("the wrapper saw %s; want %s", got, want)
	}
	if rec.noAuth != 0 {
		t.Errorf("%d attempts reached the wrapper without their Authorization header", rec.noAuth)
	}
}

func TestTransportWrapperGetsTheTransportInUse(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	cases := []struct {
		name  string
		opts  []Option
		check func(t *testing.T, rt http.RoundTripper)
	}{
		{"the client's own, tuned", nil, func(t *testing.T, rt http.RoundTripper) {
			tr, ok := rt.(*http.Transport)
			if !ok || tr == http.DefaultTransport || tr.MaxIdleConnsPerHost != 64 {
				t.Errorf("got %T, want the client's own *http.Transport with 64 idle connections per host", rt)
			}
		}},
		{"WithHTTPClient's", []Option{WithHTTPClient(&http.Client{Transport: mt})}, func(t *testing.T, rt http.RoundTripper) {
			if rt != mt {
				t.Errorf("got %T, want the Transport given to WithHTTPClient", rt)
			}
		}},
		{"WithHTTPClient without a Transport", []Option{WithHTTPClient(&http.Client{})}, func(t *testing.T, rt http.RoundTripper) {
			if rt != http.DefaultTransport {
				t.Errorf("got %T, want http.DefaultTransport", rt)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []http.RoundTripper
			opts := append([]Option{WithCredentials(testAccount, testToken)}, tc.opts...)
			opts = append(opts, WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
				got = append(got, rt)
				return rt
			}))
			if _, err := New(opts...); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("the wrapper was called %d times, want once", len(got))
			}
			tc.check(t, got[0])
		})
	}
}

func TestTransportWrappersStack(t *testing.T) {
	t.Parallel()
	var order []string
	layer := func(name string) Option {
		return WithTransportWrapper(func(next http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				order = append(order, name)
				return next.RoundTrip(r)
			})
		})
	}
	c, mt := newMockClient(t, layer("inner"), layer("outer"))
	mt.RegisterResponder("GET", testBase+"/v2/x", httpmock.NewStringResponder(200, `{}`))
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "outer inner" {
		t.Errorf("request passed %q; want the later wrapper outside the earlier: \"outer inner\"", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportWrapperErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opt  Option
		want string
	}{
		{"nil wrapper", WithTransportWrapper(nil), "the wrapper is nil"},
		{"wrapper returns nil", WithTransportWrapper(func(http.RoundTripper) http.RoundTripper { return nil }), "returned a nil http.RoundTripper"},
	}
	for _, tc := range cases {
		_, err := New(WithCredentials(testAccount, testToken), tc.opt)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Setting != "WithTransportWrapper" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want a *ConfigError for WithTransportWrapper saying %q", tc.name, err, tc.want)
		}
	}
}

// go-retryablehttp closes the idle connections of the whole http.Client
// when a call fails; keepPool, outside every wrapper, must keep that from
// reaching a wrapper that forwards it to the pool.
func TestTransportWrapperThatForwardsCloseIdleConnectionsKeepsThePool(t *testing.T) {
	t.Parallel()
	var rec *recorder
	c, mt := newMockClient(t, recording(&rec), WithMaxRetries(0))
	mt.RegisterResponder("GET", testBase+"/v2/x", httpmock.NewErrorResponder(errors.New("connection refused")))
	var re *RequestError
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RequestError", err)
	}
	if rec.closeIdl != 0 {
		t.Errorf("a failed call reached the wrapper's CloseIdleConnections %d times: it would empty the pool", rec.closeIdl)
	}
	if got := rec.notes(); got != "GET error" {
		t.Errorf("the wrapper saw %q", got)
	}
}
