package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

// TestAJournalFromTheFutureIsExit2: a journal edited to a cutoff taken at an
// API time that has not come (its cutoff agreeing with its older_than) is
// refused, like every other edited journal, with exit 2 and no summary,
// though one read of the API's clock was needed to tell.
func TestAJournalFromTheFutureIsExit2(t *testing.T) {
	w := newWorld(t, 1, 4)
	w.env(t)
	state := filepath.Join(t.TempDir(), "run.state")
	api := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Second)
	j := fmt.Sprintf(`{"journal":1,"service":"%s","mode":"users","older_than":"720h0m0s"}`+"\n"+`{"cutoff":"%s","api_time":"%s"}`+"\n",
		w.svc.SID, api.Add(-720*time.Hour).Format(time.RFC3339), api.Format(time.RFC3339))
	if err := os.WriteFile(state, []byte(j), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := w.run(t, context.Background(), "", "-older-than", "720h", "-apply", "-state", state, w.identities()[0])
	if code != 2 || !strings.Contains(errOut, "has not come yet") || strings.Contains(out, "Summary") {
		t.Errorf("exit %d, want 2 with the refusal and no summary\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if st := w.srv.Stats(); st.Removed != 0 {
		t.Errorf("%d removed with a refused journal", st.Removed)
	}
}

// TestAPlanFromAPipeIsExit2: -from-plan given a pipe (a plan fetched with
// curl, through <(…)) cannot be read twice, so it is refused with exit 2
// before anything is sent, not checked whole and then left unapplied.
func TestAPlanFromAPipeIsExit2(t *testing.T) {
	w := newWorld(t, 2, 4)
	w.env(t)
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.jsonl")
	if code, out, errOut := w.run(t, context.Background(), "", append([]string{"-older-than", "30d", "-plan", plan}, w.identities()...)...); code != 0 {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	body, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	go func() {
		// The writer's open blocks until the tool opens the pipe; a tool
		// that never does leaves this goroutine to the test's end.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Write(body)
			f.Close()
		}
	}()
	before := w.srv.Stats().Requests
	code, out, errOut := w.run(t, context.Background(), "", "-apply", "-from-plan", fifo)
	if code != 2 || !strings.Contains(errOut, "not a pipe") {
		t.Errorf("a plan from a pipe: exit %d, want 2 saying to save it to a file\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if n := w.srv.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent for a plan that was refused", n)
	}
}

// TestFIFOsWithNobodyAtTheOtherEndAreExit2: -state, -audit or -from-plan
// naming a FIFO that no process writes or reads is refused at once with
// exit 2 and a message, before anything is sent; a plain open would wait
// for the other end for ever, deaf to SIGTERM.
func TestFIFOsWithNobodyAtTheOtherEndAreExit2(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.env(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	cases := map[string][]string{
		"-state":     {"-older-than", "30d", "-apply", "-state", fifo, w.identities()[0]},
		"-audit":     {"-older-than", "30d", "-apply", "-audit", fifo, w.identities()[0]},
		"-from-plan": {"-apply", "-from-plan", fifo},
	}
	for flag, args := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		code, out, errOut := w.run(t, ctx, "", args...)
		cancel()
		if code != 2 || !strings.Contains(errOut, fifo) || !strings.Contains(errOut, "FIFO") && !strings.Contains(errOut, "pipe") {
			t.Errorf("%s naming a FIFO nobody uses: exit %d, want 2 with a message naming it\nstdout:\n%s\nstderr:\n%s", flag, code, out, errOut)
		}
	}
	if n := w.srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestASignalWinsOverFailedRemovals: a run with failed removals that is then
// interrupted exits with the signal's status (130 for SIGINT), not 1, and
// its summary still counts the failures, as the exit-status table says.
func TestASignalWinsOverFailedRemovals(t *testing.T) {
	w := newWorld(t, 1, 40) // 20 stale
	w.env(t)
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 403, Times: 3})
	w.srv.SetLatency(5 * time.Millisecond)
	code, out, errOut := w.run(t, w.cancelAfter(t, 5), "", "-older-than", "30d", "-apply", "-concurrency", "1", w.identities()[0])
	if s := parseSummary(t, out); code != 130 || s.failed != 3 || s.removed < 5 || s.removed >= 17 {
		t.Fatalf("exit %d, summary %+v; want 130 with the 3 failures counted\n%s\n%s", code, s, tail(out), tail(errOut))
	}
}
