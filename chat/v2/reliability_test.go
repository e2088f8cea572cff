package chat_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// reservedIdentities holds every reserved URI character alone and in
// company, white space, unicode and a 1,000-character identity.
func reservedIdentities() []string {
	var ids []string
	for _, c := range strings.Split("! * ' ( ) ; : @ & = + $ , / ? % # [ ]", " ") {
		ids = append(ids, c+"x", "a"+c+"b", "x"+c)
	}
	return append(ids,
		"!*'();:@&=+$,/?%#[]", "with space", " leading", "trailing ", "tab\there", "new\nline", "%2F%3F", "%%", "%zz",
		"ünïcødé", "日本語のユーザー", "emoji 😀👍", "\u200bzero-width", "Ω≈ç√∫", strings.Repeat("é", 500), strings.Repeat("x", 1000))
}

func TestReservedIdentitiesReachTheEmulatorExactly(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	c, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	api := chat.New(c)
	ctx := context.Background()
	ids := reservedIdentities()
	for _, id := range ids {
		u := svc.AddUser(id)
		sid := u.AddBinding(chattest.Binding{})
		u.AddBinding(chattest.Binding{})
		ub := api.Services(svc.SID).Users(id).UserBindings
		b, err := ub(sid).Fetch(ctx)
		if err != nil || b.Identity != id || string(b.UserSID) != u.SID {
			t.Fatalf("identity %q: Fetch = %+v, %v", id, b, err)
		}
		n := 0
		for _, err := range ub.List(ctx, &chat.UserBindingListParams{PageSize: 1}) {
			if err != nil {
				t.Fatalf("identity %q: List: %v", id, err)
			}
			n++
		}
		if err := ub(sid).Remove(ctx); err != nil || n != 2 || len(u.Bindings()) != 1 {
			t.Fatalf("identity %q: listed %d, Remove %v, %d left", id, n, err, len(u.Bindings()))
		}
	}
	if len(ids) < 60 {
		t.Fatalf("only %d identities tried", len(ids))
	}
	t.Logf("%d identities fetched, listed and removed exactly", len(ids))
}

// fakeAPI serves one handler on loopback and returns a client for it with
// fast retries.
func fakeAPI(t *testing.T, h http.HandlerFunc, opts ...client.Option) (*chat.API, *httptest.Server) {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	c, err := client.New(append([]client.Option{
		client.WithCredentials("AC0123456789abcdef0123456789abcdef", "reliability-token-0123456789"),
		client.WithBaseURL(ts.URL),
		client.WithRetryWait(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return chat.New(c), ts
}

const (
	svcSID = "IS0123456789abcdef0123456789abcdef"
	bsSID  = "BS0123456789abcdef0123456789abcdef"
)

// TestHundredMiBBodyIsBounded is not parallel: it measures the process's
// allocations. A declared 100 MiB is refused before reading; an undeclared
// one (chunked) is read up to the 10 MiB limit and no further.
func TestHundredMiBBodyIsBounded(t *testing.T) {
	for _, declared := range []bool{true, false} {
		var written atomic.Int64
		api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if declared {
				w.Header().Set("Content-Length", fmt.Sprint(100<<20))
			}
			chunk := bytes.Repeat([]byte(`{"sid":null},`), 8192)
			_, _ = w.Write([]byte(`{"meta":{},"bindings":[`))
			for written.Load() < 100<<20 {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return // the client hung up
				}
			}
		})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := api.Services(svcSID).Users("alice").UserBindings.FirstPage(context.Background(), nil)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, client.ErrResponseTooLarge) || !strings.Contains(err.Error(), "10 MiB") {
			t.Fatalf("err = %v, want ErrResponseTooLarge", err)
		}
		grew := after.TotalAlloc - before.TotalAlloc
		t.Logf("declared length %v: the server wrote %d MiB before the client hung up; the client allocated %d MiB", declared, written.Load()>>20, grew>>20)
		limit := uint64(1 << 20)
		if !declared {
			limit = 40 << 20 // doubling to 16 MiB: 32 MiB in all, with room for the race detector
		}
		if (grew > limit && !raceEnabled) || written.Load() > 20<<20 {
			t.Errorf("a 100 MiB body cost %d MiB of allocations and %d MiB written", grew>>20, written.Load()>>20)
		}
	}
}

