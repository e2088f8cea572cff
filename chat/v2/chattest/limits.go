package chattest

import (
	"net/http"
	"strconv"
	"time"
)

// Limits are the limits the emulator enforces, modelled on the live API's,
// so that a job can be tested against them before it meets them in
// production.
type Limits struct {
	// MaxPageSize is the largest PageSize the list operations accept;
	// above it they answer 400 with code 20001, as the API answers a bad
	// parameter. 0 means 50, the maximum of the current API description;
	// up to 1000, the seed documentation's maximum.
	MaxPageSize int

	// WritesPerSecond and WriteWindow are the per-service write budget:
	// at most WritesPerSecond × WriteWindow binding removals in any
	// sliding window of WriteWindow, answered 429 with code 20429 beyond
	// it. Zero WritesPerSecond: no budget.
	WritesPerSecond float64
	WriteWindow     time.Duration

	// MaxInFlight is the number of requests the account may have in
	// flight at once; one more is answered 429 with code 20429. 0: no
	// limit.
	MaxInFlight int

	// RetryAfter, when not empty, is sent as a Retry-After header with the
	// 429s these limits give. The live API does not promise one.
	RetryAfter string
}

// RealLimits are the live API's limits: pages of at most 50, a write
// budget of 30 per second per service over a 5 second sliding window (the
// Chat limit that binding deletes count against), and 100 requests in
// flight per account (Twilio documents no number; 100 is its commonly
// reported default), with no Retry-After.
func RealLimits() Limits {
	return Limits{MaxPageSize: 50, WritesPerSecond: 30, WriteWindow: 5 * time.Second, MaxInFlight: 100}
}

// SetLimits puts l in force. NewServer starts with pages of at most 50 and
// no other limit; SetLimits(RealLimits()) turns on the live API's. On a nil
// Server it does nothing.
func (s *Server) SetLimits(l Limits) {
	if s == nil {
		return
	}
	if l.MaxPageSize <= 0 {
		l.MaxPageSize = 50
	}
	l.MaxPageSize = min(l.MaxPageSize, 1000)
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	s.limits = l
	s.windows = map[string]*window{}
}

func (s *Server) currentLimits() Limits {
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	return s.limits
}

// window is one service's recent writes, oldest first.
type window struct {
	times []time.Time
}

// admitWrite reports whether a write to service fits its budget now, and
// if so counts it.
func (s *Server) admitWrite(service string) bool {
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	l := s.limits
	if l.WritesPerSecond <= 0 || l.WriteWindow <= 0 {
		return true
	}
	w := s.windows[service]
	if w == nil {
		w = &window{}
		s.windows[service] = w
	}
	now := time.Now()
	drop := 0
	for drop < len(w.times) && now.Sub(w.times[drop]) >= l.WriteWindow {
		drop++
	}
	w.times = append(w.times[:0], w.times[drop:]...)
	// The budget is a whole number of writes; the epsilon absorbs the
	// rounding of products such as 20/3 × 0.3 s.
	if len(w.times) >= int(l.WritesPerSecond*l.WriteWindow.Seconds()+1e-9) {
		return false
	}
	w.times = append(w.times, now)
	return true
}

// enter counts a request in flight, reporting false (and counting
// nothing) when the account is at its limit.
func (s *Server) enter() bool {
	max := s.currentLimits().MaxInFlight
	n := s.inFlight.Add(1)
	if max > 0 && n > int64(max) {
		s.inFlight.Add(-1)
		return false
	}
	return true
}

func (s *Server) leave() { s.inFlight.Add(-1) }

// tooManyRequests answers as the API does past a limit.
func (s *Server) tooManyRequests(w http.ResponseWriter) {
	if ra := s.currentLimits().RetryAfter; ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	writeError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
}

// maxPageSizeProblem is the 400 message for a PageSize outside 1..max.
func maxPageSizeProblem(max int) string {
	return "PageSize must be an integer from 1 to " + strconv.Itoa(max)
}
