package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// seedAlice starts an emulator (in place of the real API, for the examples)
// with a user alice and n bindings of fixed SIDs, updated on 2 January 2026.
func seedAlice(n int) (*chattest.Server, *chattest.Service, *chattest.User) {
	srv := chattest.NewServer()
	svc := srv.AddService()
	alice := svc.AddUser("alice")
	day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 1; i <= n; i++ {
		alice.AddBinding(chattest.Binding{SID: fmt.Sprintf("BS%032d", i), DateCreated: day})
	}
	return srv, svc, alice
}

// A cleanup that removes at 20 a second, well inside Twilio's write budget
// of 30 a second per service, and slows down by itself if the API answers
// 429. Reads are not limited.
func ExampleWithRateLimit() {
	srv, svc, alice := seedAlice(5)
	defer srv.Close()

	c, err := srv.Client( // with a real account: client.New(client.WithRateLimit(…))
		client.WithRateLimit(client.RateLimit{PerSecond: 20, Adaptive: true, WritesOnly: true}),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rate:", c.CurrentRate())
	bindings := chat.New(c).Services(svc.SID).Users("alice").UserBindings
	ctx := context.Background()
	start := time.Now()
	for i := 1; i <= 5; i++ {
		if err := bindings(fmt.Sprintf("BS%032d", i)).Remove(ctx); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("left:", len(alice.Bindings()), "rate:", c.CurrentRate()) // no 429 met: still the cap
	// Five DELETEs at 20 a second start at least 50 ms apart.
	fmt.Println("took at least 200 ms:", time.Since(start) >= 200*time.Millisecond)
	// Output:
	// rate: 20
	// left: 0 rate: 20
	// took at least 200 ms: true
}

// A job that must check something immediately before writing takes its
// turn under the rate limit first: the check and the write then go one
// after the other, and nothing checked can change while the write waits.
// (chat's RemoveIf does this itself.)
func ExampleClient_Turn() {
	srv, svc, _ := seedAlice(1)
	defer srv.Close()

	// One write in 1,000 seconds: a write that waited for the limit again
	// after its turn would not be sent within the deadline below.
	c, err := srv.Client(client.WithRateLimit(client.RateLimit{PerSecond: 0.001, WritesOnly: true}))
	if err != nil {
		log.Fatal(err)
	}
	deadline, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := chat.New(c).Services(svc.SID).Users("alice").UserBindings("BS00000000000000000000000000000001")
	ctx, err := c.Turn(deadline) // waits for the limit, if it must
	if err != nil {
		log.Fatal(err)
	}
	b, err := h.Fetch(ctx) // the check goes at once
	if err != nil {
		log.Fatal(err)
	}
	if b.DateUpdated.Before(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) {
		// The write spends the turn: no second wait.
		if err := h.Remove(ctx); err != nil {
			fmt.Println("not removed:", err)
			return
		}
		fmt.Println("removed", b.SID, "last updated", b.DateUpdated.Format(time.DateOnly))
	}
	// Output:
	// removed BS00000000000000000000000000000001 last updated 2026-01-02
}

// Stats for a job's progress line: attempts sent, retries, 429s and 5xx
// answers. A call whose context is already done sends nothing, and counts
// nothing.
func ExampleClient_Stats() {
	srv, svc, _ := seedAlice(3)
	defer srv.Close()
	srv.Inject(chattest.Fault{Method: "GET", Status: 503})
	srv.Inject(chattest.Fault{Method: "GET", Status: 429})

	c, err := srv.Client(client.WithRetryWait(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Users("alice").UserBindings
	if _, err := bindings.FirstPage(context.Background(), nil); err != nil { // 503, 429, then 200
		log.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = bindings.FirstPage(done, nil)
	fmt.Println("cancelled call:", err != nil)

	st := c.Stats()
	fmt.Printf("attempts %d, retries %d, 429s %d, 5xx %d\n", st.Attempts, st.Retries, st.RateLimited, st.ServerErrors)
	fmt.Println("the emulator got", srv.Stats().Requests)
	// Output:
	// cancelled call: true
	// attempts 3, retries 2, 429s 1, 5xx 1
	// the emulator got 3
}
