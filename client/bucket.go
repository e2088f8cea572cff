package client

import (
	"context"
	"math"
	"sync"
	"time"
)

// bucket is the token bucket beneath a RateLimit, with its queue of waiters.
//
// It is a generic cell rate algorithm: tat is the theoretical arrival time
// of the next request at the current interval, and a request may start up
// to (burst-1) intervals before its theoretical time. Every reservation not
// yet due is a slot in the queue, in the order taken, so that when the rate
// changes (an adaptive cut) or a waiter leaves (its context ended), the
// slots behind are timed again once, at the new rate, from where the first
// of them started: queued waiters neither keep a slot timed at the old rate
// nor pay for two. (x/time/rate, which this replaced, keeps a reservation's
// time when the rate changes, and cannot give back the tokens of several
// queued reservations exactly.)
//
// The methods that take now do not read the clock, so tests drive them on
// a synthetic one.
type bucket struct {
	mu       sync.Mutex
	interval time.Duration // between requests at the current rate
	burst    int
	tat      time.Time
	queue    []*slot // reservations not yet due, in the order taken
}

// slot is one reservation: the time its request may start. Nobody waits on
// a charge (moved is nil); a waiter is told through moved when its slot is
// timed again.
type slot struct {
	at    time.Time
	prior time.Time // tat before this slot was taken
	moved chan struct{}
}

func newBucket(perSecond float64, burst int) *bucket {
	return &bucket{interval: interval(perSecond), burst: max(burst, 1)}
}

// interval is the time between requests at perSecond, at least 1 ns.
func interval(perSecond float64) time.Duration {
	d := float64(time.Second) / perSecond
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(time.Duration(d), 1)
}

// take reserves the next slot at now. The caller holds b.mu.
func (b *bucket) take(now time.Time, moved chan struct{}) *slot {
	b.prune(now)
	s := &slot{moved: moved}
	b.place(now, s)
	return s
}

// place times s as the next slot at now, queueing it if it is not yet
// due. The caller holds b.mu.
func (b *bucket) place(now time.Time, s *slot) {
	s.prior = b.tat
	base := b.tat
	if base.Before(now) {
		base = now
	}
	s.at = base.Add(-b.tolerance())
	if s.at.Before(now) {
		s.at = now
	}
	b.tat = base.Add(b.interval)
	if s.at.After(now) {
		b.queue = append(b.queue, s)
	}
}

// tolerance is how far ahead of its theoretical time a request may start:
// burst-1 intervals, saturating rather than overflowing.
func (b *bucket) tolerance() time.Duration {
	n := time.Duration(b.burst - 1)
	if n > 0 && b.interval > math.MaxInt64/n {
		return math.MaxInt64
	}
	return n * b.interval
}

// prune drops the slots that are due: they are no longer waiting, and no
// change of rate moves them. The caller holds b.mu.
func (b *bucket) prune(now time.Time) {
	i := 0
	for i < len(b.queue) && !b.queue[i].at.After(now) {
		i++
	}
	if i > 0 {
		b.queue = append(b.queue[:0], b.queue[i:]...)
	}
}

// retime takes the queued slots again at now, from where the first of them
// started, at the current interval, leaving out drop (nil for none), and
// tells their waiters. Without a change of rate or a slot left out, it
// changes nothing. The caller holds b.mu.
func (b *bucket) retime(now time.Time, drop *slot) {
	b.prune(now)
	pending := b.queue
	if len(pending) == 0 {
		return
	}
	b.tat, b.queue = pending[0].prior, nil
	for _, s := range pending {
		if s == drop {
			continue
		}
		b.place(now, s)
		if s.moved != nil {
			select {
			case s.moved <- struct{}{}:
			default: // already told, not yet awake
			}
		}
	}
}

// setRate changes the rate at now, and times the queued slots again once,
// at the new rate, from where the first of them stood: what was owed at the
// old rate (the time from now to the next theoretical arrival) is owed in
// tokens, so it is scaled to the new rate. No slot starts before notBefore.
func (b *bucket) setRate(now time.Time, perSecond float64, notBefore time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.interval
	b.interval = interval(perSecond)
	b.prune(now)
	owed := &b.tat
	if len(b.queue) > 0 {
		owed = &b.queue[0].prior
	}
	if d := owed.Sub(now); d > 0 {
		*owed = now.Add(scaled(d, b.interval, old))
	}
	// The slot at tat may start burst-1 intervals early: to start no slot
	// before notBefore, tat must be that much after it.
	if earliest := notBefore.Add(b.tolerance()); owed.Before(earliest) && notBefore.After(now) {
		*owed = earliest
	}
	b.retime(now, nil)
}

// scaled is d·to/from, saturating.
func scaled(d, to, from time.Duration) time.Duration {
	f := float64(d) * float64(to) / float64(from)
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(f)
}

// charge spends a slot without waiting for it: the request it stands for
// goes at once, and the requests after it wait for it.
func (b *bucket) charge(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.take(now, nil)
}

// wait blocks until a request may start, or until ctx ends, in which case
// its slot is given back. A context already done gets its error, and takes
// no slot.
func (b *bucket) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	s := b.take(time.Now(), make(chan struct{}, 1))
	b.mu.Unlock()
	for {
		b.mu.Lock()
		d := time.Until(s.at)
		b.mu.Unlock()
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-s.moved:
		case <-ctx.Done():
			t.Stop()
			b.mu.Lock()
			b.retime(time.Now(), s)
			b.mu.Unlock()
			return ctx.Err()
		}
		t.Stop()
	}
}
