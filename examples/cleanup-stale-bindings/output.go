package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// printer writes the outcomes to stdout as they are decided, one Write per
// line and nothing buffered, so that each is on the terminal (or in the
// pipe) the moment it is decided. The first write that fails stops the
// run: an operator who cannot see the decisions must not have more made.
type printer struct {
	w      io.Writer
	json   bool
	plan   bool        // the bindings come from a plan
	failed func(error) // called once, with the first write error

	mu  sync.Mutex
	err error
}

// stopped is why the tool stopped a job (stdout could not be written), or
// why a job stopped short (the users could not be read).
type stopped struct{ err error }

func (e *stopped) Error() string { return e.err.Error() }
func (e *stopped) Unwrap() error { return e.err }

func (p *printer) write(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	if _, err := p.w.Write(b); err != nil {
		p.err = &stopped{fmt.Errorf("writing to stdout: %w (the run stopped: decisions that cannot be shown are not made)", err)}
		p.failed(p.err)
	}
}

func (p *printer) printf(format string, args ...any) { p.write([]byte(fmt.Sprintf(format, args...))) }

// outcome prints one decision; the job calls it one at a time.
func (p *printer) outcome(o cleanup.Outcome) {
	if p.json {
		rec := cleanup.AuditRecord{Time: time.Now().UTC(), SID: string(o.SID), User: o.User, Identity: o.Identity, BindingType: string(o.Type),
			DateUpdated: o.Updated, Outcome: o.Result.String(), RequestID: o.RequestID}
		if o.Err != nil {
			rec.Error = o.Err.Error()
		}
		b, _ := json.Marshal(rec)
		p.write(append(b, '\n'))
		return
	}
	typ, updated := cli.Printable(string(o.Type)), "unknown" // a removal an earlier run sent as it died
	if !o.Updated.IsZero() {
		updated = o.Updated.Format(time.RFC3339)
	}
	switch {
	case o.Result == cleanup.WouldRemove:
		p.printf("would remove %s  %-4s updated %s  %s\n", o.SID, typ, updated, who(o))
	case o.Result == cleanup.Removed:
		p.printf("removed %s  %-4s updated %s  %s\n", o.SID, typ, updated, who(o))
	case o.Result == cleanup.AlreadyGone:
		p.printf("already gone %s  %s\n", o.SID, who(o))
	case o.Result == cleanup.Kept:
		p.printf("kept %s  refreshed: updated %s  %s\n", o.SID, updated, who(o))
	case o.SID != "":
		p.printf("failed %s  %s: %v\n", o.SID, who(o), o.Err)
	case o.User != "":
		p.printf("failed to list user %q: %v\n", o.User, o.Err)
	case p.plan:
		p.printf("failed to read the plan: %v\n", o.Err)
	default:
		p.printf("failed to list the service's bindings: %v\n", o.Err)
	}
}

// who names a binding's user for output.
func who(o cleanup.Outcome) string {
	if o.User != "" {
		return fmt.Sprintf("user %q", o.User)
	}
	return fmt.Sprintf("identity %q", o.Identity)
}

// summary prints the run's counts: the last line of stdout, or with -json
// its last object, {"summary":{…}}.
func (p *printer) summary(r cleanup.Report, dryRun bool, interrupted, plan string, code int, err error) {
	if p.json {
		s := map[string]any{"dry_run": dryRun, "scanned": r.Scanned, "matched": r.Matched, "would_remove": r.WouldRemove, "removed": r.Removed,
			"already_gone": r.AlreadyGone, "kept_refreshed": r.Kept, "failed": r.Failed, "not_done": r.NotDone, "not_listed": r.ListFailed,
			"skipped": r.Skipped, "cutoff": r.Cutoff, "elapsed_seconds": r.Elapsed.Seconds(), "exit_status": code}
		for k, v := range map[string]string{"interrupted": interrupted, "plan": plan} {
			if v != "" {
				s[k] = v
			}
		}
		if err != nil {
			s["error"] = err.Error()
		}
		b, _ := json.Marshal(map[string]any{"summary": s})
		p.write(append(b, '\n'))
		return
	}
	if interrupted != "" {
		p.printf("Interrupted (%s): no new listings or removals were started; removals in flight finished.\n", interrupted)
	}
	if dryRun {
		s := fmt.Sprintf("Dry run: scanned %d, matched %d (would remove %d); nothing was removed.", r.Scanned, r.Matched, r.WouldRemove)
		switch {
		case plan != "" && (interrupted != "" || err != nil):
			s += fmt.Sprintf(" Plan written to %s with what was found before the run stopped.", plan)
		case plan != "":
			s += fmt.Sprintf(" Plan written to %s: remove exactly these with -apply -from-plan %s.", plan, plan)
		case r.WouldRemove > 0:
			s += " Run again with -apply to remove them."
		}
		if r.ListFailed > 0 {
			s += fmt.Sprintf(" Not listed: %d.", r.ListFailed)
		}
		p.printf("%s\n", s)
		return
	}
	s := fmt.Sprintf("Summary: scanned %d, matched %d, removed %d, already gone %d, kept (refreshed) %d, failed %d",
		r.Scanned, r.Matched, r.Removed, r.AlreadyGone, r.Kept, r.Failed)
	if r.NotDone > 0 {
		s += fmt.Sprintf(", not done %d", r.NotDone)
	}
	if r.ListFailed > 0 {
		s += fmt.Sprintf(", not listed %d", r.ListFailed)
	}
	p.printf("%s; %s.\n", s, r.Elapsed.Round(time.Millisecond))
}

// startProgress reports progress on w until the returned function is
// called: redrawn in place four times a second on a terminal, one line
// every interval otherwise (a log file should not fill with carriage
// returns).
func startProgress(job *cleanup.Job, c *client.Client, w io.Writer, tty bool, interval time.Duration) (stop func()) {
	line := func() string { return progressLine(job.Progress(), c.Stats(), c.CurrentRate()) }
	format := "%s\n"
	if tty {
		interval, format = 250*time.Millisecond, "\r%s "
	}
	done, gone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(gone)
		for t := time.NewTicker(interval); ; {
			select {
			case <-t.C:
				fmt.Fprintf(w, format, line())
			case <-done:
				t.Stop()
				return
			}
		}
	}()
	return func() {
		close(done)
		<-gone
		if tty {
			fmt.Fprintf(w, "\r%s\n", line())
		}
	}
}

// progressLine is the job's counts, the rate of removals, and what the
// client met: retries, 429s and 5xx answers, and time waited for the rate
// limit, so that a 429 storm shows as such.
func progressLine(r cleanup.Report, st client.Stats, limit float64) string {
	rate := float64(r.Removed) / max(r.Elapsed.Seconds(), 1e-9)
	lim := "no limit"
	if limit > 0 {
		lim = fmt.Sprintf("limit %.1f/s", limit)
	}
	return fmt.Sprintf("progress: scanned %d  matched %d  removed %d  gone %d  kept %d  failed %d  %.1f removals/s (%s)  requests %d  retries %d  429s %d  5xx %d  waited %s  %s",
		r.Scanned, r.Matched, r.Removed, r.AlreadyGone, r.Kept, r.Failed, rate, lim,
		st.Attempts, st.Retries, st.RateLimited, st.ServerErrors, st.Waited.Round(100*time.Millisecond), r.Elapsed.Round(time.Second))
}