func TestRedirectToAnotherHostIsNotFollowed(t *testing.T) {
	t.Parallel()
	var stolen atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Error("credentials reached the other host")
		}
	}))
	defer other.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, code)
		})
		_, err := api.Services(svcSID).Users("alice").UserBindings(bsSID).Fetch(context.Background())
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != code || !strings.Contains(err.Error(), "does not redirect") {
			t.Errorf("%d: err = %v", code, err)
		}
	}
	if stolen.Load() != 0 {
		t.Fatalf("%d requests reached the other host", stolen.Load())
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c, err := client.New(client.WithCredentials("AC0123456789abcdef0123456789abcdef", "t"), client.WithBaseURL("http://"+addr),
		client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	err = chat.New(c).Services(svcSID).Users("a").UserBindings(bsSID).Remove(context.Background())
	var reqErr *client.RequestError
	if !errors.As(err, &reqErr) || reqErr.Attempts != client.DefaultMaxRetries+1 || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v", err)
	}
}

func TestStallMidBodyIsRetriedPerAttempt(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	page := `{"meta":{"next_page_url":null},"bindings":[]}`
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			// Headers and half a body, then silence.
			w.Header().Set("Content-Length", fmt.Sprint(len(page)))
			_, _ = w.Write([]byte(page[:10]))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		_, _ = w.Write([]byte(page))
	}, client.WithTimeout(100*time.Millisecond))
	p, err := api.Services(svcSID).Users("alice").UserBindings.FirstPage(context.Background(), nil)
	if err != nil || p == nil || calls.Load() != 2 {
		t.Fatalf("page %v, err %v after %d calls", p, err, calls.Load())
	}
}

