package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// newPlan is a plan being written: to a temporary file beside it, linked
// into place at the end. A link fails when its name exists, so a file
// created at the plan's path during the run (by another run, or a person)
// is never overwritten.
type newPlan struct {
	path string
	tmp  *os.File
}

func createPlan(path string) (*newPlan, error) {
	switch _, err := os.Lstat(path); {
	case err == nil:
		return nil, cli.Usagef("-plan %s exists; give a new file (a plan is never overwritten)", path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, cli.Usagef("-plan: %v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, cli.Usagef("-plan %s cannot be written: %v", path, err)
	}
	return &newPlan{path: path, tmp: tmp}, nil
}

// finish puts the plan in place when whole is true (the job wrote its last
// line), and otherwise throws it away. A plan that cannot be put in place
// is left in its temporary file, which the error names.
func (p *newPlan) finish(whole bool) error {
	err := p.tmp.Sync()
	if cerr := p.tmp.Close(); err == nil {
		err = cerr
	}
	if !whole || err != nil {
		os.Remove(p.tmp.Name())
		if err != nil {
			return fmt.Errorf("-plan %s: %w: no plan was written", p.path, err)
		}
		return nil
	}
	if err := os.Link(p.tmp.Name(), p.path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("-plan %s was created by something else during the run, and is left as it is: this run's plan is in %s", p.path, p.tmp.Name())
		}
		return fmt.Errorf("-plan %s: %w: the plan is in %s", p.path, err, p.tmp.Name())
	}
	if err := os.Remove(p.tmp.Name()); err != nil {
		return fmt.Errorf("-plan %s is written, but its temporary file could not be removed: %w", p.path, err)
	}
	d, err := os.Open(filepath.Dir(p.path))
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	if err != nil {
		return fmt.Errorf("-plan %s is written, but its directory could not be synced: %w", p.path, err)
	}
	return nil
}

// openAudit opens the audit for appending (the job syncs it when it is a
// regular file, not a pipe or a terminal). It is opened without waiting: a
// FIFO that no process reads is refused at once, where a plain open would
// wait for a reader for ever, deaf to signals. Once open, a FIFO is put back
// in blocking mode (Fd does that), so that a slow reader slows the writes
// down rather than failing them, on every system.
func openAudit(path string) (io.WriteCloser, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	switch {
	case errors.Is(err, syscall.ENXIO):
		return nil, cli.Usagef("-audit %s cannot be opened for writing (a FIFO that nothing reads, or a socket): start its reader first, or give a file", path)
	case err != nil:
		return nil, cli.Usagef("-audit: %v", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		f.Fd()
	}
	return f, nil
}

// openPlan reads and checks the plan of -from-plan whole before anything is
// sent, and fills in the flags it was made with that were not given.
func openPlan(cfg *config, stderr io.Writer) (*cleanup.Plan, io.Closer, error) {
	// A plan is read twice (checked whole, then applied), so it is a file;
	// opening a FIFO would also wait for a writer for ever.
	if fi, err := os.Stat(cfg.fromPlan); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, cli.Usagef("-from-plan %s is not a regular file: give a file, not a pipe; save a piped plan to a file first", cfg.fromPlan)
	}
	f, err := os.Open(cfg.fromPlan)
	if err != nil {
		return nil, nil, cli.Usagef("-from-plan: %v", err)
	}
	p, err := cleanup.ReadPlan(f)
	if err != nil {
		f.Close()
		return nil, nil, cli.Usagef("-from-plan %s: %v", cfg.fromPlan, err)
	}
	if !cfg.olderThanSet {
		cfg.olderThan, _ = p.Header.OlderThanDuration() // ReadPlan checked it
	}
	if len(cfg.Types) == 0 {
		cfg.Types = p.Header.BindingTypes()
	}
	if !p.Finished {
		fmt.Fprintf(stderr, "warning: -from-plan %s is the plan of a dry run that did not finish: it names only what was found before it stopped\n", cfg.fromPlan)
	}
	return p, f, nil
}
