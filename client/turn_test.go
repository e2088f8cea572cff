package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

// deadline is a context that ends after d.
func deadline(t *testing.T, parent context.Context, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(parent, d)
	t.Cleanup(cancel)
	return ctx
}

// TestTurnIsSpentByTheWrite: under a limit on every request, the read a
// turn was taken for goes at once and leaves the turn to the write; it is
// still counted, so the request after it waits. A second read does not ride
// on the turn: reads under one turn are not unpaced.
func TestTurnIsSpentByTheWrite(t *testing.T) {
	t.Parallel()
	// A slot now, then one per 100 s.
	c, l := liveClient(t, RateLimit{PerSecond: 0.01}, httpmock.NewStringResponder(200, `{}`))
	ctx, err := c.Turn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(deadline(t, ctx, 2*time.Second), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
		t.Fatalf("the read with the turn: %v", err)
	}
	if _, err := c.Do(deadline(t, ctx, 200*time.Millisecond), Request{Method: "GET", Path: "/v2/x"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second read with the turn went at once: %v", err)
	}
	if _, err := c.Do(deadline(t, ctx, 2*time.Second), Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatalf("the DELETE did not get the turn the read went ahead of: %v", err)
	}
	// The read was counted, and the turn is spent: a read with it now
	// waits like any other.
	if _, err := c.Do(deadline(t, ctx, 200*time.Millisecond), Request{Method: "GET", Path: "/v2/x"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a read after the turn was spent: %v", err)
	}
	if l.count() != 2 {
		t.Fatalf("%d requests, want 2", l.count())
	}
}

// TestAReadNeverSentIsNotCharged: a read on a done context, under a turn,
// sends nothing and moves the limit for nobody.
func TestAReadNeverSentIsNotCharged(t *testing.T) {
	t.Parallel()
	c, l := liveClient(t, RateLimit{PerSecond: 0.01}, httpmock.NewStringResponder(200, `{}`))
	turnCtx, err := c.Turn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.limit.bucket.mu.Lock()
	before := c.limit.bucket.tat
	c.limit.bucket.mu.Unlock()
	done, cancel := context.WithCancel(turnCtx)
	cancel()
	if _, err := c.Do(done, Request{Method: "GET", Path: "/v2/x"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read on a cancelled context: %v", err)
	}
	c.limit.bucket.mu.Lock()
	after := c.limit.bucket.tat
	c.limit.bucket.mu.Unlock()
	if l.count() != 0 || after.After(before) {
		t.Fatalf("%d requests sent; the limit moved %v", l.count(), after.Sub(before))
	}
	// And the turn's read is still to come.
	if _, err := c.Do(deadline(t, turnCtx, 2*time.Second), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
		t.Fatalf("the turn's read after one never sent: %v", err)
	}
}

// TestTurnOnADoneContext: a done context gets its error whether or not a
// slot is free, and the slot stays for the next caller.
func TestTurnOnADoneContext(t *testing.T) {
	t.Parallel()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []*Client{nil, {}} {
		if _, err := c.Turn(done); !errors.Is(err, context.Canceled) {
			t.Errorf("Turn on %v with a cancelled context: %v", c, err)
		}
	}
	free, _ := newMockClient(t)
	if _, err := free.Turn(done); !errors.Is(err, context.Canceled) {
		t.Errorf("Turn without a limit, cancelled: %v", err)
	}
	limited, _ := newMockClient(t, WithRateLimit(RateLimit{PerSecond: 0.01}))
	if _, err := limited.Turn(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Turn with a free slot, cancelled: %v", err)
	}
	if _, err := limited.Turn(deadline(t, context.Background(), 2*time.Second)); err != nil {
		t.Fatalf("the cancelled Turn spent the only slot: %v", err)
	}
}

// TestTurnCountsOnlyOnItsClient: a turn of one client does not let a
// write through another client's limit.
func TestTurnCountsOnlyOnItsClient(t *testing.T) {
	t.Parallel()
	rl := RateLimit{PerSecond: 0.01, WritesOnly: true}
	a, _ := liveClient(t, rl, httpmock.NewStringResponder(204, ""))
	b, lb := liveClient(t, rl, httpmock.NewStringResponder(204, ""))
	if _, err := b.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err) // b's only slot
	}
	turnA, err := a.Turn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Do(deadline(t, turnA, 200*time.Millisecond), Request{Method: "DELETE", Path: "/v2/x"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a DELETE on b with a's turn: %v", err)
	}
	if lb.count() != 1 {
		t.Fatalf("b sent %d DELETEs, want 1", lb.count())
	}
	// a's turn is still unspent: a's own DELETE goes at once.
	if _, err := a.Do(deadline(t, turnA, 2*time.Second), Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatalf("a's own DELETE with a's turn: %v", err)
	}
}

// TestAdaptiveRateStaysInBounds: answers reach the limiter from 64
// goroutines, timestamped before they take its lock and so out of order;
// whatever the interleaving, the rate stays within [floor, cap] and a
// success never lowers it.
func TestAdaptiveRateStaysInBounds(t *testing.T) {
	t.Parallel()
	for _, cap := range []float64{0.01, 0.05, 1, 30, 1000} {
		l := newLimiter(&RateLimit{PerSecond: cap, Adaptive: true})
		floor := cap / 64
		var mu sync.Mutex
		var bad []string
		var wg sync.WaitGroup
		for g := 0; g < 64; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					sent := time.Now()
					status := 200
					if rand.N(4) == 0 {
						status = 429
					}
					now := time.Now().Add(-time.Duration(rand.N(int64(50 * time.Millisecond)))) // heard late
					l.observe(status, sent, now)
					after := l.rate()
					if after < floor-1e-12 || after > cap+1e-12 || math.IsNaN(after) {
						mu.Lock()
						bad = append(bad, "out of bounds")
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("cap %v: the rate left [%v, %v] %d times", cap, floor, cap, len(bad))
		}
	}
	// Deterministically: a success heard after a later one raises nothing
	// and lowers nothing.
	l := newLimiter(&RateLimit{PerSecond: 60, Adaptive: true})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.observe(429, t0.Add(time.Millisecond), t0.Add(2*time.Millisecond)) // 42
	l.observe(200, t0, t0.Add(502*time.Millisecond))                     // +3
	r := l.rate()
	l.observe(200, t0, t0.Add(100*time.Millisecond)) // heard out of order: 400 ms "before" the last
	if got := l.rate(); got < r {
		t.Fatalf("a success heard out of order lowered the rate from %v to %v", r, got)
	}
}

// TestSlowCapIsNeverExceeded: a cap below the absolute floor of 0.05/s is
// not raised to it by a 429.
func TestSlowCapIsNeverExceeded(t *testing.T) {
	t.Parallel()
	for _, cap := range []float64{minPerSecond, 0.01, 0.049} {
		l := newLimiter(&RateLimit{PerSecond: cap, Adaptive: true})
		t0 := time.Now()
		for i := 0; i < 10; i++ {
			l.observe(429, t0.Add(time.Duration(2*i+1)*time.Second), t0.Add(time.Duration(2*i+2)*time.Second))
			if got := l.rate(); got > cap || got < cap/64 {
				t.Fatalf("cap %v: after %d 429s the rate is %v", cap, i+1, got)
			}
		}
	}
	l := newLimiter(&RateLimit{PerSecond: 1, Adaptive: true})
	for i := 0; i < 100; i++ {
		l.observe(429, time.Unix(int64(2*i+1), 0), time.Unix(int64(2*i+2), 0))
	}
	if got := l.rate(); got != minRate {
		t.Fatalf("cap 1: the floor is %v, want %v (above 1/64)", got, minRate)
	}
}

// TestZeroClient: a nil or zero Client never panics, and its calls say to
// use New.
func TestZeroClient(t *testing.T) {
	t.Parallel()
	for _, c := range []*Client{nil, {}} {
		if s := c.String(); !strings.Contains(s, "client.New") {
			t.Errorf("String() = %q", s)
		}
		if s := fmt.Sprintf("%v %+v %#v %s", c, c, c, c); strings.Contains(s, "panic") {
			t.Errorf("formatting: %s", s)
		}
		if c.AccountSID() != "" || c.BaseURL() != nil || c.UserAgent() != "" || c.CurrentRate() != 0 {
			t.Errorf("accessors of %v", c)
		}
		_, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "client.New") {
			t.Errorf("Do: %v", err)
		}
	}
	_, err := (&Client{}).Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil)
	if !strings.Contains(err.Error(), "zero Client") {
		t.Errorf("a zero Client's error does not say so: %v", err)
	}
}

