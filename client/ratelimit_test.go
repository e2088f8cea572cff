package client

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

func TestRateLimitConfiguration(t *testing.T) {
	t.Parallel()
	for _, rl := range []RateLimit{{}, {PerSecond: -1}, {PerSecond: math.NaN()}, {PerSecond: math.Inf(1)}, {PerSecond: 1, Burst: -1}} {
		_, err := New(WithCredentials(testAccount, testToken), WithRateLimit(rl))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Setting != "WithRateLimit" {
			t.Errorf("%+v: err = %v, want a ConfigError", rl, err)
		}
	}
	c, _ := newMockClient(t)
	if c.CurrentRate() != 0 {
		t.Errorf("CurrentRate without a limit = %v", c.CurrentRate())
	}
	c, _ = newMockClient(t, WithRateLimit(RateLimit{PerSecond: 12.5}))
	if c.CurrentRate() != 12.5 {
		t.Errorf("CurrentRate = %v, want 12.5", c.CurrentRate())
	}
}

// live answers with r, counting the requests that arrive with their
// context still alive: httpmock, unlike a real transport, does not refuse
// a request whose context has ended.
type live struct {
	mu sync.Mutex
	n  int
	r  httpmock.Responder
}

func (l *live) respond(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.n++
	l.mu.Unlock()
	return l.r(req)
}

func (l *live) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

func liveClient(t *testing.T, rl RateLimit, r httpmock.Responder, opts ...Option) (*Client, *live) {
	c, mt := newMockClient(t, append([]Option{WithRateLimit(rl)}, opts...)...)
	l := &live{r: r}
	mt.RegisterNoResponder(l.respond)
	return c, l
}

// burst sends n calls at once, each with its own deadline d, and returns
// how many requests reached the server and how many calls ended with
// DeadlineExceeded. Counts are upper bounds a slow machine only lowers.
func burst(t *testing.T, c *Client, l *live, method string, n int, d time.Duration) (sent int, deadlines int) {
	t.Helper()
	before := l.count()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			_, err := c.Do(ctx, Request{Method: method, Path: "/v2/x"}, nil)
			if errors.Is(err, context.DeadlineExceeded) {
				mu.Lock()
				deadlines++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return l.count() - before, deadlines
}

func TestRateLimitPacesEveryAttempt(t *testing.T) {
	t.Parallel()
	t.Run("a burst of calls", func(t *testing.T) {
		t.Parallel()
		// 2 per second, no burst: in 400 ms at most 1 + 0.8 requests go.
		c, l := liveClient(t, RateLimit{PerSecond: 2}, httpmock.NewStringResponder(200, `{}`))
		sent, deadlines := burst(t, c, l, "GET", 10, 400*time.Millisecond)
		if sent > 2 || sent+deadlines != 10 {
			t.Fatalf("%d requests sent in 400 ms at 2/s, %d calls ended at their deadline", sent, deadlines)
		}
	})
	t.Run("retries wait their turn", func(t *testing.T) {
		t.Parallel()
		// One attempt per 100 s: the first goes, its retry cannot.
		c, l := liveClient(t, RateLimit{PerSecond: 0.01}, httpmock.NewStringResponder(503, ""))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, Request{Method: "GET", Path: "/v2/x"}, nil)
		if !errors.Is(err, context.DeadlineExceeded) || l.count() != 1 {
			t.Fatalf("err = %v after %d requests; want DeadlineExceeded after 1", err, l.count())
		}
		if time.Since(start) > 20*time.Second {
			t.Error("waiting for the rate limit outlived the deadline")
		}
	})
	t.Run("a cancelled wait", func(t *testing.T) {
		t.Parallel()
		c, l := liveClient(t, RateLimit{PerSecond: 0.01}, httpmock.NewStringResponder(200, `{}`))
		if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := c.Do(ctx, Request{Method: "GET", Path: "/v2/x"}, nil)
		if !errors.Is(err, context.Canceled) || l.count() != 1 {
			t.Fatalf("err = %v after %d requests; want Canceled after 1", err, l.count())
		}
	})
	t.Run("writes only", func(t *testing.T) {
		t.Parallel()
		c, l := liveClient(t, RateLimit{PerSecond: 0.01, WritesOnly: true}, httpmock.NewStringResponder(204, ""))
		if sent, deadlines := burst(t, c, l, "GET", 20, 5*time.Second); sent != 20 || deadlines != 0 {
			t.Fatalf("reads were limited: %d sent, %d deadlines", sent, deadlines)
		}
		if sent, deadlines := burst(t, c, l, "DELETE", 5, 300*time.Millisecond); sent != 1 || deadlines != 4 {
			t.Fatalf("writes: %d sent, %d deadlines; want 1 and 4", sent, deadlines)
		}
	})
}