func TestStallWithDeadline(t *testing.T) {
	t.Parallel()
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for _, err := range api.Services(svcSID).Users("alice").UserBindings.List(ctx, nil) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestRemovalsThroughFaultsAreNeitherLostNorDoubled(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	defer srv.Close()
	u := srv.AddService().AddUser("faulty")
	var sids []string
	for i := 0; i < 200; i++ {
		sids = append(sids, u.AddBinding(chattest.Binding{}))
	}
	svc := string(u.Bindings()[0].ServiceSID)
	// Every tenth binding meets a different mix of faults, each mix within
	// the client's retry budget.
	mixes := [][]chattest.Fault{
		{{Status: 503}, {Status: 503}, {Status: 429, RetryAfter: "0"}},
		{{CutBody: true}, {Status: 500}},
		{{ServeFirst: true, Status: 502, Body: "<html>lost</html>", ContentType: "text/html"}},
		{{Status: 429}, {ServeFirst: true, Status: 504}},
		{{Status: 502, Body: "<html>proxy</html>", ContentType: "text/html"}, {CutBody: true}, {Status: 503}},
	}
	for i := 0; i < len(sids); i += 10 {
		for _, f := range mixes[(i/10)%len(mixes)] {
			f.Method, f.PathPrefix = "DELETE", "/v2/Services/"+svc+"/Users/faulty/Bindings/"+sids[i]
			srv.Inject(f)
		}
	}
	faults := srv.PendingFaults()
	c, _ := srv.Client(client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	api := chat.New(c)
	for _, sid := range sids {
		if err := api.Services(svc).Users("faulty").UserBindings(sid).Remove(context.Background(), chat.AcceptRetriedNotFound()); err != nil {
			t.Fatalf("Remove %s: %v", sid, err)
		}
	}
	st := srv.Stats()
	if len(u.Bindings()) != 0 || st.Removed != 200 || srv.PendingFaults() != 0 {
		t.Fatalf("%d left, stats %+v, %d faults unused", len(u.Bindings()), st, srv.PendingFaults())
	}
	t.Logf("200 removals survived %d injected faults; %d retried DELETEs found their binding already removed", faults, st.RemoveMisses)
}

// TestSecretsNeverLeak drives every failure the client has, with debug
// logging on, and searches all errors (in every format) and all log output
// for the token, the API secret and the Authorization header.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	const token, secret = "tok-SECRET-aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sec-SECRET-bbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	srv := chattest.NewServer()
	defer srv.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []error
	var values []any
	for _, cred := range []client.Option{
		client.WithCredentials(srv.AccountSID, token),
		client.WithAPIKey(srv.APIKeySID, secret, srv.AccountSID),
	} {
		c, err := client.New(cred, client.WithBaseURL(srv.URL), client.WithLogger(logger), client.WithRetryWait(time.Millisecond, time.Millisecond), client.WithMaxRetries(1))
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, c, *c, cred)
		api := chat.New(c)
		ctx := context.Background()
		ub := api.Services(svcSID).Users("alice").UserBindings
		srv.Inject(chattest.Fault{Status: 503, Times: 2})
		srv.Inject(chattest.Fault{Status: 502, Body: "<html>proxy</html>", ContentType: "text/html"})
		_, e1 := ub(bsSID).Fetch(ctx)                             // 503s, then
		_, e2 := ub(bsSID).Fetch(ctx)                             // 401 (wrong token)
		e3 := ub("BSnope").Remove(ctx)                            // validation
		_, e4 := ub.PageFromURL(ctx, "https://evil.example/v2/x") // hostile URL
		_, e5 := api.Services("").Users("").UserBindings.FirstPage(ctx, nil)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, e6 := ub(bsSID).Fetch(cctx)
		errs = append(errs, e1, e2, e3, e4, e5, e6)
	}
	_, e7 := client.New(client.WithCredentials(token, srv.AccountSID)) // swapped
	_, e8 := client.New(client.WithAPIKey(secret, token, srv.AccountSID))
	errs = append(errs, e7, e8)
	for _, e := range errs {
		if e == nil {
			t.Fatal("a failure returned no error")
		}
		values = append(values, e)
	}
	var out strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
	}
	out.WriteString(logs.String())
	for _, s := range []string{token, secret, "SECRET", base64.StdEncoding.EncodeToString([]byte(srv.AccountSID + ":" + token))[:20]} {
		if strings.Contains(out.String(), s) {
			t.Fatalf("%q leaked into errors, values or logs", s)
		}
	}
	if !strings.Contains(logs.String(), "twilio retry") || !strings.Contains(logs.String(), "status=401") {
		t.Fatalf("the debug log did not record the failures:\n%s", logs.String())
	}
}

// ourGoroutines counts goroutines running this module's code, waiting
// briefly for ones that are finishing. Connection-pool goroutines of
// net/http are not ours and not counted.
func ourGoroutines(t *testing.T) int {
	t.Helper()
	var n int
	for i := 0; i < 200; i++ {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n = 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "twiliochat-go/") && !strings.Contains(g, "_test.go") && !strings.Contains(g, "chattest.") {
				n++
			}
		}
		if n == 0 {
			return 0
		}
		time.Sleep(time.Millisecond)
	}
	return n
}

func TestNoGoroutineOutlivesAListing(t *testing.T) {
	srv := chattest.NewServer()
	defer srv.Close()
	u := srv.AddService().AddUser("leaky")
	for i := 0; i < 50; i++ {
		u.AddBinding(chattest.Binding{})
	}
	svc := string(u.Bindings()[0].ServiceSID)
	c, _ := srv.Client()
	ub := chat.New(c).Services(svc).Users("leaky").UserBindings
	for _, prefetch := range []bool{false, true} {
		params := &chat.UserBindingListParams{PageSize: 5, Prefetch: prefetch}
		for range ub.List(context.Background(), params) {
			break
		}
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		for _, err := range ub.List(ctx, params) {
			if n++; n == 7 {
				cancel()
			}
			if err != nil {
				break
			}
		}
		cancel()
		srv.SetLatency(time.Second)
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
		for range ub.List(ctx, params) {
		}
		cancel()
		srv.SetLatency(0)
		if n := ourGoroutines(t); n != 0 {
			t.Fatalf("prefetch=%v: %d goroutines running this module's code after the loops ended", prefetch, n)
		}
	}
}

