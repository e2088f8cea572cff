package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/client"
)

// cleaner lists each user's bindings and hands the stale ones to a pool of
// removers.
type cleaner struct {
	cfg     *config
	service chat.ServiceHandle
	cutoff  time.Time
	start   time.Time
	limit   throttle

	outMu sync.Mutex
	out   *bufio.Writer

	scanned, matched, removed, gone, failed, notStarted, listFailed, throttled atomic.Int64
}

type job struct {
	user string
	b    *chat.UserBinding
}

func newCleaner(cfg *config, service chat.ServiceHandle, stdout io.Writer) *cleaner {
	now := time.Now()
	return &cleaner{
		cfg:     cfg,
		service: service,
		cutoff:  now.Add(-cfg.olderThan),
		start:   now,
		limit:   throttle{min: cfg.retryWait},
		out:     bufio.NewWriter(stdout),
	}
}

// stale is the one place that decides what may be removed: every filter
// must match, and a binding of unknown age is never stale.
func (c *cleaner) stale(b *chat.UserBinding) bool {
	if b.SID == "" || b.DateUpdated.IsZero() || !b.DateUpdated.Before(c.cutoff) {
		return false
	}
	if len(c.cfg.Types) == 0 {
		return true
	}
	for _, t := range c.cfg.Types {
		if b.BindingType == t {
			return true
		}
	}
	return false
}

func (c *cleaner) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

func (c *cleaner) run(ctx context.Context, users []string) {
	jobs := make(chan job, 2*c.cfg.concurrency)
	var wg sync.WaitGroup
	if c.cfg.apply {
		for i := 0; i < c.cfg.concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					c.remove(ctx, j)
				}
			}()
		}
	}
	for _, user := range users {
		if ctx.Err() != nil {
			break
		}
		c.scan(ctx, user, jobs)
	}
	close(jobs)
	wg.Wait()
	c.outMu.Lock()
	c.out.Flush()
	c.outMu.Unlock()
}

// scan lists one user's bindings, page by page, retrying pages that fail
// for passing reasons, and queues the stale ones.
func (c *cleaner) scan(ctx context.Context, user string, jobs chan<- job) {
	bindings := c.service.Users(user).UserBindings
	params := &chat.UserBindingListParams{BindingType: c.cfg.Types, PageSize: c.cfg.PageSize}
	page, err := retry(ctx, &c.limit, &c.throttled, func() (*chat.UserBindingPage, error) { return bindings.FirstPage(ctx, params) })
	for err == nil && page != nil {
		for _, b := range page.Bindings {
			c.scanned.Add(1)
			if !c.stale(b) {
				continue
			}
			c.matched.Add(1)
			if !c.cfg.apply {
				c.printf("would remove %s  %-4s updated %s  user %q\n", b.SID, b.BindingType, b.DateUpdated.Format(time.RFC3339), user)
				continue
			}
			select {
			case jobs <- job{user, b}:
			case <-ctx.Done():
				c.notStarted.Add(1)
			}
		}
		cur := page
		page, err = retry(ctx, &c.limit, &c.throttled, func() (*chat.UserBindingPage, error) { return cur.Next(ctx) })
	}
	if err != nil && ctx.Err() == nil {
		c.listFailed.Add(1)
		c.printf("failed to list user %q: %v\n", user, err)
	}
}

// remove deletes one binding. Once a removal has started it finishes even
// if the run is interrupted; one that has not started yet does not start.
func (c *cleaner) remove(ctx context.Context, j job) {
	if ctx.Err() != nil || c.limit.wait(ctx) != nil {
		c.notStarted.Add(1)
		return
	}
	inFlight, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	h := c.service.Users(j.user).UserBindings(string(j.b.SID))
	_, err := retry(inFlight, &c.limit, &c.throttled, func() (struct{}, error) {
		return struct{}{}, h.Remove(inFlight, chat.AcceptRetriedNotFound())
	})
	switch {
	case err == nil:
		c.removed.Add(1)
		c.printf("removed %s  %-4s updated %s  user %q\n", j.b.SID, j.b.BindingType, j.b.DateUpdated.Format(time.RFC3339), j.user)
	case client.IsNotFound(err):
		c.gone.Add(1)
		c.printf("already gone %s  user %q\n", j.b.SID, j.user)
	default:
		c.failed.Add(1)
		c.printf("failed %s  user %q: %v\n", j.b.SID, j.user, err)
	}
}

// retry calls f until it succeeds, fails for good, or ctx ends. A 429 that
// outlasted the client's own retries pauses every worker (see throttle) and
// is tried again without limit: rate limits slow a cleanup down but never
// fail it. Server errors and broken connections get a few more tries.
func retry[T any](ctx context.Context, t *throttle, throttled *atomic.Int64, f func() (T, error)) (T, error) {
	for transient := 0; ; {
		v, err := f()
		if err == nil {
			t.ok()
			return v, nil
		}
		var apiErr *client.Error
		var reqErr *client.RequestError
		switch {
		case ctx.Err() != nil:
			return v, err
		case client.IsRateLimited(err):
			throttled.Add(1)
			var after time.Duration
			if errors.As(err, &apiErr) {
				after = apiErr.RetryAfter
			}
			t.hit(after)
		case (errors.As(err, &apiErr) && apiErr.Status >= 500) || errors.As(err, &reqErr):
			if transient++; transient > 5 {
				return v, err
			}
			t.hit(0)
		default:
			return v, err
		}
		if werr := t.wait(ctx); werr != nil {
			return v, err
		}
	}
}

// throttle is a pause shared by all workers: when one is told to slow down,
// all of them wait, and the pause doubles while the server keeps refusing.
type throttle struct {
	min time.Duration

	mu      sync.Mutex
	until   time.Time
	backoff time.Duration
}

// hit pauses everyone: for as long as the server asked, or, when it did
// not say, for a backoff that doubles on each hit without a success between.
func (t *throttle) hit(retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pause := retryAfter
	if pause <= 0 {
		t.backoff = min(max(2*t.backoff, t.min), 30*time.Second)
		pause = t.backoff
	}
	if until := time.Now().Add(pause); until.After(t.until) {
		t.until = until
	}
}

func (t *throttle) ok() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.backoff /= 2
}

func (t *throttle) wait(ctx context.Context) error {
	t.mu.Lock()
	d := time.Until(t.until)
	t.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *cleaner) summary(w io.Writer, interrupted bool) {
	elapsed := time.Since(c.start).Round(time.Millisecond)
	if interrupted {
		fmt.Fprintln(w, "Interrupted: no new removals were started; removals in flight finished.")
	}
	if !c.cfg.apply {
		fmt.Fprintf(w, "Dry run: scanned %d, matched %d (would remove %d); nothing was removed. Run again with -apply to remove them.\n",
			c.scanned.Load(), c.matched.Load(), c.matched.Load())
		return
	}
	fmt.Fprintf(w, "Summary: scanned %d, matched %d, removed %d, already gone %d, failed %d", c.scanned.Load(), c.matched.Load(), c.removed.Load(), c.gone.Load(), c.failed.Load())
	if n := c.notStarted.Load(); n > 0 {
		fmt.Fprintf(w, ", not started %d", n)
	}
	if n := c.listFailed.Load(); n > 0 {
		fmt.Fprintf(w, ", users not listed %d", n)
	}
	fmt.Fprintf(w, "; rate-limited %d time(s); %s.\n", c.throttled.Load(), elapsed)
}
