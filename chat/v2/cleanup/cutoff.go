package cleanup

import (
	"net/http"
	"sync"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
)

// cutoff is OlderThan before the API's clock, fixed once per job: from the
// Date header of the first answer the job gets (or a journal or plan that
// fixed it for an earlier run), so that a machine whose clock is off cannot
// make a job remove bindings younger than it was told. Before it is fixed,
// nothing is judged.
type cutoff struct {
	olderThan time.Duration
	onFix     func(cut, apiTime time.Time) error // records it, once

	mu      sync.Mutex
	cut     time.Time
	apiTime time.Time // the API's time it was taken from
	pin     bool      // fixed by an earlier run or a plan, not by this job
	err     error
}

// fix fixes the cutoff as an earlier run, or a plan, fixed it.
func (c *cutoff) fix(cut, apiTime time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cut, c.apiTime, c.pin = cut, apiTime, true
}

// pinned is the cutoff an earlier run or a plan fixed, and the API time it
// was taken at; zero if this job fixes its own.
func (c *cutoff) pinned() (cut, apiTime time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pin {
		return time.Time{}, time.Time{}
	}
	return c.cut, c.apiTime
}

// from fixes the cutoff from an answer of the API, the first time, and
// returns it. Without a Date header, the machine's clock stands in.
func (c *cutoff) from(resp client.Response) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut.IsZero() && c.err == nil {
		now, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			now = time.Now()
		}
		now = now.UTC().Truncate(time.Second)
		c.cut, c.apiTime = now.Add(-c.olderThan), now
		if c.onFix != nil {
			c.err = c.onFix(c.cut, c.apiTime)
		}
	}
	return c.cut, c.err
}

// taken is the cutoff and the API time it was taken at, zero before it is
// fixed.
func (c *cutoff) taken() (cut, apiTime time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut, c.apiTime
}

// get is the cutoff, zero before it is fixed.
func (c *cutoff) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut
}
