package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// startProgress reports progress on w until the returned function is
// called: redrawn in place four times a second on a terminal (tty), one line
// every interval otherwise (a log file should not fill with carriage
// returns).
func startProgress(c *cleaner, w io.Writer, tty bool, interval time.Duration) (stop func()) {
	if tty {
		interval = 250 * time.Millisecond
	}
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
				if tty {
					fmt.Fprintf(w, "\r%s ", c.progressLine())
				} else {
					fmt.Fprintln(w, c.progressLine())
				}
			case <-done:
				if tty {
					fmt.Fprintf(w, "\r%s\n", c.progressLine())
				}
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func (c *cleaner) progressLine() string {
	elapsed := time.Since(c.start)
	rate := float64(c.removed.Load()) / max(elapsed.Seconds(), 1e-9)
	return fmt.Sprintf("progress: scanned %d  matched %d  removed %d  gone %d  failed %d  %.0f removals/s  %s",
		c.scanned.Load(), c.matched.Load(), c.removed.Load(), c.gone.Load(), c.failed.Load(), rate, elapsed.Round(time.Second))
}
