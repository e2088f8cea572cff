package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/cli"
	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// Outcomes of a removal, as the audit log names them.
const (
	outRemoved = "removed"
	outGone    = "already_gone"
	outKept    = "kept_refreshed"
	outFailed  = "failed"
)

// removeOne re-checks and removes one binding, trying again as retry
// does. Once an attempt has taken its turn under the rate limit it finishes
// even if the run is interrupted; one that has not yet does not start, and
// leaves its unit unfinished so a resumed run comes back to it.
func (c *cleaner) removeOne(ctx context.Context, j *job) {
	var maybe bool // an earlier attempt of ours may have removed it
	var requestID string
	outcome, err := retry(ctx, c.cfg.retryWait, func() (string, error) {
		turn, err := c.env.Client.Turn(ctx)
		if err != nil {
			return "", err
		}
		inFlight, cancel := context.WithTimeout(context.WithoutCancel(turn), 2*time.Minute)
		defer cancel()
		var out string
		out, requestID, err = c.attempt(inFlight, j, &maybe)
		return out, err
	})
	switch {
	case err == nil:
		c.record(j, outcome, requestID, nil)
	case ctx.Err() != nil:
		c.notDone.Add(1)
	default:
		c.record(j, outFailed, requestIDOf(err), err)
	}
}

// attempt reads the binding again and removes it if it still matches every
// filter. It returns the outcome, or the error that retry judges.
func (c *cleaner) attempt(ctx context.Context, j *job, maybe *bool) (outcome, requestID string, err error) {
	now, err := c.fetch(ctx, j)
	switch {
	case client.IsNotFound(err) && *maybe:
		return outRemoved, requestIDOf(err), nil
	case client.IsNotFound(err):
		return outGone, requestIDOf(err), nil
	case err != nil:
		return "", "", err
	case !c.stale(j.sid, now.typ, now.updated):
		j.typ, j.updated = now.typ, now.updated
		return outKept, "", nil
	}
	j.identity, j.typ, j.updated = now.identity, now.typ, now.updated
	var resp client.Response
	err = c.remove(ctx, j, &resp)
	switch {
	case err == nil:
		return outRemoved, resp.RequestID, nil
	case client.IsNotFound(err) && *maybe:
		return outRemoved, requestIDOf(err), nil
	case client.IsNotFound(err):
		return outGone, requestIDOf(err), nil // removed by someone else between the check and the DELETE
	}
	if client.MayHaveApplied(err) {
		*maybe = true
	}
	return "", "", err
}

// current is what a re-check read.
type current struct {
	identity string
	typ      chat.BindingType
	updated  time.Time
}

// fetch reads the binding through the resource it was found in.
func (c *cleaner) fetch(ctx context.Context, j *job) (current, error) {
	if j.user != "" {
		b, err := c.svc.Users(j.user).UserBindings(string(j.sid)).Fetch(ctx)
		if err != nil {
			return current{}, err
		}
		return current{b.Identity, b.BindingType, b.DateUpdated}, nil
	}
	b, err := c.svc.Bindings(string(j.sid)).Fetch(ctx)
	if err != nil {
		return current{}, err
	}
	return current{b.Identity, b.BindingType, b.DateUpdated}, nil
}

func (c *cleaner) remove(ctx context.Context, j *job, resp *client.Response) error {
	opts := []chat.RemoveOption{chat.AcceptRetriedNotFound(), chat.ResponseInto(resp)}
	if j.user != "" {
		return c.svc.Users(j.user).UserBindings(string(j.sid)).Remove(ctx, opts...)
	}
	return c.svc.Bindings(string(j.sid)).Remove(ctx, opts...)
}

// record counts, prints and audits an outcome, and settles the job.
func (c *cleaner) record(j *job, outcome, requestID string, err error) {
	switch outcome {
	case outRemoved:
		c.removed.Add(1)
		c.printf("removed %s  %-4s updated %s  %s\n", j.sid, cli.Printable(string(j.typ)), j.updated.Format(time.RFC3339), c.who(j))
	case outGone:
		c.gone.Add(1)
		c.printf("already gone %s  %s\n", j.sid, c.who(j))
	case outKept:
		c.kept.Add(1)
		c.printf("kept %s  refreshed: updated %s  %s\n", j.sid, j.updated.Format(time.RFC3339), c.who(j))
	case outFailed:
		c.failed.Add(1)
		c.printf("failed %s  %s: %v\n", j.sid, c.who(j), err)
	}
	c.audit.write(j, outcome, requestID, err)
	c.tracker.settle(j.unit, outcome == outFailed)
	if outcome == outFailed {
		c.tracker.failedSID(j.sid)
	}
}

func requestIDOf(err error) string {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	return ""
}

// isTransient reports whether err is worth a few more tries: the service
// failed, or the connection did.
func isTransient(err error) bool {
	var apiErr *client.Error
	var reqErr *client.RequestError
	return (errors.As(err, &apiErr) && apiErr.Status >= 500) || errors.As(err, &reqErr)
}

// retry calls f until it succeeds, fails for good, or ctx ends: without
// limit on 429s (a concurrency limit shared with the live application
// answers them; waiting is the cure), five more times on server errors and
// broken connections, with a backoff from min doubling to 30 s.
func retry[T any](ctx context.Context, min time.Duration, f func() (T, error)) (T, error) {
	wait := min
	for transient := 0; ; {
		v, err := f()
		switch {
		case err == nil || ctx.Err() != nil:
			return v, err
		case client.IsRateLimited(err):
		case isTransient(err) && transient < 5:
			transient++
		default:
			return v, err
		}
		if !pause.For(ctx, jitter(wait)) {
			return v, err
		}
		wait = max(min, wait*2)
		if wait > 30*time.Second {
			wait = 30 * time.Second
		}
	}
}

// jitter draws a wait from [d/2, d], so workers that failed together do
// not retry together.
func jitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
