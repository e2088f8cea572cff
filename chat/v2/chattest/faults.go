package chattest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/pause"
)

// Fault makes the emulator misbehave for the next requests that match it.
// Faults are consumed in the order they were injected.
type Fault struct {
	Times      int    // how many matching requests it applies to; 0 means 1
	Method     string // only requests with this method; empty for any
	PathPrefix string // only requests whose escaped path starts with this; empty for any

	// Status, when set, answers with this status instead of serving the
	// request, with a Twilio error document unless Body is given.
	Status      int
	RetryAfter  string // Retry-After header sent with Status
	Body        string
	ContentType string // of Body; application/json by default

	// ServeFirst, with Status, serves the request (a DELETE removes the
	// binding) and then answers with Status anyway: a success whose answer
	// was lost on the way back.
	ServeFirst bool

	// Latency delays the answer.
	Latency time.Duration
	// CutBody serves the request (a DELETE removes the binding), then
	// closes the connection halfway through the response, as a reset
	// connection does: mid-body, or mid-headers for a response without a
	// body such as a 204.
	CutBody bool
}

// Inject queues f; on a nil Server it does nothing.
func (s *Server) Inject(f Fault) {
	if s == nil {
		return
	}
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &f)
}

// PendingFaults is how many injected fault applications are left; 0 for a
// nil Server.
func (s *Server) PendingFaults() int {
	if s == nil {
		return 0
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.Times
	}
	return n
}

// takeFault returns a copy of the first fault matching r, using it up.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == r.Method) && strings.HasPrefix(r.URL.EscapedPath(), f.PathPrefix) {
			cp := *f
			if f.Times--; f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return &cp
		}
	}
	return nil
}

// applyFault answers r as f says, reporting whether it did.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if !pause.For(r.Context(), f.Latency) {
		return true
	}
	switch {
	case f.Status != 0:
		if f.ServeFirst {
			s.handle(httptest.NewRecorder(), r)
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Body == "" {
			writeError(w, f.Status, 20000+f.Status, http.StatusText(f.Status))
			return true
		}
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	case f.CutBody:
		s.cutBody(w, r)
		return true
	}
	return false
}

// cutBody serves r in full into memory, then writes the first half of the
// serialized response to the raw connection and closes it.
func (s *Server) cutBody(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	for k, v := range w.Header() {
		rec.Header()[k] = v
	}
	s.handle(rec, r)
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot cut this connection", http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	var full bytes.Buffer
	body := rec.Body.Bytes()
	fmt.Fprintf(&full, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	if rec.Code != http.StatusNoContent {
		rec.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	_ = rec.Header().Write(&full)
	full.WriteString("\r\n")
	full.Write(body)
	_, _ = conn.Write(full.Bytes()[:full.Len()/2])
}
