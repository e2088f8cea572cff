// Package pause waits for a while or until a context ends, whichever comes
// first: the one timer loop the client's rate limit, the emulator's latency
// and the tools' backoff share.
package pause

import (
	"context"
	"time"
)

// For waits d, or until ctx is done, and reports whether it waited the
// whole d. A d of zero or less returns at once, true.
func For(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
