package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/proctest"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

// BenchmarkMillionUsersPeakRSS runs the built program over a file of
// 1,000,000 users (one in a hundred with two bindings, one of them stale)
// with -apply -rate 0 -concurrency 64 and a journal (-state), while the
// emulator holds each request for the first user's bindings (its listing,
// its re-check, its DELETE) for 20 s: the first user is unfinished for
// about a minute, all or most of the run. It reports the program's peak
// resident memory over the whole run against the bound of 64 MiB, the peak
// until the first user was done, and the share of the other users' stale
// bindings removed by then: names are streamed, never held, however long
// the first user takes; the job keeps 8 bytes of hash per user (in 10 to
// 15 of table) and 16 per stale binding.
//
//	go test ./examples/cleanup-stale-bindings -run '^$' -bench MillionUsers -benchtime 1x
func BenchmarkMillionUsersPeakRSS(b *testing.B) {
	const users, bound = 1_000_000, 64 << 10 // KiB
	bin := buildTool(b)
	dir := b.TempDir()
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	held := map[int]*chattest.User{} // the users with bindings
	file := filepath.Join(dir, "users.txt")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < users; i++ {
		id := fmt.Sprintf("user-%07d", i)
		u := svc.AddUser(id)
		if i%100 == 0 {
			held[i] = u
			u.AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-60 * 24 * time.Hour)})
			u.AddBinding(chattest.Binding{})
		}
		fmt.Fprintln(w, id)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	wld := &world{srv: srv, svc: svc, base: srv.URL}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i > 0 { // stale again, for this iteration
			for k := 0; k < users; k += 100 {
				held[k].AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-60 * 24 * time.Hour)})
			}
		}
		srv.Inject(chattest.Fault{PathPrefix: "/v2/Services/" + svc.SID + "/Users/user-0000000/", Latency: 20 * time.Second, Times: 3})
		state := filepath.Join(dir, fmt.Sprintf("run%d.state", i))
		cmd := wld.command(bin, "-older-than", "30d", "-apply", "-concurrency", "64", "-file", file, "-state", state, "-progress", "10s")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		removedBefore := srv.Stats().Removed
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		peak := proctest.PeakRSS(cmd.Process.Pid, 20*time.Millisecond)
		var whileHeld, othersDone int64
		exited, released := make(chan struct{}), make(chan struct{})
		go func() { // until the first user's stale binding is removed: the peak, and how many others were done by then
			defer close(released)
			for len(held[0].Bindings()) == 2 {
				whileHeld = max(whileHeld, proctest.VmHWM(cmd.Process.Pid))
				othersDone = srv.Stats().Removed - removedBefore
				select {
				case <-exited:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		err := cmd.Wait()
		close(exited)
		<-released
		wall := time.Since(start)
		hwm := <-peak
		if err != nil || !strings.Contains(stdout.String(), "removed 10000, already gone 0") {
			b.Fatalf("%v\n%s\n%s", err, tail(stdout.String()), tail(stderr.String()))
		}
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(hwm)/bound, "peak/bound")
		b.ReportMetric(float64(whileHeld)/1024, "peak-RSS-first-user-held-MiB")
		b.ReportMetric(float64(othersDone)/(users/100-1), "others-done-while-held")
		b.ReportMetric(wall.Seconds(), "wall-s")
	}
}
