package cli

import (
	"context"
	"errors"
	"fmt"
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
// *Interrupted as its cause, and the function that stops listening.
func WithSignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(&Interrupted{Signal: s})
		case <-done:
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
