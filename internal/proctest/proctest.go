// Package proctest is what the tools' tests share to run a tool as a real
// process: build it once per test binary, and watch its peak memory.
//
// It is imported only by tests; nothing in the library depends on it.
package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Binary is a program built once, on first use.
type Binary struct {
	// Name is the file name the program is built as.
	Name string
	// Dir is the main package's directory; "" is the test's working
	// directory, which is the package under test.
	Dir string

	once      sync.Once
	dir, path string
	err       error
}

// TB is the part of testing.TB that Build needs.
type TB interface {
	Helper()
	Fatal(args ...any)
}

// Build compiles the program the first time it is asked for and returns its
// path; a failed build fails every test that asks, with go build's output.
func (b *Binary) Build(t TB) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", b.Name+"-test-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, b.Name)
		cmd := exec.Command("go", "build", "-o", b.path, ".")
		cmd.Dir = b.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Remove deletes what Build made; TestMain calls it after the tests run.
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// PeakRSS samples a running process's peak resident memory, in KiB, every
// interval until the process is gone, then sends the highest value seen
// (0 where /proc is not there). It reads the child's own /proc status:
// rusage's Maxrss would count the parent's pages too, as Go starts children
// with vfork.
func PeakRSS(pid int, every time.Duration) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		for {
			kb := VmHWM(pid)
			if kb == 0 {
				out <- peak
				return
			}
			peak = max(peak, kb)
			time.Sleep(every)
		}
	}()
	return out
}

// VmHWM is a process's peak resident set in KiB, or 0 when it is unknown
// (the process is gone, or there is no /proc).
func VmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb
		}
	}
	return 0
}
