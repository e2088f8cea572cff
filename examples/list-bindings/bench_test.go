package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// BenchmarkScale lists 2,000 users with 2 bindings each from an emulator
// with 20 ms of latency, -concurrency 16, per user and with -all-users, and
// reports the wall time against its bound. Per user, the bound is the
// requests sent × 20 ms / 16. The service-wide walk cannot go wider than one
// page at a time (each page's URL comes from the one before), so its bound
// is its pages × 20 ms; it sends 40 times fewer requests.
//
//	go test ./examples/list-bindings -run '^$' -bench Scale -benchtime 1x
func BenchmarkScale(b *testing.B) {
	const latency, concurrency = 20 * time.Millisecond, 16
	var ids []string
	for i := 0; i < 2000; i++ {
		ids = append(ids, fmt.Sprintf("user %d/ops@example.com", i))
	}
	for _, mode := range []string{"per-user", "all-users"} {
		b.Run(mode, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				w := newWorld(b, 2, ids...)
				w.env(b)
				w.srv.SetLatency(latency)
				args := w.args("-concurrency", "16", "-json")
				stdin := ""
				if mode == "all-users" {
					args = append(args, "-all-users")
				} else {
					args = append(args, "-file", "-")
					stdin = strings.Join(ids, "\n")
				}
				var errOut strings.Builder
				start := time.Now()
				code := run(context.Background(), args, strings.NewReader(stdin), io.Discard, &errOut)
				wall := time.Since(start)
				requests := w.srv.Stats().Requests
				if code != 0 || !strings.Contains(errOut.String(), "4000 binding(s)") {
					b.Fatalf("exit %d: %s", code, errOut.String())
				}
				bound := time.Duration(requests) * latency / concurrency
				if mode == "all-users" {
					bound = time.Duration(requests) * latency
				}
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(float64(requests), "requests")
				b.ReportMetric(bound.Seconds(), "bound-s")
				b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
			}
		})
	}
}
