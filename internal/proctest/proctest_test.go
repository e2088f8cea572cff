package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVmHWMOfThisProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this platform")
	}
	if kb := VmHWM(os.Getpid()); kb <= 0 {
		t.Fatalf("VmHWM of this process = %d KiB, want > 0", kb)
	}
	if kb := VmHWM(-1); kb != 0 {
		t.Fatalf("VmHWM of no process = %d, want 0", kb)
	}
}

func TestPeakRSSEndsWithTheProcess(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this platform")
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep program")
	}
	cmd := exec.Command(sleep, "0.3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := PeakRSS(cmd.Process.Pid, time.Millisecond)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// A waited-for child is reaped, so its /proc entry goes and the watch
	// must end; a watch that never ends hangs this test.
	if kb := <-peak; kb <= 0 {
		t.Fatalf("peak RSS of sleep = %d KiB, want > 0", kb)
	}
}

type fatal struct{ msg []any }

func (f *fatal) Helper()           {}
func (f *fatal) Fatal(args ...any) { f.msg = args }

// program writes a module whose main package is src.
func program(t *testing.T, src string) string {
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": "module example.com/p\n\ngo 1.23\n", "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildOnceAndRemove(t *testing.T) {
	t.Parallel()
	b := &Binary{Name: "hello", Dir: program(t, "package main\n\nfunc main() { println(\"hello\") }\n")}
	var f fatal
	first := b.Build(&f)
	if f.msg != nil {
		t.Fatal(f.msg...)
	}
	out, err := exec.Command(first).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("built program said %q, %v", out, err)
	}
	if again := b.Build(&f); again != first {
		t.Fatalf("second Build = %q, want the first build %q", again, first)
	}
	b.Remove()
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Fatalf("after Remove the program is still there: %v", err)
	}
}

func TestBuildFailureFailsEveryAsker(t *testing.T) {
	t.Parallel()
	b := &Binary{Name: "broken", Dir: program(t, "package main\n\nfunc main() { undefined() }\n")}
	defer b.Remove()
	for i := 0; i < 2; i++ {
		var f fatal
		b.Build(&f)
		if f.msg == nil || !strings.Contains(fmt.Sprint(f.msg...), "undefined") {
			t.Fatalf("ask %d: a failed build gave %v, want go build's error", i+1, f.msg)
		}
	}
}