// BenchmarkCutRetimesQueuedWaiters queues 20 writes on an adaptive limit of
// 100/s, cuts it once (a 429) as they queue, and reports how long they take
// against the bound of a fixed limiter at the cut rate of 70/s started after
// the cut's pause (cutPause + 20/70 s): about 1×, where re-queueing every
// waiter after its old slot once took 2×.
//
//	go test ./client -run '^$' -bench CutRetimes -benchtime 5x
func BenchmarkCutRetimesQueuedWaiters(b *testing.B) {
	var ratio float64
	for i := 0; i < b.N; i++ {
		l := newLimiter(&RateLimit{PerSecond: 100, Adaptive: true})
		start := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < 20; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = l.wait(context.Background())
			}()
		}
		time.Sleep(5 * time.Millisecond) // let them queue
		l.observe(http.StatusTooManyRequests, time.Now(), time.Now())
		wg.Wait()
		ratio += time.Since(start).Seconds() / (cutPause.Seconds() + 20.0/70)
	}
	b.ReportMetric(ratio/float64(b.N), "x-bound")
}

// TestTurnReusesAnUnspentTurn: Turn on a context whose turn is not spent
// yet returns it without taking another slot; once the write has spent it,
// Turn waits for a new one.
func TestTurnReusesAnUnspentTurn(t *testing.T) {
	t.Parallel()
	c, l := liveClient(t, RateLimit{PerSecond: 0.01, WritesOnly: true}, httpmock.NewStringResponder(204, ""))
	first, err := c.Turn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Turn(deadline(t, first, 2*time.Second))
	if err != nil {
		t.Fatalf("Turn on an unspent turn waited: %v", err)
	}
	if _, err := c.Do(again, Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Turn(deadline(t, first, 200*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Turn on a spent turn: %v, want a wait past the deadline", err)
	}
	if l.count() != 1 {
		t.Fatalf("%d DELETEs", l.count())
	}
}

func TestRateLimitedWait(t *testing.T) {
	t.Parallel()
	c, _ := newMockClient(t, WithRetryWait(10*time.Millisecond, time.Second), WithRetryAfterLimit(time.Minute), WithMaxRetries(0))
	tooMany := func(ra time.Duration) error { return &Error{Status: 429, RetryAfter: ra} }
	cases := []struct {
		err      error
		tries    int
		lo, hi   time.Duration
		retrying bool
	}{
		{tooMany(0), 0, 10 * time.Millisecond, 20 * time.Millisecond, true}, // no Retry-After, or 0: a backoff, not at once
		{tooMany(0), 20, 15 * time.Second, 30 * time.Second, true},          // growing to 30 s, past the client's max wait
		{tooMany(5 * time.Second), 0, 5 * time.Second, 5 * time.Second, true},
		{tooMany(2 * time.Minute), 0, 0, 0, false}, // beyond the limit
		{&Error{Status: 503}, 0, 0, 0, false},
		{errors.New("x"), 0, 0, 0, false},
	}
	for i, tc := range cases {
		d, ok := c.RateLimitedWait(tc.err, tc.tries)
		if ok != tc.retrying || d < tc.lo || d > tc.hi {
			t.Errorf("case %d: %v, %v; want %v in [%v, %v]", i, d, ok, tc.retrying, tc.lo, tc.hi)
		}
	}
	if _, ok := (*Client)(nil).RateLimitedWait(tooMany(0), 0); ok {
		t.Error("a nil Client retries")
	}
}
