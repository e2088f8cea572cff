package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func collectUsers(u *Users) []string {
	var out []string
	for {
		user, ok := u.Next()
		if !ok {
			return out
		}
		out = append(out, user)
	}
}

func TestOpenUsers(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(file, []byte("alice\r\n# comment\n\n bob with spaces \nUS0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("# nothing\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := []string{"alice", " bob with spaces ", "US0123456789abcdef0123456789abcdef"}
	cases := []struct {
		name     string
		args     []string
		file     string
		stdin    string
		fallback []string
		want     []string
		wantErr  bool
	}{
		{"arguments", []string{"x", "y"}, "", "z\n", nil, []string{"x", "y"}, false},
		{"file", nil, file, "z\n", nil, fromFile, false},
		{"dash is stdin", nil, "-", "z\nw\n", nil, []string{"z", "w"}, false},
		{"piped stdin", nil, "", "z\n", nil, []string{"z"}, false},
		{"fallback", nil, "", "", []string{"demo"}, []string{"demo"}, false},
		{"an empty file falls back", nil, empty, "", []string{"demo"}, []string{"demo"}, false},
		{"nothing", nil, "", "", nil, nil, true},
		{"missing file", nil, file + ".nope", "", nil, nil, true},
	}
	for _, tc := range cases {
		u, err := OpenUsers(tc.args, tc.file, strings.NewReader(tc.stdin), tc.fallback)
		if tc.wantErr {
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Errorf("%s: err = %v, want a usage error", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := collectUsers(u); !reflect.DeepEqual(got, tc.want) || u.Err() != nil {
			t.Errorf("%s: %q, %v", tc.name, got, u.Err())
		}
		u.Close()
	}
}

// TestUsersAreStreamed reads users from a reader that fails the test if
// more is read than the lines asked for (plus a buffer): a million-line
// file is never held.
func TestUsersAreStreamed(t *testing.T) {
	t.Parallel()
	r := &countingReader{total: 1_000_000}
	u, err := OpenUsers(nil, "-", r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, ok := u.Next(); !ok {
			t.Fatal("stream ended early")
		}
	}
	if r.read > 128<<10 {
		t.Fatalf("%d bytes read for 10 users: the stream is not streamed", r.read)
	}
	n := 10 + len(collectUsers(u))
	if n != 1_000_000 || u.Err() != nil {
		t.Fatalf("%d users, %v", n, u.Err())
	}
}

// countingReader yields total lines "user-N\n" and counts bytes read.
type countingReader struct {
	total, next int
	read        int
	pending     []byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	for len(c.pending) < len(p) && c.next < c.total {
		c.pending = append(c.pending, []byte("user-"+strings.Repeat("x", 3)+"\n")...)
		c.next++
	}
	if len(c.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	c.read += n
	return n, nil
}

func TestEachUserBoundsConcurrencyAndStops(t *testing.T) {
	t.Parallel()
	u, _ := OpenUsers([]string{"a", "b", "c", "d", "e", "f", "g", "h"}, "", nil, nil)
	var mu sync.Mutex
	running, peak := 0, 0
	var seen []int
	release := make(chan struct{})
	go func() { close(release) }()
	n := EachUser(context.Background(), u.Indexed(), 3, func(_ context.Context, i int, user string) {
		mu.Lock()
		running++
		peak = max(peak, running)
		seen = append(seen, i)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
	})
	if n != 8 || len(seen) != 8 || peak > 3 {
		t.Fatalf("%d handed out, %d seen, peak %d", n, len(seen), peak)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u2, _ := OpenUsers([]string{"a", "b", "c", "d", "e", "f"}, "", nil, nil)
	n = EachUser(ctx, u2.Indexed(), 1, func(context.Context, int, string) { cancel() })
	if n > 2 {
		t.Fatalf("%d users handed out after the context ended", n)
	}
}

// TestALineTooLongEndsTheStream: a line longer than MaxLine ends the
// stream before any of it is used, as the first line or a later one, with
// an error naming the line.
func TestALineTooLongEndsTheStream(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxLine+1)
	for _, tc := range []struct {
		input string
		want  []string
		line  string
	}{
		{long + "\nalice\n", nil, "line 1 of"},
		{"alice\n# a comment\n\nbob\n" + long + "\ncarol\n", []string{"alice", "bob"}, "line 5 of"},
	} {
		file := filepath.Join(t.TempDir(), "users.txt")
		if err := os.WriteFile(file, []byte(tc.input), 0o600); err != nil {
			t.Fatal(err)
		}
		u, err := OpenUsers(nil, file, nil, []string{"demo"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for user := range u.All() {
			got = append(got, user)
		}
		stopped := u.Err()
		u.Close()
		for _, user := range got {
			if len(user) > 10 {
				t.Fatalf("a piece of %d bytes of the long line was given as a user", len(user))
			}
		}
		if _, ok := u.Next(); ok {
			t.Error("the stream went on after the long line")
		}
		if !reflect.DeepEqual(got, tc.want) || stopped == nil || !strings.Contains(stopped.Error(), tc.line+" -file "+file) ||
			!strings.Contains(stopped.Error(), "longer than 1 MiB") {
			t.Errorf("users %q, stopped with %v", got, stopped)
		}
	}
}
