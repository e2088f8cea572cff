package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

// BenchmarkScale cleans 2,000 users with 2 bindings each (one stale) on an
// emulator with 20 ms of latency, -apply -rate 0 -concurrency 16, per user
// and with -all-users, and reports the wall time against its bound: the
// requests sent × 20 ms / 16, what 16 requests always in flight would take.
//
//	go test ./examples/cleanup-stale-bindings -run '^$' -bench Scale -benchtime 1x
func BenchmarkScale(b *testing.B) {
	const latency, concurrency = 20 * time.Millisecond, 16
	for _, mode := range []string{"per-user", "all-users"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				w := newWorld(b, 2000, 2)
				w.env(b)
				w.srv.SetLatency(latency)
				args := w.args("-older-than", "720h", "-apply", "-concurrency", "16")
				stdin := ""
				if mode == "all-users" {
					args = append(args, "-all-users")
				} else {
					args = append(args, "-file", "-")
					stdin = joinLines(w.identities())
				}
				start := time.Now()
				code := run(context.Background(), args, stringReader(stdin), io.Discard, io.Discard)
				wall := time.Since(start)
				st := w.srv.Stats()
				if code != 0 || st.Removed != 2000 {
					b.Fatalf("exit %d, stats %+v", code, st)
				}
				bound := time.Duration(st.Requests) * latency / concurrency
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(float64(st.Requests), "requests")
				b.ReportMetric(bound.Seconds(), "bound-s")
				b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
			}
		})
	}
}

// BenchmarkWriteBudget removes 600 stale bindings against the live API's
// limits (30 writes a second per service over a 5 s window), 20 ms of
// latency, -concurrency 16: at -rate 25 (under the budget) and -rate 60
// (twice it, adapting on 429s). It reports removals per second, their
// fraction of the rate asked for (of the budget for -rate 60), and the
// DELETEs answered 429.
//
//	go test ./examples/cleanup-stale-bindings -run '^$' -bench WriteBudget -benchtime 1x
func BenchmarkWriteBudget(b *testing.B) {
	for _, tc := range []struct {
		rate   string
		target float64
	}{{"25", 25}, {"60", 30}} {
		b.Run("rate-"+tc.rate, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				w := newWorld(b, 60, 20) // 600 stale
				w.env(b)
				w.srv.SetLimits(chattest.RealLimits())
				w.srv.SetLatency(20 * time.Millisecond)
				args := []string{"-service", w.svc.SID, "-base-url", w.base, "-rate", tc.rate, "-older-than", "720h", "-apply", "-concurrency", "16", "-file", "-"}
				start := time.Now()
				code := run(context.Background(), args, stringReader(joinLines(w.identities())), io.Discard, io.Discard)
				elapsed := time.Since(start)
				st := w.srv.Stats()
				if code != 0 || st.Removed != 600 {
					b.Fatalf("exit %d, stats %+v", code, st)
				}
				rate := 600 / elapsed.Seconds()
				deletes := st.Removed + st.RemoveMisses + st.RefusedWrites
				b.ReportMetric(rate, "removals/s")
				b.ReportMetric(rate/tc.target, "fraction-of-target")
				b.ReportMetric(float64(st.RefusedWrites), "429s")
				b.ReportMetric(float64(st.RefusedWrites)/float64(deletes), "429-fraction")
			}
		})
	}
}
