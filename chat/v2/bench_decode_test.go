package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
)

// staticPager serves pages of pre-rendered bindings on loopback, so a
// benchmark measures the client, not the server. Page n's next_page_url
// names page n+1 until pages run out; pages < 0 means without end, reusing
// the same bindings (for the memory benchmark).
type staticPager struct {
	srv      *httptest.Server
	listPath string
	body     []byte // the bindings array of one page, shared by all pages
	pages    int
	size     int
}

func newStaticPager(tb testing.TB, size, pages int) *staticPager {
	p := &staticPager{listPath: "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings", pages: pages, size: size}
	items := make([]string, size)
	for i := range items {
		items[i] = bindingJSON(i, []string{"apn", "gcm", "fcm"}[i%3])
	}
	p.body = []byte("[" + strings.Join(items, ",") + "]")
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	tb.Cleanup(p.srv.Close)
	return p
}

func (p *staticPager) serve(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("Page"))
	next := "null"
	if p.pages < 0 || n+1 < p.pages {
		next = fmt.Sprintf(`"%s%s?PageSize=%d&Page=%d&PageToken=PA%d"`, p.srv.URL, p.listPath, p.size, n+1, n+1)
	}
	head := fmt.Sprintf(`{"meta":{"page":%d,"page_size":%d,"first_page_url":"%s%s?PageSize=%d&Page=0","previous_page_url":null,"url":"%s%s","next_page_url":%s,"key":"bindings"},"bindings":`,
		n, p.size, p.srv.URL, p.listPath, p.size, p.srv.URL, p.listPath, next)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(p.body)+1))
	_, _ = w.Write([]byte(head))
	_, _ = w.Write(p.body)
	_, _ = w.Write([]byte("}"))
}

func (p *staticPager) api(tb testing.TB) *API {
	c, err := client.New(client.WithCredentials(testAccount, "token"), client.WithBaseURL(p.srv.URL))
	if err != nil {
		tb.Fatal(err)
	}
	return New(c)
}

// plainBinding and plainPage are the baseline: what a hand-written loop
// decodes into, with string fields and no validation.
type plainBinding struct {
	SID           string   `json:"sid"`
	AccountSID    string   `json:"account_sid"`
	ServiceSID    string   `json:"service_sid"`
	DateCreated   string   `json:"date_created"`
	DateUpdated   string   `json:"date_updated"`
	Endpoint      string   `json:"endpoint"`
	Identity      string   `json:"identity"`
	UserSID       string   `json:"user_sid"`
	BindingType   string   `json:"binding_type"`
	CredentialSID string   `json:"credential_sid"`
	MessageTypes  []string `json:"message_types"`
	URL           string   `json:"url"`
}

type plainPage struct {
	Meta struct {
		NextPageURL *string `json:"next_page_url"`
	} `json:"meta"`
	Bindings []plainBinding `json:"bindings"`
}

// baselineList is the hand-rolled loop: net/http, encoding/json, follow
// next_page_url.
func baselineList(hc *http.Client, url string, each func(*plainBinding)) error {
	for url != "" {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth(testAccount, "token")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		var page plainPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return err
		}
		for i := range page.Bindings {
			each(&page.Bindings[i])
		}
		url = ""
		if page.Meta.NextPageURL != nil {
			url = *page.Meta.NextPageURL
		}
	}
	return nil
}

// measurement accumulates time, allocations and bytes over runs of f.
type measurement struct {
	d              time.Duration
	allocs, bytes  uint64
	bindings, runs int
}

func (m *measurement) run(f func() int) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	n := f()
	m.d += time.Since(start)
	runtime.ReadMemStats(&after)
	m.allocs += after.Mallocs - before.Mallocs
	m.bytes += after.TotalAlloc - before.TotalAlloc
	m.bindings += n
	m.runs++
}

func (m *measurement) perBinding() (ns, allocs, bytes float64) {
	n := float64(m.bindings)
	return float64(m.d.Nanoseconds()) / n, float64(m.allocs) / n, float64(m.bytes) / n
}

