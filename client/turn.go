package client

import (
	"context"
	"sync/atomic"
	"time"
)

// Turn waits until the client's rate limit lets a write start, and returns
// a context carrying that turn. The first write sent with it on this client
// spends the turn and starts at once, instead of waiting again; the first
// read sent with it before that write (the check it was taken for) starts
// at once too, and later ones wait as any request does. Under a limit on
// every request (not WritesOnly) that read is still counted: the requests
// after it wait for it. A job that must check
// something immediately before writing (a cleanup re-reading a binding just
// before removing it) takes its turn first, then checks, then writes, so
// that nothing it checked can change while it waits for the limit.
//
// A turn counts only on the client that granted it; retries of a request
// wait for the limit like any other attempt. Given a context that already
// carries an unspent turn of this client, Turn returns it as it is, so a
// caller can take the turn itself (to wait for it under a context of its
// own) before calling something that takes one. Without a rate limit, Turn
// returns ctx at once. A context that is already done gets its error, and
// no turn is spent; waiting honours ctx.
func (c *Client) Turn(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return ctx, err
	}
	if c == nil || c.limit == nil {
		return ctx, nil
	}
	if t, _ := ctx.Value(turnKey{}).(*turn); t != nil && t.owner == c.limit && !t.spent.Load() {
		return ctx, nil // the turn ctx carries is not spent yet: it is this one
	}
	if err := c.limit.wait(ctx); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, turnKey{}, &turn{owner: c.limit}), nil
}

type turnKey struct{}

// turn is a rate-limit slot already waited for, to be spent by one write
// of the client whose limiter granted it.
type turn struct {
	owner *limiter
	spent atomic.Bool
	read  atomic.Bool // the one read that goes ahead of the write has gone
}

// admit decides how the first attempt of a request that the limit applies
// to starts: at once, riding on an unspent turn of this limiter that ctx
// carries (a write spends it; the first read before it, the check the turn
// was taken for, is charged to the limit), or after waiting its turn. A
// request whose context is done sends nothing, and is charged nothing.
func (l *limiter) admit(ctx context.Context, method string) {
	if ctx.Err() != nil {
		return
	}
	if t, _ := ctx.Value(turnKey{}).(*turn); t != nil && t.owner == l {
		switch {
		case isWrite(method):
			if t.spent.CompareAndSwap(false, true) {
				return
			}
		case !t.spent.Load() && t.read.CompareAndSwap(false, true):
			l.bucket.charge(time.Now())
			return
		}
	}
	_ = l.wait(ctx)
}
