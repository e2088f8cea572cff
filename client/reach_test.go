package client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttemptsThatNeverConnectedAreNotUncertain: over real net/http
// transports, an attempt whose per-attempt timeout ends while it dials, or
// while it waits for a pooled connection, sent nothing; the 404 a retry
// then gets is the server's first and only answer. One that timed out
// after its request went is uncertain.
func TestAttemptsThatNeverConnectedAreNotUncertain(t *testing.T) {
	t.Parallel()
	var deletes atomic.Int64
	release, held := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/hold": // keeps the only connection busy
			close(held)
			<-release
		case "/v2/stall": // reads the request, then never answers in time
			deletes.Add(1)
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		default:
			deletes.Add(1)
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":20404,"message":"not found","status":404}`))
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })

	newClient := func(tr *http.Transport) *Client {
		c, err := New(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL),
			WithHTTPClient(&http.Client{Transport: tr}), WithTimeout(100*time.Millisecond),
			WithRetryWait(time.Millisecond, 2*time.Millisecond), WithMaxRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	check := func(name string, err error, wantUncertain bool) {
		t.Helper()
		var apiErr *Error
		switch {
		case wantUncertain && !MayHaveApplied(err):
			t.Errorf("%s: err = %v, MayHaveApplied false, want true", name, err)
		case !wantUncertain && (!errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.PriorAttemptUncertain || MayHaveApplied(err)):
			t.Errorf("%s: err = %v; want a 404 with no uncertain attempt before it", name, err)
		}
	}

	t.Run("a dial that never finishes", func(t *testing.T) {
		t.Parallel()
		var dials atomic.Int64
		var d net.Dialer
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 1 {
				<-ctx.Done() // the first dial hangs until the attempt's timeout
				return nil, ctx.Err()
			}
			return d.DialContext(ctx, network, addr)
		}}
		t.Cleanup(tr.CloseIdleConnections)
		_, err := newClient(tr).Do(context.Background(), Request{Method: "DELETE", Path: "/v2/gone"}, nil)
		check("dial timeout, then 404", err, false)
	})
	t.Run("a wait for a pooled connection", func(t *testing.T) {
		t.Parallel()
		tr := &http.Transport{MaxConnsPerHost: 1}
		t.Cleanup(tr.CloseIdleConnections)
		holder, err := New(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: tr}), WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = holder.Do(context.Background(), Request{Method: "GET", Path: "/v2/hold"}, nil) }()
		<-held // the hold has the only connection
		c := newClient(tr)
		_, err = c.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/gone"}, nil)
		// Both attempts waited for the connection the hold keeps: neither
		// was sent, so nothing can have been applied.
		var reqErr *RequestError
		if !errors.As(err, &reqErr) || MayHaveApplied(err) {
			t.Errorf("two waits for a pooled connection: err = %v, MayHaveApplied %v; want a RequestError that was never applied", err, MayHaveApplied(err))
		}
	})
	t.Run("a timeout after the request went", func(t *testing.T) {
		t.Parallel()
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		_, err := newClient(tr).Do(context.Background(), Request{Method: "DELETE", Path: "/v2/stall"}, nil)
		check("stalled after sending", err, true)
	})
}