func TestRateLimitStormBeyondTheCap(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	defer srv.Close()
	u := srv.AddService().AddUser("stormy")
	sid := u.AddBinding(chattest.Binding{})
	svc := string(u.Bindings()[0].ServiceSID)
	srv.Inject(chattest.Fault{Status: 429, RetryAfter: "120", Times: 100})
	c, _ := srv.Client(client.WithRetryAfterLimit(10 * time.Second))
	start := time.Now()
	_, err := chat.New(c).Services(svc).Users("stormy").UserBindings(sid).Fetch(context.Background())
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 2*time.Minute || apiErr.Code != 20429 || srv.Stats().Requests != 1 {
		t.Fatalf("err = %v after %d requests", err, srv.Stats().Requests)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the client waited on a Retry-After beyond its cap")
	}
	// Within the cap, the storm is waited out.
	srv2 := chattest.NewServer()
	defer srv2.Close()
	u2 := srv2.AddService().AddUser("stormy")
	sid2 := u2.AddBinding(chattest.Binding{})
	srv2.Inject(chattest.Fault{Status: 429, RetryAfter: "0", Times: 4})
	c2, _ := srv2.Client()
	if _, err := chat.New(c2).Services(string(u2.Bindings()[0].ServiceSID)).Users("stormy").UserBindings(sid2).Fetch(context.Background()); err != nil || srv2.Stats().Requests != 5 {
		t.Fatalf("err = %v after %d requests", err, srv2.Stats().Requests)
	}
}

// TestErrorTextIsBounded sends values of a megabyte wherever an error
// quotes one: every error stays short.
func TestErrorTextIsBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("9", 1<<20)
	bodies := map[string]string{
		"million-digit page number":  `{"meta":{"page":` + huge + `},"bindings":[]}`,
		"million-byte SID":           `{"meta":{},"bindings":[{"sid":"BS` + huge + `"}]}`,
		"million-byte date":          `{"meta":{},"bindings":[{"date_updated":"` + huge + `"}]}`,
		"million-byte next page URL": `{"meta":{"next_page_url":"https://evil.example/` + huge + `"},"bindings":[]}`,
		"million-byte error message": `{"code":20001,"message":"` + huge + `","more_info":"https://x/` + huge + `","status":400}`,
		"million-byte HTML":          `<html>` + huge,
	}
	for name, body := range bodies {
		status := 200
		if strings.Contains(name, "error") || strings.Contains(name, "HTML") {
			status = 400
		}
		api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		})
		for _, err := range api.Services(svcSID).Users("alice").UserBindings.List(context.Background(), nil) {
			if err == nil {
				continue
			}
			if n := len(err.Error()); n > 1024 {
				t.Errorf("%s: a %d-byte error: %.120s…", name, n, err)
			}
			break
		}
	}
	// A long identity, a long page token and a refused connection: the
	// transport's own error repeats the URL, which must not reach ours.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, _ := client.New(client.WithCredentials("AC0123456789abcdef0123456789abcdef", "t"), client.WithBaseURL("http://"+addr), client.WithMaxRetries(0))
	long := strings.Repeat("u", 100_000)
	ub := chat.New(c).Services(svcSID).Users(long).UserBindings
	_, err = ub.PageFromURL(context.Background(), "/v2/Services/"+svcSID+"/Users/"+long+"/Bindings?PageToken="+huge)
	if err == nil || len(err.Error()) > 1024 || !strings.Contains(err.Error(), "refused") {
		t.Errorf("refused connection: a %d-byte error: %.200s", len(fmt.Sprint(err)), err)
	}
	_, err = client.New(client.WithCredentials("AC0123456789abcdef0123456789abcdef", "t"), client.WithBaseURL("http://"+strings.Repeat("h", 100_000)+".example"))
	if err == nil || len(err.Error()) > 1024 {
		t.Errorf("long host: a %d-byte error", len(fmt.Sprint(err)))
	}
	if _, err := ub("BS" + huge).Fetch(context.Background()); err == nil || len(err.Error()) > 1024 {
		t.Errorf("long binding SID: a %d-byte error", len(fmt.Sprint(err)))
	}
}