// TestAdaptiveRate follows the AIMD state through a scripted sequence of
// answers on a synthetic clock.
func TestAdaptiveRate(t *testing.T) {
	t.Parallel()
	l := newLimiter(&RateLimit{PerSecond: 60, Adaptive: true})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	steps := []struct {
		status    int
		sent, now int // ms
		want      float64
		why       string
	}{
		{200, 0, 10, 60, "at the cap, a success changes nothing"},
		{429, 5, 20, 42, "a 429 cuts by 0.7"},
		{429, 10, 25, 42, "sent before the cut: no second cut for the same round"},
		{429, 30, 50, 29.4, "sent after the cut: cut again"},
		{200, 40, 1050, 35.4, "a second of successes adds a tenth of the cap"},
		{200, 1100, 1550, 38.4, "half a second adds half as much"},
		{200, 2000, 9000, 44.4, "a long quiet spell counts as one second"},
		{200, 9000, 19000, 50.4, ""},
		{200, 19000, 29000, 56.4, ""},
		{200, 29000, 39000, 60, "never above the cap"},
	}
	for i, s := range steps {
		l.observe(s.status, at(s.sent), at(s.now))
		if got := l.rate(); math.Abs(got-s.want) > 1e-9 {
			t.Fatalf("step %d (%s): rate %v, want %v", i, s.why, got, s.want)
		}
		if got := float64(time.Second) / float64(l.bucket.interval); math.Abs(got-s.want) > 1e-6*s.want {
			t.Fatalf("step %d: the bucket runs at %v, not %v", i, got, s.want)
		}
	}
	// Many 429s in a row end at the floor, not at zero.
	for i := 0; i < 100; i++ {
		l.observe(429, at(40000+2*i+1), at(40000+2*i+2))
	}
	if got := l.rate(); got != 60.0/64 {
		t.Fatalf("after 100 cuts the rate is %v, want the floor %v", got, 60.0/64)
	}
	// A fixed limit does not adapt.
	f := newLimiter(&RateLimit{PerSecond: 25})
	f.observe(429, at(1), at(2))
	if f.rate() != 25 {
		t.Fatalf("a fixed limit moved to %v", f.rate())
	}
}

// TestAdaptiveRateHearsEachAnswerOnce drives real calls through the client:
// 429s lower the shared rate, retries included, and reads do not count
// when only writes are limited.
func TestAdaptiveRateHearsEachAnswerOnce(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t, WithRateLimit(RateLimit{PerSecond: 1000, Adaptive: true, WritesOnly: true}), WithMaxRetries(3))
	tooMany := httpmock.NewStringResponder(429, `{"code":20429,"message":"Too Many Requests","status":429}`)
	mt.RegisterResponder("GET", testBase+"/v2/x", tooMany)
	mt.RegisterResponder("DELETE", testBase+"/v2/x", sequence(t, tooMany, tooMany, httpmock.NewStringResponder(204, "")))
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); !IsRateLimited(err) {
		t.Fatalf("GET: %v", err)
	}
	if c.CurrentRate() != 1000 {
		t.Fatalf("a read's 429s moved a writes-only limit to %v", c.CurrentRate())
	}
	if _, err := c.Do(context.Background(), Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err)
	}
	// Two 429s, each for an attempt sent after the previous cut: 1000 ×
	// 0.7 × 0.7 = 490, which the success then raises by 100 per second
	// elapsed; one cut would have left 700 or more.
	if got := c.CurrentRate(); got < 490 || got >= 700 {
		t.Fatalf("rate after two 429s and a success: %v, want two cuts (490, plus a little)", got)
	}
}

func TestTurn(t *testing.T) {
	t.Parallel()
	// One write per 100 s: the turn taken is the one the DELETE uses.
	c, l := liveClient(t, RateLimit{PerSecond: 0.01, WritesOnly: true}, httpmock.NewStringResponder(204, ""))
	ctx, err := c.Turn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A read in between neither waits nor uses the turn.
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.Do(short, Request{Method: "DELETE", Path: "/v2/x"}, nil); err != nil {
		t.Fatalf("the DELETE with its turn waited: %v", err)
	}
	// The turn is used up: a second DELETE with it waits like any other.
	again, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if _, err := c.Do(again, Request{Method: "DELETE", Path: "/v2/x"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second DELETE on one turn: %v", err)
	}
	// Waiting for a turn honours the context.
	waiting, cancel3 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel3()
	if _, err := c.Turn(waiting); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Turn past its deadline: %v", err)
	}
	if l.count() != 2 {
		t.Fatalf("%d requests, want 2", l.count())
	}
	// Without a limit, a turn costs nothing.
	free, _ := newMockClient(t)
	if ctx, err := free.Turn(context.Background()); err != nil || ctx == nil {
		t.Fatalf("Turn without a limit: %v", err)
	}
}
