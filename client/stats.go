package client

import (
	"sync/atomic"
	"time"
)

// Stats counts what a Client has sent and heard since it was made, for a
// job's progress line or metrics: a 429 storm shows as RateLimited and
// Waited growing while nothing else moves.
type Stats struct {
	Attempts     int64         // requests tried, retries included: a failed dial counts, a request whose context had ended does not
	Retries      int64         // of those, retries of an earlier attempt
	RateLimited  int64         // answers of 429
	ServerErrors int64         // answers of 500 and above
	Waited       time.Duration // time requests spent waiting for the rate limit
}

// counters are a Client's Stats as they accrue.
type counters struct {
	attempts, retries, rateLimited, serverErrors, waited atomic.Int64
}

// Stats returns the counts so far; zero for a nil or zero Client. Each
// count is read on its own: taken while requests run, the counts may be a
// request apart (a 5xx counted whose attempt is not yet).
func (c *Client) Stats() Stats {
	if !c.ready() {
		return Stats{}
	}
	n := c.counters
	return Stats{
		Attempts:     n.attempts.Load(),
		Retries:      n.retries.Load(),
		RateLimited:  n.rateLimited.Load(),
		ServerErrors: n.serverErrors.Load(),
		Waited:       time.Duration(n.waited.Load()),
	}
}

// heard counts an answer of status.
func (n *counters) heard(status int) {
	switch {
	case status == 429:
		n.rateLimited.Add(1)
	case status >= 500:
		n.serverErrors.Add(1)
	}
}
