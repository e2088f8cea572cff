package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/internal/cli"
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
	cl := &cleaner{cfg: &config{}, env: &cli.Env{Client: c}, start: time.Now()}
	cl.scanned.Store(42)
	cl.removed.Store(7)
	for _, tty := range []bool{true, false} {
		var out bytes.Buffer
		stop := startProgress(cl, &out, tty, 20*time.Millisecond)
		time.Sleep(600 * time.Millisecond)
		stop()
		s := out.String()
		lines := strings.Count(s, "progress: scanned 42  matched 0  removed 7")
		if tty && (lines < 2 || !strings.HasPrefix(s, "\r") || !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1) {
			t.Errorf("terminal: %q", s)
		}
		if !tty && (lines < 2 || strings.Contains(s, "\r") || strings.Count(s, "\n") != lines) {
			t.Errorf("pipe: %q", s)
		}
	}
}
