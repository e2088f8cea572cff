package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestStatsAndAttemptsCountOnlyRequestsTried: Stats().Attempts and Retries,
// and the Attempts of a Response, *Error or *RequestError, are requests
// tried. A call whose context is done before it starts, or ends while
// it waits for the rate limit, sends nothing and counts nothing.
func TestStatsAndAttemptsCountOnlyRequestsTried(t *testing.T) {
	t.Parallel()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name     string
		statuses []int // the server's answers, in turn; 200 once they run out
		opts     []Option
		// calls returns the context of each call, in order.
		calls        func(t *testing.T) []context.Context
		wantHits     int64
		wantStats    Stats // Waited is not compared
		wantAttempts int   // of the last call's Response or error
	}{
		{
			name:  "three calls on a done context",
			calls: func(*testing.T) []context.Context { return []context.Context{done, done, done} },
		},
		{
			name:         "one call answered at once",
			calls:        func(*testing.T) []context.Context { return []context.Context{context.Background()} },
			wantHits:     1,
			wantStats:    Stats{Attempts: 1},
			wantAttempts: 1,
		},
		{
			name:         "a call retried twice",
			statuses:     []int{503, 500},
			calls:        func(*testing.T) []context.Context { return []context.Context{context.Background()} },
			wantHits:     3,
			wantStats:    Stats{Attempts: 3, Retries: 2, ServerErrors: 2},
			wantAttempts: 3,
		},
		{
			name: "a call whose context ends while it waits for the rate limit",
			// One slot now, the next in 1000 s: the second call waits
			// until its context ends, and is never sent.
			opts: []Option{WithRateLimit(RateLimit{PerSecond: 0.001})},
			calls: func(t *testing.T) []context.Context {
				return []context.Context{context.Background(), deadline(t, context.Background(), 20*time.Millisecond)}
			},
			wantHits:  1,
			wantStats: Stats{Attempts: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if n := int(hits.Add(1)); n <= len(tc.statuses) {
					w.WriteHeader(tc.statuses[n-1])
				}
			}))
			t.Cleanup(srv.Close)
			opts := append([]Option{WithCredentials(testAccount, testToken), WithBaseURL(srv.URL),
				WithRetryWait(time.Millisecond, 2*time.Millisecond)}, tc.opts...)
			c, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			attempts := -1
			for _, ctx := range tc.calls(t) {
				resp, err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v2/x"}, nil)
				var apiErr *Error
				var reqErr *RequestError
				switch {
				case errors.As(err, &apiErr):
					attempts = apiErr.Attempts
				case errors.As(err, &reqErr):
					attempts = reqErr.Attempts
				case err == nil:
					attempts = resp.Attempts
				default:
					t.Fatalf("Do: %v", err)
				}
			}
			got := c.Stats()
			got.Waited = 0
			if got != tc.wantStats || hits.Load() != tc.wantHits {
				t.Errorf("Stats() = %+v with %d requests at the server; want %+v and %d", got, hits.Load(), tc.wantStats, tc.wantHits)
			}
			if attempts != tc.wantAttempts {
				t.Errorf("the last call reports %d attempts, want %d", attempts, tc.wantAttempts)
			}
		})
	}
}