// BenchmarkDecodePath iterates 10,000 bindings in pages of 1,000 from a
// loopback server, through the SDK and through the hand-rolled baseline,
// alternating within each iteration so both see the same machine. It
// reports per-binding figures for each and their ratios (SDK / baseline).
//
//	go test ./chat/v2 -run '^$' -bench DecodePath -benchtime 20x
func BenchmarkDecodePath(b *testing.B) {
	p := newStaticPager(b, 1000, 10)
	api := p.api(b)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	ctx := context.Background()
	var sdk, base measurement
	sink := 0
	sdkRun := func() int {
		n := 0
		for bd, err := range api.Services(testService).Users(testUser).UserBindings.List(ctx, &UserBindingListParams{PageSize: 1000}) {
			if err != nil {
				b.Fatal(err)
			}
			sink += len(bd.SID)
			n++
		}
		return n
	}
	baseRun := func() int {
		n := 0
		if err := baselineList(hc, p.srv.URL+p.listPath+"?PageSize=1000", func(bd *plainBinding) { sink += len(bd.SID); n++ }); err != nil {
			b.Fatal(err)
		}
		return n
	}
	sdkRun() // warm connections and pools for both
	baseRun()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			sdk.run(sdkRun)
			base.run(baseRun)
		} else {
			base.run(baseRun)
			sdk.run(sdkRun)
		}
	}
	sNs, sAllocs, sBytes := sdk.perBinding()
	bNs, bAllocs, bBytes := base.perBinding()
	b.ReportMetric(sNs, "sdk-ns/binding")
	b.ReportMetric(bNs, "base-ns/binding")
	b.ReportMetric(sNs/bNs, "time-ratio")
	b.ReportMetric(sAllocs, "sdk-allocs/binding")
	b.ReportMetric(bAllocs, "base-allocs/binding")
	b.ReportMetric(sAllocs/bAllocs, "alloc-ratio")
	b.ReportMetric(sBytes, "sdk-B/binding")
	b.ReportMetric(bBytes, "base-B/binding")
	_ = sink
}

