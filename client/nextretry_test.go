package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// failOnce makes one real call, sent Once as a conditional removal sends its
// DELETE, and returns its error.
func failOnce(t *testing.T, ctx context.Context, c *Client) error {
	t.Helper()
	_, err := c.Do(ctx, Request{Method: http.MethodDelete, Path: "/v2/Services/IS1/Users/US1/Bindings/BS1", Once: true}, nil)
	if err == nil {
		t.Fatal("the call did not fail")
	}
	return err
}

// TestNextRetryTellsTheAttemptsTimeoutFromTheCallers: WithTimeout ending an
// attempt while the caller's context is alive is a connection that failed,
// worth another try; the caller's own deadline or cancellation never is.
// (net/http's Client.Timeout error matches context.DeadlineExceeded, so the
// caller's deadline and the attempt's look alike without the caller's
// context to ask.)
func TestNextRetryTellsTheAttemptsTimeoutFromTheCallers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := New(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL), WithTimeout(50*time.Millisecond), WithRetryWait(time.Millisecond, 2*time.Millisecond), WithMaxRetries(2))
	if err != nil {
		t.Fatal(err)
	}
	long, cancelLong := context.WithTimeout(context.Background(), time.Minute)
	defer cancelLong()
	attempt := failOnce(t, long, c)
	if !errors.Is(attempt, context.DeadlineExceeded) {
		t.Fatalf("the attempt's timeout: %v, want it to match context.DeadlineExceeded as net/http's does", attempt)
	}
	if _, ok := c.NextRetry(attempt, 0); !ok {
		t.Errorf("NextRetry(%v) = no retry for an attempt's own timeout under a live context", attempt)
	}
	if _, ok := c.NextRetry(attempt, 2); ok {
		t.Error("NextRetry retries past WithMaxRetries")
	}

	c2, err := New(WithCredentials(testAccount, testToken), WithBaseURL(srv.URL), WithTimeout(time.Minute), WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if err := failOnce(t, short, c2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the caller's deadline: %v", err)
	} else if _, ok := c2.NextRetry(err, 0); ok {
		t.Errorf("NextRetry(%v) retries after the caller's deadline", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := failOnce(t, cancelled, c2); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled call: %v", err)
	} else if _, ok := c2.NextRetry(err, 0); ok {
		t.Errorf("NextRetry(%v) retries a cancelled call", err)
	}
	// A deadline error that did not come from one of the client's calls is
	// the caller's: nothing says the caller's context is alive.
	if _, ok := c2.NextRetry(context.DeadlineExceeded, 0); ok {
		t.Error("NextRetry retries a bare context.DeadlineExceeded")
	}
}

func TestNextRetryByAnswer(t *testing.T) {
	t.Parallel()
	c, _ := newMockClient(t, WithRetryWait(10*time.Millisecond, 20*time.Millisecond), WithRetryAfterLimit(time.Minute), WithMaxRetries(2))
	cases := []struct {
		name     string
		err      error
		retries  int
		lo, hi   time.Duration
		retrying bool
	}{
		{"429 with Retry-After", &Error{Status: 429, RetryAfter: 5 * time.Second}, 0, 5 * time.Second, 5 * time.Second, true},
		{"429 beyond the Retry-After limit", &Error{Status: 429, RetryAfter: 2 * time.Minute}, 0, 0, 0, false},
		{"503 backs off", &Error{Status: 503}, 1, 10 * time.Millisecond, 20 * time.Millisecond, true},
		{"400 is final", &Error{Status: 400}, 0, 0, 0, false},
		{"404 is final", &Error{Status: 404}, 0, 0, 0, false},
		{"retries spent", &Error{Status: 503}, 2, 0, 0, false},
		{"body over the limit", &RequestError{Err: &limitError{limit: 1}}, 0, 0, 0, false},
		{"not the client's error", errors.New("x"), 0, 0, 0, false},
	}
	for _, tc := range cases {
		d, ok := c.NextRetry(tc.err, tc.retries)
		if ok != tc.retrying || d < tc.lo || d > tc.hi {
			t.Errorf("%s: %v, %v; want %v in [%v, %v]", tc.name, d, ok, tc.retrying, tc.lo, tc.hi)
		}
	}
	if _, ok := (*Client)(nil).NextRetry(&Error{Status: 503}, 0); ok {
		t.Error("a nil Client retries")
	}
}
