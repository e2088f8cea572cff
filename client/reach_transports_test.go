package client

// A hostile review of the fixes of issue 15 tried to make an attempt that
// reached the server count as certain; these held.

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// wrapRT is a user's RoundTripper around another one (logging, metrics).
type wrapRT struct{ rt http.RoundTripper }

func (w wrapRT) RoundTrip(r *http.Request) (*http.Response, error) { return w.rt.RoundTrip(r) }

// A DELETE that the server received, then a per-attempt timeout before the
// answer, then a 404 on the retry: the first attempt may have applied, over
// every transport.
func TestAnAttemptThatReachedTheServerIsUncertainOverEveryTransport(t *testing.T) {
	t.Parallel()
	handler := func(n *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				select { // received; answer too late
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return
			}
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":20404,"message":"not found","status":404}`))
		}
	}
	type setup func(t *testing.T, n *atomic.Int64) (base string, hc *http.Client)
	plain := func(t *testing.T, n *atomic.Int64) (string, *http.Client) {
		s := httptest.NewServer(handler(n))
		t.Cleanup(s.Close)
		return s.URL, &http.Client{}
	}
	cases := map[string]setup{
		"HTTP/1.1": plain,
		"HTTP/2 over TLS": func(t *testing.T, n *atomic.Int64) (string, *http.Client) {
			s := httptest.NewUnstartedServer(handler(n))
			s.EnableHTTP2 = true
			s.StartTLS()
			t.Cleanup(s.Close)
			return s.URL, s.Client()
		},
		"a wrapping RoundTripper": func(t *testing.T, n *atomic.Int64) (string, *http.Client) {
			s := httptest.NewServer(handler(n))
			t.Cleanup(s.Close)
			return s.URL, &http.Client{Transport: wrapRT{&http.Transport{}}}
		},
		"through a forward proxy": func(t *testing.T, n *atomic.Int64) (string, *http.Client) {
			s := httptest.NewServer(handler(n))
			t.Cleanup(s.Close)
			target, _ := url.Parse(s.URL)
			px := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
			t.Cleanup(px.Close)
			pu, _ := url.Parse(px.URL)
			return "http://api.invalid", &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int64
			base, hc := mk(t, &n)
			if tr, ok := hc.Transport.(*http.Transport); ok && tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{}
			}
			opts := []Option{WithCredentials(testAccount, testToken), WithBaseURL(base), WithHTTPClient(hc),
				WithTimeout(300 * time.Millisecond), WithRetryWait(time.Millisecond, 2*time.Millisecond), WithMaxRetries(1)}
			if u, _ := url.Parse(base); u.Scheme == "http" {
				opts = append(opts, WithInsecureHTTP())
			}
			c, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/x"}, nil)
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Status != 404 {
				t.Fatalf("err = %v (%d requests), want the retry's 404", err, n.Load())
			}
			if !apiErr.PriorAttemptUncertain || !MayHaveApplied(err) {
				t.Errorf("the first attempt reached the server (%d requests) but the 404 says nothing was uncertain", n.Load())
			}
		})
	}
}