// TestAFailedCallKeepsThePool warms four connections, then ends calls in
// errors (a cancelled context, a body over the limit, a prefetching listing
// left by break), then makes four calls at once again: a failed call may
// close its own connection, never the idle ones of the others.
func TestAFailedCallKeepsThePool(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	defer srv.Close()
	u := srv.AddService().AddUser("pooled")
	for i := 0; i < 120; i++ {
		u.AddBinding(chattest.Binding{})
	}
	svc, sid := string(u.Bindings()[0].ServiceSID), string(u.Bindings()[0].SID)
	c, _ := srv.Client(client.WithMaxResponseBytes(8 << 10))
	ub := chat.New(c).Services(svc).Users("pooled").UserBindings
	burst := func() {
		srv.SetLatency(100 * time.Millisecond)
		defer srv.SetLatency(0)
		done := make(chan error, 4)
		for i := 0; i < 4; i++ {
			go func() { _, err := ub(sid).Fetch(context.Background()); done <- err }()
		}
		for i := 0; i < 4; i++ {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	burst()
	warm := srv.Stats().Connections

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ub(sid).Fetch(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Fetch: %v", err)
	}
	if _, err := ub.FirstPage(context.Background(), &chat.UserBindingListParams{PageSize: 50}); !errors.Is(err, client.ErrResponseTooLarge) {
		t.Fatalf("oversized page: %v", err)
	}
	for range ub.List(context.Background(), &chat.UserBindingListParams{PageSize: 2, Prefetch: true}) {
		break
	}
	afterFailures := srv.Stats().Connections
	burst()
	fresh := srv.Stats().Connections - afterFailures
	t.Logf("%d connections warm; after three failed calls, a burst of 4 opened %d new", warm, fresh)
	// The oversized body is abandoned with its connection, and the
	// prefetch cancelled by break may take its own: at most 2 more than the
	// burst needs beyond what was warm (a slow goroutine in the first burst
	// can leave fewer than 4 warm).
	if fresh > 2+(4-warm) {
		t.Fatalf("warm %d, then %d new connections for 4 calls: failed calls closed the pool", warm, fresh)
	}
}

// TestAFailedCallLeavesTheDefaultTransportAlone is not parallel: it uses
// http.DefaultTransport, as a client built WithHTTPClient(&http.Client{})
// does, and checks that another user of that pool keeps its connection.
func TestAFailedCallLeavesTheDefaultTransportAlone(t *testing.T) {
	var conns atomic.Int64
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	other.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	other.Start()
	defer other.Close()
	get := func() {
		resp, err := http.Get(other.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get()
	api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {}, client.WithHTTPClient(&http.Client{}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := api.Services(svcSID).Users("a").UserBindings(bsSID).Fetch(ctx); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	get()
	if n := conns.Load(); n != 1 {
		t.Fatalf("the other server saw %d connections: a failed call emptied http.DefaultTransport's pool", n)
	}
}

// hostilePages are bodies just under the default 10 MiB limit whose decoded
// form could be far larger than their bytes.
func hostilePages() map[string]string {
	const size = 10<<20 - 4096
	fill := func(head, unit, tail string) string {
		n := (size - len(head) - len(tail)) / len(unit)
		return head + strings.Repeat(unit, n) + tail
	}
	long := func(s string, n int) string { return strings.Repeat(s, n/len(s)) }
	var escaped, unique, skipped []string
	for i := 0; i < chat.MaxPageSize; i++ {
		escaped = append(escaped, `{"service_sid":"`+svcSID+`","endpoint":"`+long(`\u0041`, 10_000)+`"}`)
		unique = append(unique, fmt.Sprintf(`{"service_sid":%q,"identity":"%05d%s","url":"%s"}`, svcSID, i, long("i", 5000), long("u", 5000)))
		skipped = append(skipped, `{"service_sid":"`+svcSID+`","x":[`+long(`{"a":[1,2,3]},`, 10_000)+`0]}`)
	}
	// 180 "bindings" keys of 999 bindings each, 9 MiB: each array is under
	// the cap of one page, and the repeated key once decoded them all (700
	// keys of empty bindings: 696,000 bindings, 156 MiB).
	one := `{"service_sid":"` + svcSID + `"}`
	repeated := `{"meta":{}` + strings.Repeat(`,"bindings":[`+strings.Repeat(one+`,`, chat.MaxPageSize-2)+one+`]`, 180) + `}`
	return map[string]string{
		"3.5 million empty bindings": fill(`{"meta":{},"bindings":[`, `{},`, `{}]}`),
		"180 bindings keys":          repeated,
		"a binding with 38,000 message_types keys": fill(`{"meta":{},"bindings":[{"message_types":[]`,
			`,"message_types":[`+strings.Repeat(`"a",`, 63)+`"a"]`, `}]}`),
		"3.5 million message types": fill(`{"meta":{},"bindings":[{"message_types":[`, `"",`, `""]}]}`),
		"1,000 escaped endpoints":   `{"meta":{},"bindings":[` + strings.Join(escaped, ",") + `]}`,
		"1,000 unique identities":   `{"meta":{},"bindings":[` + strings.Join(unique, ",") + `]}`,
		"1,000 bindings of skipped": `{"meta":{},"bindings":[` + strings.Join(skipped, ",") + `]}`,
		"a 10 MiB next_page_url":    fill(`{"meta":{"next_page_url":"/`, `x`, `"},"bindings":[]}`),
		"a 10 MiB error message":    fill(`{"code":20001,"status":400,"message":"`, `m`, `"}`),
	}
}

// TestHostilePagesAreBoundedInMemory is not parallel: it measures the
// process's allocations. Whatever a page under the body limit holds, one
// FirstPage allocates a small multiple of the limit, not of what the body
// encodes (3.5 million "{}" once cost 950 MiB).
func TestHostilePagesAreBoundedInMemory(t *testing.T) {
	const limit = client.DefaultMaxResponseBytes
	for name, body := range hostilePages() {
		if len(body) > limit {
			t.Fatalf("%s: %d bytes, over the limit", name, len(body))
		}
		raw := []byte(body) // converted here, so the server allocates nothing while measured
		api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(raw)))
			_, _ = w.Write(raw)
		})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		page, err := api.Services(svcSID).Bindings.FirstPage(context.Background(), nil)
		runtime.ReadMemStats(&after)
		grew := after.TotalAlloc - before.TotalAlloc
		var de *chat.DecodeError
		switch {
		case strings.HasPrefix(name, "3.5 million") || strings.Contains(name, "keys"):
			if !errors.As(err, &de) {
				t.Errorf("%s: err = %v, want a *chat.DecodeError", name, err)
			}
		case strings.Contains(name, "error message"):
			if !client.IsNotFound(err) && err == nil {
				t.Errorf("%s: no error", name)
			}
		case err != nil && !strings.Contains(name, "next_page_url"):
			t.Errorf("%s: %v", name, err)
		}
		_ = page
		t.Logf("%-28s %5.1f MiB allocated (%.1f× the body limit)", name, float64(grew)/(1<<20), float64(grew)/limit)
		if grew > 5*limit/2 && !raceEnabled {
			t.Errorf("%s: one page cost %d MiB, over 2.5× the %d MiB body limit", name, grew>>20, limit>>20)
		}
	}
}
