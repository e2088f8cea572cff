package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/proctest"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// BenchmarkMillionUsersPeakRSS runs the built program over a file of
// 1,000,000 users (one in a hundred with two bindings, the rest with none)
// at -concurrency 64, and reports its peak resident memory, its CPU time
// per thousand requests and its wall time: users are streamed, so the
// memory is that of the connections and buffers, not of the file.
//
//	go test ./examples/list-bindings -run '^$' -bench MillionUsers -benchtime 1x
func BenchmarkMillionUsersPeakRSS(b *testing.B) {
	const users = 1_000_000
	dir := b.TempDir()
	bin := buildTool(b)
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	file := filepath.Join(dir, "users.txt")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < users; i++ {
		id := fmt.Sprintf("user-%07d@example.com", i)
		u := svc.AddUser(id)
		if i%100 == 0 {
			u.AddBinding(chattest.Binding{})
			u.AddBinding(chattest.Binding{})
		}
		fmt.Fprintln(w, id)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "-service", svc.SID, "-base-url", srv.URL, "-file", file, "-json", "-concurrency", "64")
		cmd.Env = append(os.Environ(), client.EnvAccountSID+"="+srv.AccountSID, client.EnvAuthToken+"="+srv.AuthToken, client.EnvAPIKey+"=", client.EnvAPISecret+"=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = nil // discarded
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		peak := proctest.PeakRSS(cmd.Process.Pid, 20*time.Millisecond)
		err := cmd.Wait()
		wall := time.Since(start)
		hwm := <-peak
		if err != nil || !strings.Contains(stderr.String(), fmt.Sprintf("20000 binding(s) for %d user(s)", users)) {
			b.Fatalf("%v: %s", err, stderr.String())
		}
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
		b.ReportMetric(cpu.Seconds()*1e6/users, "cpu-ms/1000-requests")
		b.ReportMetric(wall.Seconds(), "wall-s")
	}
}
