package client

import (
	"context"
	"errors"
	"testing"
	"time"
)

var bucketT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n float64) time.Time { return bucketT0.Add(time.Duration(n * float64(time.Millisecond))) }

// takeN takes n slots at now and returns them.
func takeN(b *bucket, now time.Time, n int) []*slot {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*slot, n)
	for i := range out {
		out[i] = b.take(now, make(chan struct{}, 1))
	}
	return out
}

func near(a, b time.Time) bool { d := a.Sub(b); return d > -time.Microsecond && d < time.Microsecond }

func TestBucketPacesAndBursts(t *testing.T) {
	t.Parallel()
	b := newBucket(10, 3)
	s := takeN(b, ms(0), 5)
	want := []float64{0, 0, 0, 100, 200} // a burst of 3, then one per 100 ms
	for i, w := range want {
		if !near(s[i].at, ms(w)) {
			t.Errorf("slot %d at %v, want +%vms", i, s[i].at.Sub(bucketT0), w)
		}
	}
	// After a quiet spell the burst is back, and no more.
	s = takeN(b, ms(10_000), 4)
	for i, w := range []float64{10_000, 10_000, 10_000, 10_100} {
		if !near(s[i].at, ms(w)) {
			t.Errorf("after quiet, slot %d at %v, want +%vms", i, s[i].at.Sub(bucketT0), w)
		}
	}
}

// TestBucketCutRetimesQueuedSlotsOnce: slots queued at 10/s when the rate
// is cut to 7/s at 50 ms are timed again once, at 7/s, from where the first
// of them stood: the half token still owed at 50 ms takes 1/14 s at the new
// rate, and each slot after it 1/7 s. The last goes about when a fixed 7/s
// limiter would have sent it (1.286 s), not after sleeping out its old slot
// and queueing again (about twice as long).
func TestBucketCutRetimesQueuedSlotsOnce(t *testing.T) {
	t.Parallel()
	b := newBucket(10, 1)
	s := takeN(b, ms(0), 10) // at 0, 100, …, 900 ms
	b.setRate(ms(50), 7, time.Time{})
	first := 50 + 50*10.0/7
	for i := 1; i < 10; i++ {
		want := ms(first + float64(i-1)*1000/7)
		if d := s[i].at.Sub(want); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("slot %d at %v, want %v", i, s[i].at.Sub(bucketT0), want.Sub(bucketT0))
		}
		select {
		case <-s[i].moved:
		default:
			t.Errorf("slot %d was moved without its waiter being told", i)
		}
	}
	if last, fixed := s[9].at.Sub(bucketT0), 9*time.Second/7; last > fixed {
		t.Errorf("the last slot at %v, after a fixed 7/s limiter's %v", last, fixed)
	}
	// The next slot comes after them, once.
	next := takeN(b, ms(60), 1)[0]
	if want := ms(first + 9*1000.0/7); next.at.Sub(want) < -time.Millisecond || next.at.Sub(want) > time.Millisecond {
		t.Errorf("the slot after the queue at %v, want %v", next.at.Sub(bucketT0), want.Sub(bucketT0))
	}
	// A retime with nothing changed moves nothing.
	before := next.at
	b.mu.Lock()
	b.retime(ms(70), nil)
	b.mu.Unlock()
	if !next.at.Equal(before) {
		t.Errorf("a retime without a change moved a slot from %v to %v", before, next.at)
	}
}

// TestBucketGivesBackALeftSlot: a waiter that leaves (its context ended)
// gives its slot to the ones behind it.
func TestBucketGivesBackALeftSlot(t *testing.T) {
	t.Parallel()
	b := newBucket(10, 1)
	s := takeN(b, ms(0), 4) // 0, 100, 200, 300 ms
	b.mu.Lock()
	b.retime(ms(10), s[1])
	b.mu.Unlock()
	if !near(s[2].at, ms(100)) || !near(s[3].at, ms(200)) {
		t.Errorf("after the 100 ms slot left: %v, %v; want 100 ms and 200 ms", s[2].at.Sub(bucketT0), s[3].at.Sub(bucketT0))
	}
	if next := takeN(b, ms(20), 1)[0]; !near(next.at, ms(300)) {
		t.Errorf("the next slot at %v, want 300 ms", next.at.Sub(bucketT0))
	}
}

func TestBucketWaitOnADoneContextTakesNothing(t *testing.T) {
	t.Parallel()
	b := newBucket(0.01, 1) // one slot, then one per 100 s
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on a cancelled context: %v", err)
	}
	short, stop := context.WithTimeout(context.Background(), 2*time.Second)
	defer stop()
	if err := b.wait(short); err != nil {
		t.Fatalf("the slot the cancelled wait did not take was gone: %v", err)
	}
}

func TestBucketExtremeRates(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{minPerSecond, 1e-3, 1e9, 1e300} {
		b := newBucket(r, 1<<30)
		s := takeN(b, ms(0), 3)
		for i := 1; i < 3; i++ {
			if s[i].at.Before(s[i-1].at) || s[i].at.Before(ms(0)) {
				t.Errorf("rate %g: slot %d at %v before slot %d at %v", r, i, s[i].at, i-1, s[i-1].at)
			}
		}
	}
}

// TestACutPausesTheQueue: a 429 heard by an adaptive limit cuts the rate
// and pauses the queued attempts for cutPause, then they go at the cut
// rate, each once.
func TestACutPausesTheQueue(t *testing.T) {
	t.Parallel()
	l := newLimiter(&RateLimit{PerSecond: 10, Adaptive: true})
	s := takeN(l.bucket, ms(0), 4) // at 0, 100, 200, 300 ms
	l.observe(429, ms(1), ms(50))
	want := ms(50).Add(cutPause)
	for i := 1; i < 4; i++ {
		if s[i].at.Before(want) {
			t.Errorf("slot %d at %v, before the pause ends at %v", i, s[i].at.Sub(bucketT0), want.Sub(bucketT0))
		}
		if gap := s[i].at.Sub(want); gap > time.Duration(i)*time.Second/7+time.Millisecond {
			t.Errorf("slot %d at %v: more than %d intervals of the cut rate after the pause", i, s[i].at.Sub(bucketT0), i)
		}
	}
	if l.rate() != 7 {
		t.Errorf("rate %v after one cut of 10", l.rate())
	}
}
