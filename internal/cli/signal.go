package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Interrupted is why a tool stopped early: a signal, SIGINT (Ctrl-C) or
// SIGTERM (what Kubernetes and systemd send), both handled alike.
type Interrupted struct{ Signal os.Signal }

// Error names the signal.
func (e *Interrupted) Error() string { return "interrupted by " + signalName(e.Signal) }

// Name is the signal's name, such as SIGTERM.
func (e *Interrupted) Name() string { return signalName(e.Signal) }

// ExitCode is the shell's status for a process ended by the signal: 128
// and its number, 130 for SIGINT and 143 for SIGTERM.
func (e *Interrupted) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return fmt.Sprint(s)
}

// WithSignals returns a context that SIGINT or SIGTERM ends, with an
// *Interrupted as its cause, and the function that stops listening. A
// second signal exits the process at once, saying so on stderr, as a kill
// would: for an operator who will not wait for requests in flight.
func WithSignals(parent context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for first := true; ; first = false {
			select {
			case s := <-ch:
				in := &Interrupted{Signal: s}
				if first {
					cancel(in)
					continue
				}
				fmt.Fprintf(stderr, "%s again: exiting now, without waiting for requests in flight\n", in.Name())
				os.Exit(in.ExitCode())
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// InterruptedBy is the signal that ended ctx, or nil: a context cancelled
// otherwise (a test's) counts as SIGINT.
func InterruptedBy(ctx context.Context) *Interrupted {
	if ctx.Err() == nil {
		return nil
	}
	var in *Interrupted
	if errors.As(context.Cause(ctx), &in) {
		return in
	}
	return &Interrupted{Signal: os.Interrupt}
}
