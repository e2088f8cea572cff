package chat_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

func seededEmulator(tb testing.TB, n int) (*chattest.Server, *chattest.Service, *chattest.User, *chat.API) {
	tb.Helper()
	srv := chattest.NewServer()
	tb.Cleanup(srv.Close)
	svc := srv.AddService()
	u := svc.AddUser("bench")
	for i := 0; i < n; i++ {
		u.AddBinding(chattest.Binding{})
	}
	c, err := srv.Client()
	if err != nil {
		tb.Fatal(err)
	}
	return srv, svc, u, chat.New(c)
}

// removeAll removes sids with workers goroutines through remove, and
// returns removals per second.
func removeAll(tb testing.TB, sids []string, workers int, remove func(string) error) float64 {
	jobs := make(chan string)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sid := range jobs {
				if err := remove(sid); err != nil {
					tb.Error(err)
				}
			}
		}()
	}
	for _, sid := range sids {
		jobs <- sid
	}
	close(jobs)
	wg.Wait()
	return float64(len(sids)) / time.Since(start).Seconds()
}

// BenchmarkRemoveThroughput removes 2,000 bindings at concurrency 16
// against the emulator with 50 ms of latency per request, through the SDK
// and through plain net/http DELETEs, and reports removals per second and
// their fraction of the limit, concurrency/latency = 320 per second.
//
//	go test ./chat/v2 -run '^$' -bench RemoveThroughput -benchtime 1x
func BenchmarkRemoveThroughput(b *testing.B) {
	const n, workers, latency = 2000, 16, 50 * time.Millisecond
	limit := float64(workers) / latency.Seconds()
	var sdkRate, baseRate float64
	for i := 0; i < b.N; i++ {
		srv, svc, u, api := seededEmulator(b, n)
		srv.SetLatency(latency)
		var sids []string
		for _, bd := range u.Bindings() {
			sids = append(sids, string(bd.SID))
		}
		ctx := context.Background()
		sdkRate = removeAll(b, sids, workers, func(sid string) error {
			return api.Services(svc.SID).Users(u.Identity).UserBindings(sid).Remove(ctx)
		})
		if left := len(u.Bindings()); left != 0 {
			b.Fatalf("%d left", left)
		}

		srv2, svc2, u2, _ := seededEmulator(b, n)
		srv2.SetLatency(latency)
		sids = sids[:0]
		for _, bd := range u2.Bindings() {
			sids = append(sids, string(bd.SID))
		}
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
		baseRate = removeAll(b, sids, workers, func(sid string) error {
			req, _ := http.NewRequest("DELETE", srv2.URL+"/v2/Services/"+svc2.SID+"/Users/"+u2.SID+"/Bindings/"+sid, nil)
			req.SetBasicAuth(srv2.AccountSID, srv2.AuthToken)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
		b.ReportMetric(float64(srv.Stats().Connections), "sdk-connections")
	}
	b.ReportMetric(sdkRate, "sdk-removals/s")
	b.ReportMetric(baseRate, "base-removals/s")
	b.ReportMetric(sdkRate/limit, "fraction-of-limit")
	b.ReportMetric(sdkRate/baseRate, "sdk/base-ratio")
}

// BenchmarkPrefetch lists 20 pages of 100 bindings from the emulator with
// 20 ms of latency per request, with a consumer that spends 20 ms on each
// page, with and without Prefetch, and reports the time per listing of
// each and the speed-up.
//
//	go test ./chat/v2 -run '^$' -bench Prefetch -benchtime 3x
func BenchmarkPrefetch(b *testing.B) {
	const pages, size, latency = 20, 100, 20 * time.Millisecond
	srv, svc, u, api := seededEmulator(b, pages*size)
	srv.SetLatency(latency)
	srv.SetLimits(chattest.Limits{MaxPageSize: size}) // the seed's range: pages of 100
	list := func(prefetch bool) time.Duration {
		start := time.Now()
		n := 0
		for _, err := range api.Services(svc.SID).Users(u.Identity).UserBindings.List(context.Background(), &chat.UserBindingListParams{PageSize: size, Prefetch: prefetch}) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%size == 0 {
				time.Sleep(latency) // the consumer's work on the page
			}
		}
		if n != pages*size {
			b.Fatalf("%d bindings", n)
		}
		return time.Since(start)
	}
	var plain, ahead time.Duration
	for i := 0; i < b.N; i++ {
		plain += list(false)
		ahead += list(true)
	}
	b.ReportMetric(float64(plain.Milliseconds())/float64(b.N), "plain-ms/listing")
	b.ReportMetric(float64(ahead.Milliseconds())/float64(b.N), "prefetch-ms/listing")
	b.ReportMetric(float64(plain)/float64(ahead), "speedup")
}

// BenchmarkConnections lists 100 pages of one binding and then removes the
// 100 bindings one after another, and reports the TCP connections the
// emulator accepted for each: keep-alive makes it one.
//
//	go test ./chat/v2 -run '^$' -bench Connections -benchtime 1x
func BenchmarkConnections(b *testing.B) {
	for i := 0; i < b.N; i++ {
		srv, svc, u, api := seededEmulator(b, 100)
		ctx := context.Background()
		ub := api.Services(svc.SID).Users(u.Identity).UserBindings
		var sids []string
		for bd, err := range ub.List(ctx, &chat.UserBindingListParams{PageSize: 1}) {
			if err != nil {
				b.Fatal(err)
			}
			sids = append(sids, string(bd.SID))
		}
		listConns := srv.Stats().Connections
		for _, sid := range sids {
			if err := ub(sid).Remove(ctx); err != nil {
				b.Fatal(err)
			}
		}
		st := srv.Stats()
		b.ReportMetric(float64(listConns), "list-100-pages-connections")
		b.ReportMetric(float64(st.Connections-listConns), "remove-100-new-connections")
		b.ReportMetric(float64(st.Requests), "requests")
	}
}
