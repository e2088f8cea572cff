package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"sync"
)

// Users is a stream of users (US… SIDs or identities): the arguments, or
// the lines of a file, or of standard input. It is read as it is used, so a
// file of a million users costs a buffer, not a million strings.
type Users struct {
	args   []string
	sc     *bufio.Scanner
	from   string // where the lines come from, for errors
	line   int    // lines read so far
	ended  bool   // Scan returned false: never call it again
	closer io.Closer
	read   int
}

// MaxLine is the longest line a users file may have: a user's name.
const MaxLine = 1 << 20

// OpenUsers returns the users a tool should work on: its arguments, else
// the lines of file ("-" for standard input), else the lines of standard
// input when it is a pipe or a file, else fallback (the emulator's demo
// users). Blank lines and lines starting with "#" are skipped; nothing else
// is trimmed, since an identity may hold any character.
func OpenUsers(args []string, file string, stdin io.Reader, fallback []string) (*Users, error) {
	u := &Users{args: args}
	switch {
	case len(args) > 0:
	case file == "-":
		u.sc, u.from = bufio.NewScanner(stdin), "standard input"
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, Usagef("-file: %v", err)
		}
		u.sc, u.closer, u.from = bufio.NewScanner(f), f, "-file "+file
	case stdin != nil && !IsTerminal(stdin):
		u.sc, u.from = bufio.NewScanner(stdin), "standard input"
	}
	if u.sc != nil {
		u.sc.Buffer(make([]byte, 64<<10), MaxLine)
		first, ok := u.next()
		switch {
		case ok:
			u.args = []string{first}
		case u.sc.Err() == nil:
			u.sc = nil // an empty input: the fallback, if any
		}
	}
	if u.sc == nil && len(u.args) == 0 {
		u.args = fallback
	}
	if len(u.args) == 0 && u.sc == nil {
		u.Close()
		return nil, Usagef("no users: name them as arguments, with -file, one per line on standard input, or walk them all with -all-users")
	}
	return u, nil
}

// next returns the next line that names a user. Once Scan has stopped it is
// never called again: after ErrTooLong, bufio.Scanner would hand out the
// line read so far as if it were a whole one.
func (u *Users) next() (string, bool) {
	for !u.ended && u.sc.Scan() {
		u.line++
		line := strings.TrimSuffix(u.sc.Text(), "\r")
		if line != "" && !strings.HasPrefix(line, "#") {
			return line, true
		}
	}
	u.ended = true
	return "", false
}

// Next returns the next user, or false at the end.
func (u *Users) Next() (string, bool) {
	if u.read < len(u.args) {
		u.read++
		return u.args[u.read-1], true
	}
	if u.sc == nil {
		return "", false
	}
	line, ok := u.next()
	if ok {
		u.read++
	}
	return line, ok
}

// Err is the error that ended the stream early, if any. A line longer
// than MaxLine ends it before any of the line is used, with an error that
// names the line.
func (u *Users) Err() error {
	if u.sc == nil || u.sc.Err() == nil {
		return nil
	}
	if errors.Is(u.sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("reading users: line %d of %s is longer than 1 MiB, more than any user's name: no user from it on was used; fix the line, then run again", u.line+1, u.from)
	}
	return fmt.Errorf("reading users from %s after line %d: %w", u.from, u.line, u.sc.Err())
}

// All is the stream as an iterator, for a cleanup job. It ends early at
// an error (see Err), before any of the line it could not read is used.
func (u *Users) All() iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			user, ok := u.Next()
			if !ok || !yield(user) {
				return
			}
		}
	}
}

// Close closes the file the users come from.
func (u *Users) Close() error {
	if u.closer != nil {
		return u.closer.Close()
	}
	return nil
}

// IsTerminal reports whether v is an *os.File open on a terminal.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Indexed returns the stream as a function that gives each user with its
// position in the stream, from 0, for EachUser.
func (u *Users) Indexed() func() (int, string, bool) {
	i := 0
	return func() (int, string, bool) {
		user, ok := u.Next()
		i++
		return i - 1, user, ok
	}
}

// EachUser calls fn with each user next gives (and its index) on up to n
// goroutines at once, until next has no more or ctx is done, and waits for
// them. It returns how many users were handed to fn.
func EachUser(ctx context.Context, next func() (int, string, bool), n int, fn func(ctx context.Context, index int, user string)) int {
	work := make(chan struct {
		i int
		u string
	})
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range work {
				fn(ctx, job.i, job.u)
			}
		}()
	}
	started := 0
feed:
	for ctx.Err() == nil {
		i, user, ok := next()
		if !ok {
			break
		}
		select {
		case work <- struct {
			i int
			u string
		}{i, user}:
			started++
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return started
}
