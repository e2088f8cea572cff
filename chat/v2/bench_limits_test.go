package chat_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// BenchmarkWriteBudget removes 600 bindings at concurrency 16 from the
// emulator with the live API's limits on (a write budget of 30 per second
// per service over a 5 s sliding window) and 20 ms of latency, with the
// client's default retries and no client-side limit, a fixed limit of 25/s,
// and an adaptive limit capped at 60/s. It reports the removals per second, their fraction of the target
// (25/s for the fixed limit, the budget's 30/s otherwise), and the DELETEs
// answered 429, in number and as a fraction of all DELETEs sent.
//
//	go test ./chat/v2 -run '^$' -bench WriteBudget -benchtime 1x
func BenchmarkWriteBudget(b *testing.B) {
	cases := []struct {
		name   string
		limit  *client.RateLimit
		target float64
	}{
		{"none", nil, 30},
		{"fixed-25", &client.RateLimit{PerSecond: 25, WritesOnly: true}, 25},
		{"adaptive-60", &client.RateLimit{PerSecond: 60, Adaptive: true, WritesOnly: true}, 30},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				m := removeUnderBudget(b, 600, 16, chattest.RealLimits(), 20*time.Millisecond, tc.limit)
				b.ReportMetric(m.rate, "removals/s")
				b.ReportMetric(m.rate/tc.target, "fraction-of-target")
				b.ReportMetric(float64(m.refused), "429s")
				b.ReportMetric(float64(m.refused)/float64(m.deletes), "429-fraction")
				b.ReportMetric(m.finalRate, "final-client-rate")
			}
		})
	}
}

type budgetRun struct {
	rate             float64
	refused, deletes int64
	finalRate        float64
}

// removeUnderBudget removes n bindings with workers goroutines from an
// emulator with limits and latency, as a cleanup job would: a removal that
// still meets 429 after the client's retries is tried again until it
// succeeds.
func removeUnderBudget(tb testing.TB, n, workers int, limits chattest.Limits, latency time.Duration, limit *client.RateLimit, opts ...client.Option) budgetRun {
	srv := chattest.NewServer()
	defer srv.Close()
	srv.SetLimits(limits)
	srv.SetLatency(latency)
	svc := srv.AddService()
	u := svc.AddUser("bench")
	var sids []string
	for i := 0; i < n; i++ {
		sids = append(sids, u.AddBinding(chattest.Binding{}))
	}
	if limit != nil {
		opts = append(opts, client.WithRateLimit(*limit))
	}
	c, err := srv.Client(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Bindings
	ctx := context.Background()
	var giveUps atomic.Int64
	rate := removeAll(tb, sids, workers, func(sid string) error {
		for {
			err := bindings(sid).Remove(ctx, chat.AcceptRetriedNotFound())
			if !client.IsRateLimited(err) {
				return err
			}
			giveUps.Add(1)
		}
	})
	st := srv.Stats()
	if left := len(u.Bindings()); left != 0 || st.Removed != int64(n) {
		tb.Fatalf("%d left, stats %+v", left, st)
	}
	return budgetRun{rate: rate, refused: st.RefusedWrites, deletes: st.Removed + st.RemoveMisses + st.RefusedWrites, finalRate: c.CurrentRate()}
}
