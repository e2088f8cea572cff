package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// requestCounter counts round trips by method and status. It looks at the
// method and the status only: the request's headers carry the credentials.
type requestCounter struct {
	next http.RoundTripper

	mu     sync.Mutex
	counts map[string]int
}

func (rc *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rc.next.RoundTrip(r)
	key := r.Method + " failed"
	if err == nil {
		key = r.Method + " " + strconv.Itoa(resp.StatusCode)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.counts[key]++
	return resp, err
}

func (rc *requestCounter) String() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	keys := make([]string, 0, len(rc.counts))
	for k := range rc.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for _, k := range keys {
		out += fmt.Sprintf("%s: %d\n", k, rc.counts[k])
	}
	return out
}

func ExampleWithTransportWrapper() {
	srv := chattest.NewServer() // in place of the real API, for the example
	defer srv.Close()
	svc := srv.AddService()
	alice := svc.AddUser("alice")
	for i := 0; i < 3; i++ {
		alice.AddBinding(chattest.Binding{})
	}
	srv.Inject(chattest.Fault{Method: "GET", Status: 503, Times: 1}) // one failed attempt, retried

	counter := &requestCounter{counts: map[string]int{}}
	c, err := srv.Client( // with a real account: client.New(client.WithTransportWrapper(…))
		client.WithTransportWrapper(func(next http.RoundTripper) http.RoundTripper {
			counter.next = next // the client's own pooled transport
			return counter
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Users("alice").UserBindings
	ctx := context.Background()
	var first string
	for b, err := range bindings.List(ctx, &chat.UserBindingListParams{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		if first == "" {
			first = string(b.SID)
		}
	}
	if err := bindings(first).Remove(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Print(counter)
	// Output:
	// DELETE 204: 1
	// GET 200: 2
	// GET 503: 1
}

// TestTransportWrapperKeepsThePool lists and removes through a wrapped
// client over real loopback HTTP: one connection serves every request, as
// without a wrapper, and the wrapper sees each of them.
func TestTransportWrapperKeepsThePool(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	u := svc.AddUser("bob")
	for i := 0; i < 10; i++ {
		u.AddBinding(chattest.Binding{})
	}
	counter := &requestCounter{counts: map[string]int{}}
	c, err := srv.Client(client.WithTransportWrapper(func(next http.RoundTripper) http.RoundTripper {
		counter.next = next
		return counter
	}))
	if err != nil {
		t.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Users("bob").UserBindings
	ctx := context.Background()
	var sids []string
	for b, err := range bindings.List(ctx, &chat.UserBindingListParams{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		sids = append(sids, string(b.SID))
	}
	for _, sid := range sids[:3] {
		if err := bindings(sid).Remove(ctx); err != nil {
			t.Fatal(err)
		}
	}
	st := srv.Stats()
	if got, want := counter.String(), "DELETE 204: 3\nGET 200: 5\n"; got != want || st.Requests != 8 {
		t.Errorf("the wrapper counted\n%sthe emulator %d requests", got, st.Requests)
	}
	if st.Connections != 1 {
		t.Errorf("%d connections for 8 sequential requests: the wrapped transport does not keep its pool", st.Connections)
	}
}
