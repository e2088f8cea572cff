package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
)

// TestStaysWithinTheWriteBudget runs against the live API's limits: at
// -rate 20 (under the budget of 30 a second) no DELETE meets a 429.
func TestStaysWithinTheWriteBudget(t *testing.T) {
	w := newWorld(t, 6, 12) // 36 stale
	w.env(t)
	w.srv.SetLimits(chattest.RealLimits())
	args := append([]string{"-service", w.svc.SID, "-base-url", w.base, "-retry-wait", "1ms", "-progress", "100ms", "-rate", "20", "-older-than", "720h", "-apply", "-concurrency", "16"}, w.identities()...)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if st := w.srv.Stats(); st.RefusedWrites != 0 || st.Removed != 36 {
		t.Errorf("stats %+v: want 36 removed and no 429", st)
	}
	if !strings.Contains(errOut.String(), "limit 20.0/s") {
		t.Errorf("progress does not show the limit:\n%s", errOut.String())
	}
}

func TestProgressModes(t *testing.T) {
	w := newWorld(t, 1, 1)
	c, err := w.srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	job, err := cleanup.New(chat.New(c).Services(w.svc.SID), cleanup.Options{OlderThan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, tty := range []bool{true, false} {
		var out syncBuffer
		stop := startProgress(job, c, &out, tty, 20*time.Millisecond)
		time.Sleep(600 * time.Millisecond)
		stop()
		s := out.String()
		lines := strings.Count(s, "progress: scanned 0  matched 0  removed 0  gone 0  kept 0  failed 0  0.0 removals/s (no limit)  requests 0  retries 0  429s 0  5xx 0  waited 0s")
		if tty && (lines < 2 || !strings.HasPrefix(s, "\r") || !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1) {
			t.Errorf("terminal: %q", s)
		}
		if !tty && (lines < 2 || strings.Contains(s, "\r") || strings.Count(s, "\n") != lines) {
			t.Errorf("pipe: %q", s)
		}
	}
}

// TestProgressShowsA429Storm: while the API answers 429 to every DELETE,
// the progress line shows the 429s and the retries, not only counts that
// do not move.
func TestProgressShowsA429Storm(t *testing.T) {
	w := newWorld(t, 1, 4)
	w.env(t)
	w.srv.Inject(chattest.Fault{Method: "GET", Status: 429, Times: 3}) // the client retries a GET itself
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, Times: 30})
	code, out, errOut := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-progress", "10ms", w.users[0].Identity)
	if s := parseSummary(t, out); code != 0 || s.removed != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// While nothing is removed, the 429s and the retries show.
	storm := 0
	for _, m := range regexp.MustCompile(`removed 0 .*  requests (\d+)  retries (\d+)  429s (\d+)  5xx 0  waited`).FindAllStringSubmatch(errOut, -1) {
		retries, _ := strconv.Atoi(m[2])
		n429, _ := strconv.Atoi(m[3])
		if retries >= 1 && n429 >= 10 {
			storm++
		}
	}
	if storm == 0 {
		t.Errorf("no progress line shows the retries and 429s while nothing was removed:\n%s", tail(errOut))
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
