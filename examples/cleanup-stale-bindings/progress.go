package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// every calls tick every interval, on a goroutine of its own, until the
// returned function is called, which waits for it to be gone.
func every(interval time.Duration, tick func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				tick()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// startProgress reports progress on w until the returned function is
// called: redrawn in place four times a second on a terminal (tty), one line
// every interval otherwise (a log file should not fill with carriage
// returns).
func startProgress(c *cleaner, w io.Writer, tty bool, interval time.Duration) (stop func()) {
	if !tty {
		return every(interval, func() { fmt.Fprintln(w, c.progressLine()) })
	}
	stopTicks := every(250*time.Millisecond, func() { fmt.Fprintf(w, "\r%s ", c.progressLine()) })
	return func() {
		stopTicks()
		fmt.Fprintf(w, "\r%s\n", c.progressLine())
	}
}

func (c *cleaner) progressLine() string {
	elapsed := time.Since(c.start)
	rate := float64(c.removed.Load()) / max(elapsed.Seconds(), 1e-9)
	limit := "no limit"
	if r := c.env.Client.CurrentRate(); r > 0 {
		limit = fmt.Sprintf("limit %.1f/s", r)
	}
	return fmt.Sprintf("progress: scanned %d  matched %d  removed %d  gone %d  kept %d  failed %d  %.1f removals/s (%s)  %s",
		c.scanned.Load(), c.matched.Load(), c.removed.Load(), c.gone.Load(), c.kept.Load(), c.failed.Load(), rate, limit, elapsed.Round(time.Second))
}

// summary prints the run's counts; an interrupted run says what was not
// done.
func (c *cleaner) summary(w io.Writer, interrupted bool) {
	elapsed := time.Since(c.start).Round(time.Millisecond)
	if interrupted {
		fmt.Fprintln(w, "Interrupted: no new listings or removals were started; removals in flight finished.")
	}
	if !c.cfg.apply {
		fmt.Fprintf(w, "Dry run: scanned %d, matched %d (would remove %d); nothing was removed.", c.scanned.Load(), c.matched.Load(), c.matched.Load())
		if c.plan != nil && interrupted {
			fmt.Fprintf(w, " Plan written to %s with what was found before the interruption.", c.cfg.planFile)
		} else if c.plan != nil {
			fmt.Fprintf(w, " Plan written to %s: remove exactly these with -apply -from-plan %s.", c.cfg.planFile, c.cfg.planFile)
		} else {
			fmt.Fprint(w, " Run again with -apply to remove them.")
		}
		if n := c.listFailed.Load(); n > 0 {
			fmt.Fprintf(w, " Not listed: %d.", n)
		}
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "Summary: scanned %d, matched %d, removed %d, already gone %d, kept (refreshed) %d, failed %d",
		c.scanned.Load(), c.matched.Load(), c.removed.Load(), c.gone.Load(), c.kept.Load(), c.failed.Load())
	if n := c.notDone.Load(); n > 0 {
		fmt.Fprintf(w, ", not done %d", n)
	}
	if n := c.listFailed.Load(); n > 0 {
		fmt.Fprintf(w, ", not listed %d", n)
	}
	fmt.Fprintf(w, "; %s.\n", elapsed)
}
