package client

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"
)

// RateLimit caps how fast a Client sends requests: every attempt, retries
// included, waits for its turn, and the wait honours the call's context.
// One limit is shared by every goroutine using the client.
//
// Twilio's Chat counts writes (binding removals among them) against a
// budget of 30 per second per service, over a 5 second sliding window,
// shared with everything else the application writes to that service;
// reads are not counted there. A cleanup job that removes at a third of
// that leaves the rest to the live application:
//
//	client.WithRateLimit(client.RateLimit{PerSecond: 10, Adaptive: true, WritesOnly: true})
type RateLimit struct {
	// PerSecond is the most attempts per second; with Adaptive, the cap
	// the rate returns to.
	PerSecond float64
	// Burst is how many attempts may start at once after a quiet spell;
	// 0 means 1, an even pace.
	Burst int
	// Adaptive lowers the rate when the API answers 429 and raises it back
	// while it does not: a 429 multiplies the rate by 0.7, and each second
	// of answers without one adds a tenth of PerSecond, up to PerSecond
	// (additive increase, multiplicative decrease, as aws-sdk-go-v2's
	// adaptive retry mode does). The rate never goes above PerSecond, nor
	// below PerSecond/64 (nor below 0.05 a second, unless PerSecond is
	// lower). A 429 also pauses the limited attempts for a second (a budget
	// over a sliding window refuses everything until its window moves on);
	// attempts queued when the rate is cut, or raised, are timed again,
	// once, at the new rate. The state is the client's, so many workers
	// converge together just under the server's limit instead of each
	// backing off alone.
	Adaptive bool
	// WritesOnly applies the limit, and the adaptation, to writes (DELETE,
	// POST, PUT, PATCH) only; reads go unlimited.
	WritesOnly bool
}

// The adaptive mode's constants.
const (
	rateDecrease = 0.7      // multiplier on a 429
	rateIncrease = 0.1      // fraction of the cap added back per second without a 429
	rateFloor    = 1.0 / 64 // the lowest rate, as a fraction of the cap
	minRate      = 0.05     // and not below one attempt every 20 s, unless the cap is lower
	minPerSecond = 1e-6     // the smallest cap: about one attempt in 11.6 days
)

// cutPause is how long the attempts limited by an adaptive rate wait after
// a 429 before they go on at the cut rate: a budget over a sliding window
// (Twilio's is 5 s) refuses every request until its window has moved on,
// and a second is a fifth of it. Without it, the retried attempts met 429s
// round after round, and each round cut the rate again, to its floor.
const cutPause = time.Second

// WithRateLimit caps the client's request rate; see RateLimit.
func WithRateLimit(rl RateLimit) Option {
	return func(s *settings) error {
		switch {
		case !(rl.PerSecond >= minPerSecond) || math.IsInf(rl.PerSecond, 0):
			return &ConfigError{Setting: "WithRateLimit", Problem: fmt.Sprintf("PerSecond must be a number from %g up, got %v", minPerSecond, rl.PerSecond)}
		case rl.Burst < 0:
			return &ConfigError{Setting: "WithRateLimit", Problem: fmt.Sprintf("Burst must be 0 or positive, got %d", rl.Burst)}
		}
		s.rateLimit = &rl
		return nil
	}
}

// limiter is a client's rate limit and, in adaptive mode, its state.
type limiter struct {
	cfg    RateLimit
	floor  float64 // the lowest rate adaptation may reach
	bucket *bucket

	mu      sync.Mutex
	current float64   // the rate in force
	lastCut time.Time // when it was last lowered
	raised  time.Time // when it was last raised (or cut)
	latest  time.Time // the latest answer heard; answers heard out of order count from it
}

func newLimiter(rl *RateLimit) *limiter {
	if rl == nil {
		return nil
	}
	return &limiter{
		cfg:     *rl,
		floor:   min(rl.PerSecond, max(rl.PerSecond*rateFloor, minRate)),
		bucket:  newBucket(rl.PerSecond, rl.Burst),
		current: rl.PerSecond,
	}
}

// applies reports whether requests with method wait for the limit.
func (l *limiter) applies(method string) bool {
	if l == nil {
		return false
	}
	return !l.cfg.WritesOnly || isWrite(method)
}

// isWrite reports whether method changes something on the server.
func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// wait blocks until an attempt may start or ctx ends. A cut of the rate
// while it waits times it again, once, at the new rate.
func (l *limiter) wait(ctx context.Context) error { return l.bucket.wait(ctx) }

// observe adapts the rate to an answer, at now, to an attempt sent at sent.
// Answers reach it in any order from many goroutines: now never goes back,
// so the time since the last change is never negative and a success never
// lowers the rate. The rate stays within [floor, PerSecond].
func (l *limiter) observe(status int, sent, now time.Time) {
	if l == nil || !l.cfg.Adaptive {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.latest) {
		now = l.latest
	}
	l.latest = now
	switch {
	case status == http.StatusTooManyRequests:
		// Answers to attempts sent before the last cut say nothing about
		// the rate since: only one cut per round of answers.
		if !sent.After(l.lastCut) {
			return
		}
		next := max(l.current*rateDecrease, l.floor)
		l.current, l.lastCut, l.raised = next, now, now
		// A server that answers 429 is over its budget now: the attempts
		// queued would only meet 429s too. They wait out a pause, then go
		// at the cut rate.
		l.bucket.setRate(now, next, now.Add(cutPause))
	case l.current < l.cfg.PerSecond:
		if l.raised.IsZero() {
			l.raised = now
		}
		elapsed := min(now.Sub(l.raised), time.Second)
		l.current = min(l.cfg.PerSecond, l.current+l.cfg.PerSecond*rateIncrease*elapsed.Seconds())
		l.raised = now
		l.bucket.setRate(now, l.current, time.Time{})
	}
}

// rate is the limit in force.
func (l *limiter) rate() float64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}
