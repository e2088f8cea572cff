package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestAnAuditFIFOWithASlowReaderGetsEveryLine: an -audit FIFO with a slow
// reader and a small, full pipe buffer gets every line, and no write fails.
func TestAnAuditFIFOWithASlowReaderGetsEveryLine(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "audit")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := openAudit(fifo)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, w.(*os.File).Fd(), 1031 /* F_SETPIPE_SZ */, 4096)
	line := append(bytes.Repeat([]byte("x"), 299), '\n')
	const n = 400
	got := make(chan int, 1)
	go func() {
		total, buf := 0, make([]byte, 512)
		for total < n*len(line) {
			time.Sleep(time.Millisecond)
			k, err := r.Read(buf)
			total += k
			if err != nil && err != io.EOF && !os.IsTimeout(err) {
				if k == 0 {
					continue
				}
			}
		}
		got <- total
	}()
	for i := 0; i < n; i++ {
		if k, err := w.Write(line); err != nil || k != len(line) {
			t.Fatalf("write %d: %d, %v", i, k, err)
		}
	}
	w.Close()
	if total := <-got; total != n*len(line) {
		t.Errorf("read %d of %d", total, n*len(line))
	}
}