// liveHeap is the heap the last GC found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkListMemory iterates 100,000 and then 1,000,000 bindings, pages
// of 1,000, and reports the peak live heap of each, sampled after every
// page with a collection forced every 10 pages. The ratio shows the peak
// does not grow with the total.
//
//	go test ./chat/v2 -run '^$' -bench ListMemory -benchtime 1x
func BenchmarkListMemory(b *testing.B) {
	p := newStaticPager(b, 1000, -1)
	api := p.api(b)
	peak := func(total int) uint64 {
		runtime.GC()
		var max uint64
		n := 0
		for _, err := range api.Services(testService).Users(testUser).UserBindings.List(context.Background(), &UserBindingListParams{PageSize: 1000, Limit: total}) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n%1000 == 0 {
				if n%10000 == 0 {
					runtime.GC()
				}
				max = maxOf(max, liveHeap())
			}
		}
		if n != total {
			b.Fatalf("%d bindings, want %d", n, total)
		}
		return max
	}
	var small, large uint64
	for i := 0; i < b.N; i++ {
		small = maxOf(small, peak(100_000))
		large = maxOf(large, peak(1_000_000))
	}
	b.ReportMetric(float64(small)/(1<<20), "peak-live-MiB-100k")
	b.ReportMetric(float64(large)/(1<<20), "peak-live-MiB-1M")
	b.ReportMetric(float64(large)/float64(small), "1M/100k-ratio")
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// BenchmarkDecodePage decodes one page of 1,000 bindings held in memory,
// with the decoder reused as a listing reuses it: the CPU cost of decoding
// alone, without I/O.
//
//	go test ./chat/v2 -run '^$' -bench DecodePage -benchmem
func BenchmarkDecodePage(b *testing.B) {
	body := decodeBenchPage(func(i int) string { return bindingJSON(i, "apn") })
	var d decoder[UserBinding]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var p UserBindingPage
		if _, err := d.page(body, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeShapes decodes a page of 1,000 user bindings and a page of
// 1,000 service-wide bindings alternately, with one decoder each, and
// reports the cost per binding of each, their ratio, and the ratio per byte
// of JSON: one decoder fills both shapes.
//
//	go test ./chat/v2 -run '^$' -bench DecodeShapes -benchtime 200x
func BenchmarkDecodeShapes(b *testing.B) {
	userBody := decodeBenchPage(func(i int) string { return bindingJSON(i, "apn") })
	serviceBody := decodeBenchPage(func(i int) string { return serviceBindingJSON(i, "apn", "alice") })
	var du decoder[UserBinding]
	var ds decoder[Binding]
	var userNS, serviceNS time.Duration
	decodeUser := func() {
		start := time.Now()
		var up UserBindingPage
		if _, err := du.page(userBody, &up); err != nil {
			b.Fatal(err)
		}
		userNS += time.Since(start)
	}
	decodeService := func() {
		start := time.Now()
		var sp BindingPage
		if _, err := ds.page(serviceBody, &sp); err != nil {
			b.Fatal(err)
		}
		serviceNS += time.Since(start)
	}
	for i := 0; i < b.N; i++ {
		if i%2 == 0 { // alternate which goes first, so neither pays for the other
			decodeUser()
			decodeService()
		} else {
			decodeService()
			decodeUser()
		}
	}
	per := float64(b.N * 1000)
	b.ReportMetric(float64(userNS)/per, "ns/userbinding")
	b.ReportMetric(float64(serviceNS)/per, "ns/binding")
	b.ReportMetric(float64(serviceNS)/float64(userNS), "binding/userbinding")
	// A service-wide binding carries its user's URL where a user binding
	// has the user's SID, so its JSON is longer: per byte, the cost is the same.
	b.ReportMetric((float64(serviceNS)/float64(len(serviceBody)))/(float64(userNS)/float64(len(userBody))), "per-byte-ratio")
}

func decodeBenchPage(binding func(int) string) []byte {
	items := make([]string, 1000)
	for i := range items {
		items[i] = binding(i)
	}
	return []byte(`{"meta":{"page":0,"page_size":1000,"next_page_url":null,"key":"bindings"},"bindings":[` + strings.Join(items, ",") + `]}`)
}

// TestAllocationsPerBinding bounds what decoding and checking a page costs
// per binding, for either shape: the binding itself (with room for its
// message types) and its own strings, one allocation each. A check that
// formatted a message for every binding, not only on failure, once tripled
// it.
func TestAllocationsPerBinding(t *testing.T) {
	userBody := decodeBenchPage(func(i int) string { return bindingJSON(i, "apn") })
	serviceBody := decodeBenchPage(func(i int) string { return serviceBindingJSON(i, "apn", "alice") })
	var du decoder[UserBinding]
	var ds decoder[Binding]
	userScope := scope{service: testService, user: "alice", types: []BindingType{BindingTypeAPN}}
	serviceScope := scope{service: testService, identities: []string{"alice"}, types: []BindingType{BindingTypeAPN}}
	cases := map[string]func(){
		"user bindings": func() {
			var p UserBindingPage
			if _, err := du.page(userBody, &p); err != nil {
				t.Fatal(err)
			}
			for i, b := range p.Bindings {
				if err := userScope.check(fieldsOf(b), i); err != nil {
					t.Fatal(err)
				}
			}
		},
		"service bindings": func() {
			var p BindingPage
			if _, err := ds.page(serviceBody, &p); err != nil {
				t.Fatal(err)
			}
			for i, b := range p.Bindings {
				if err := serviceScope.check(fieldsOf(b), i); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
	for name, decode := range cases {
		per := testing.AllocsPerRun(20, decode) / 1000
		t.Logf("%s: %.2f allocations per binding", name, per)
		if per > 2.1 && !raceOn {
			t.Errorf("%s: %.2f allocations per binding, want at most 2.1", name, per)
		}
	}
}
