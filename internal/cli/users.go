package cli

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
)

// Users returns the users a tool should work on: its arguments, else the
// lines of file ("-" for standard input), else the lines of standard input
// when it is a pipe or a file, else fallback (the emulator's demo users).
// Blank lines and lines starting with "#" are skipped; nothing else is
// trimmed, since an identity may hold any character.
func Users(args []string, file string, stdin io.Reader, fallback []string) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	var r io.Reader
	switch {
	case file == "-":
		r = stdin
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	case stdin != nil && !IsTerminal(stdin):
		r = stdin
	}
	var users []string
	if r != nil {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			users = append(users, line)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	if len(users) == 0 {
		users = fallback
	}
	if len(users) == 0 {
		return nil, errors.New("no users: name them as arguments, with -file, or one per line on standard input")
	}
	return users, nil
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
