package cli

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// inFlight is the transport beneath a tool's client: a pool of keep-alive
// connections sized for the tool's concurrency, and at most n requests in
// flight at once, whatever mix of listing, re-checking and removing is
// running. The account's limit on concurrent requests is shared with the
// live application; -concurrency is the tool's share of it.
type inFlight struct {
	rt    http.RoundTripper
	slots chan struct{}
}

func newTransport(n int) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 2*n+8, 2*n+8
	return &inFlight{rt: t, slots: make(chan struct{}, max(n, 1))}
}

// RoundTrip waits for a slot, honouring the request's context.
func (f *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case f.slots <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	defer func() { <-f.slots }()
	return f.rt.RoundTrip(r)
}

// Clock is the API's clock, read from the Date header of its responses: a
// cleanup's cutoff must not depend on how well the machine running it keeps
// time. It is also the transport that reads those headers.
type Clock struct {
	rt   http.RoundTripper
	warn io.Writer

	mu     sync.Mutex
	offset time.Duration // API time minus local time
	warned bool
}

// maxSkew is how far the machine's clock may be from the API's before the
// tool says so.
const maxSkew = time.Minute

// NewClock reads Date headers of the responses rt returns; a skew of more
// than a minute is reported once on warn.
func NewClock(warn io.Writer, rt http.RoundTripper) *Clock {
	return &Clock{rt: rt, warn: warn}
}

// RoundTrip sends r and notes the Date of the response.
func (c *Clock) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err == nil {
		if d, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			c.observe(d, time.Now())
		}
	}
	return resp, err
}

// observe records that the API said date at local time now. Date has a
// resolution of a second, so the offset is taken to the middle of it.
func (c *Clock) observe(date, now time.Time) {
	off := date.Add(500 * time.Millisecond).Sub(now)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = off
	if (off > maxSkew || off < -maxSkew) && !c.warned && c.warn != nil {
		c.warned = true
		dir := "ahead of"
		if off < 0 {
			dir, off = "behind", -off
		}
		fmt.Fprintf(c.warn, "warning: the API's clock is %s %s this machine's; -older-than is measured on the API's clock\n", off.Round(time.Second), dir)
	}
}

// Now is the API's time: the local time corrected by the offset of the
// latest response, or the local time before any response.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}
