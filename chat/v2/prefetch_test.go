package chat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

// leakedPrefetchers counts goroutines still running a page fetch ahead,
// waiting briefly for ones that are finishing.
func leakedPrefetchers(t *testing.T) int {
	t.Helper()
	var n int
	for i := 0; i < 100; i++ {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n = strings.Count(string(buf), "chat/v2.fetchAhead")
		if n == 0 {
			return 0
		}
		time.Sleep(time.Millisecond)
	}
	return n
}

func TestPrefetchYieldsTheSame(t *testing.T) {
	for _, tc := range []struct{ size, total, limit, wantPages int }{
		{3, 10, 0, 4}, {3, 9, 0, 3}, {5, 0, 0, 1}, {4, 20, 6, 2}, {4, 20, 8, 2}, {10, 100, 10, 1},
	} {
		api, mt := newTestAPI(t)
		var pg pager
		pg.register(mt, tc.size, tc.total)
		params := &UserBindingListParams{PageSize: tc.size, Limit: tc.limit, Prefetch: true}
		got, err := collect(t, api.Services(testService).Users(testUser).UserBindings.List(context.Background(), params))
		want := tc.total
		if tc.limit > 0 {
			want = min(tc.limit, tc.total)
		}
		if err != nil || len(got) != want || pg.count() != tc.wantPages {
			t.Errorf("%+v: %d bindings in %d requests, %v", tc, len(got), pg.count(), err)
		}
		for i, b := range got {
			if b.SID != BindingSID(bindingSIDFor(i)) {
				t.Fatalf("%+v: binding %d is %s", tc, i, b.SID)
			}
		}
	}
	if n := leakedPrefetchers(t); n != 0 {
		t.Fatalf("%d prefetch goroutines left", n)
	}
}

func bindingSIDFor(i int) string { return fmt.Sprintf("BS%032x", i) }

func TestPrefetchStopsOnBreakCancelAndError(t *testing.T) {
	t.Run("break", func(t *testing.T) {
		api, mt := newTestAPI(t)
		listPath := "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"
		release := make(chan struct{})
		n := 0
		mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			if n++; n > 1 {
				// The page fetched ahead hangs until its request is cancelled.
				select {
				case <-r.Context().Done():
					return nil, r.Context().Err()
				case <-release:
				}
			}
			return httpmock.NewStringResponse(200, pageJSON("https://chat.twilio.com"+listPath, n-1, 2, 100)), nil
		})
		// Released only after the check: a prefetch goroutine that was not
		// cancelled would still be waiting.
		defer close(release)
		for range api.Services(testService).Users(testUser).UserBindings.List(context.Background(), &UserBindingListParams{PageSize: 2, Prefetch: true}) {
			break
		}
		if leaked := leakedPrefetchers(t); leaked != 0 {
			t.Fatalf("%d prefetch goroutines outlived the loop", leaked)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		api, mt := newTestAPI(t)
		var pg pager
		pg.register(mt, 2, 100)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var gotErr error
		for _, err := range api.Services(testService).Users(testUser).UserBindings.List(ctx, &UserBindingListParams{PageSize: 2, Prefetch: true}) {
			if err != nil {
				gotErr = err
				break
			}
			cancel()
		}
		if !errors.Is(gotErr, context.Canceled) {
			t.Errorf("err = %v", gotErr)
		}
		if leaked := leakedPrefetchers(t); leaked != 0 {
			t.Fatalf("%d prefetch goroutines left after cancellation", leaked)
		}
	})
	t.Run("error", func(t *testing.T) {
		api, mt := newTestAPI(t, client.WithMaxRetries(0))
		listPath := "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"
		n := 0
		mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			if n++; n == 3 {
				return httpmock.NewStringResponse(500, ""), nil
			}
			return httpmock.NewStringResponse(200, pageJSON("https://chat.twilio.com"+listPath, n-1, 2, 100)), nil
		})
		items, errs := 0, 0
		for _, err := range api.Services(testService).Users(testUser).UserBindings.List(context.Background(), &UserBindingListParams{PageSize: 2, Prefetch: true}) {
			if err != nil {
				errs++
				continue
			}
			items++
		}
		if items != 4 || errs != 1 || n != 3 {
			t.Errorf("%d bindings, %d errors, %d requests", items, errs, n)
		}
		if leaked := leakedPrefetchers(t); leaked != 0 {
			t.Fatalf("%d prefetch goroutines left after an error", leaked)
		}
	})
}
