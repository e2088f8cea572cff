package client

import (
	"context"
	"sync/atomic"
)

// Turn waits until the client's rate limit lets a write start, and returns
// a context carrying that turn: the first write sent with it starts at once
// instead of waiting again. A job that must check something immediately
// before writing (a cleanup re-reading a binding just before removing it)
// takes its turn first, then checks, then writes, so that nothing it
// checked can change while it waits for the limit.
//
// Without a rate limit, Turn returns ctx at once. Waiting honours ctx.
func (c *Client) Turn(ctx context.Context) (context.Context, error) {
	if c == nil || c.limit == nil {
		return ctx, ctx.Err()
	}
	if err := c.limit.wait(ctx); err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, turnKey{}, &turn{}), nil
}

type turnKey struct{}

// turn is a rate-limit slot already waited for, used by one attempt.
type turn struct{ used atomic.Bool }

// takeTurn reports whether ctx carries an unused turn, using it up.
func takeTurn(ctx context.Context) bool {
	t, _ := ctx.Value(turnKey{}).(*turn)
	return t != nil && t.used.CompareAndSwap(false, true)
}
