package chattest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// removeStale stands for the code under test: it removes the bindings
// last updated before cutoff and says how many it removed.
func removeStale(ctx context.Context, bindings chat.UserBindings, cutoff time.Time) (int, error) {
	var stale []string
	for b, err := range bindings.List(ctx, nil) {
		if err != nil {
			return 0, err
		}
		if b.DateUpdated.Before(cutoff) {
			stale = append(stale, string(b.SID))
		}
	}
	for _, sid := range stale {
		if err := bindings(sid).Remove(ctx, chat.AcceptRetriedNotFound()); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// Seed the emulator, run the code under test against it, and assert on
// what is left.
func Example() {
	srv := chattest.NewServer()
	defer srv.Close() // in a test: srv := chattest.NewTestServer(t), closed with the test
	svc := srv.AddService()
	alice := svc.AddUser("alice@example.com")
	day := func(month, d int) time.Time { return time.Date(2026, time.Month(month), d, 12, 0, 0, 0, time.UTC) }
	alice.AddBinding(chattest.Binding{SID: "BS00000000000000000000000000000001", Type: chat.BindingTypeGCM, DateCreated: day(1, 10)})
	alice.AddBinding(chattest.Binding{SID: "BS00000000000000000000000000000002", Type: chat.BindingTypeAPN, DateCreated: day(2, 1), DateUpdated: day(6, 30)})
	alice.AddBinding(chattest.Binding{SID: "BS00000000000000000000000000000003", Type: chat.BindingTypeFCM, DateCreated: day(3, 5)})

	c, err := srv.Client() // the emulator's URL and credentials filled in
	if err != nil {
		log.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Users("alice@example.com").UserBindings
	n, err := removeStale(context.Background(), bindings, day(6, 1))
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("removed", n)
	for _, b := range alice.Bindings() {
		fmt.Println("left:", b.SID, b.BindingType, b.DateUpdated.Format(time.DateOnly))
	}
	st := srv.Stats()
	fmt.Println(st.Requests, "requests,", st.Removed, "removals,", st.RemoveMisses, "missed")
	// Output:
	// removed 2
	// left: BS00000000000000000000000000000002 apn 2026-06-30
	// 3 requests, 2 removals, 0 missed
}

// Inject the failures of a real network and check that the code under test
// gets through them: each fault applies to the next request that matches
// it, in the order injected.
func ExampleServer_Inject() {
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	bob := svc.AddUser("bob")
	for i := 1; i <= 5; i++ {
		bob.AddBinding(chattest.Binding{SID: fmt.Sprintf("BS%032d", i)})
	}

	// A Twilio error document, a proxy's HTML page, a connection reset
	// mid-body, and a removal whose answer is lost after it was served.
	srv.Inject(chattest.Fault{Method: "GET", Status: 503})
	srv.Inject(chattest.Fault{Method: "GET", Status: 502, Body: "<html>Bad Gateway</html>", ContentType: "text/html"})
	srv.Inject(chattest.Fault{Method: "GET", CutBody: true})
	srv.Inject(chattest.Fault{Method: "DELETE", Status: 500, ServeFirst: true})

	// Retry waits of milliseconds keep the test fast.
	c, err := srv.Client(client.WithRetryWait(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Users("bob").UserBindings
	ctx := context.Background()
	listed := 0
	for _, err := range bindings.List(ctx, &chat.UserBindingListParams{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		listed++
	}
	// The retried DELETE is answered 404: the first attempt had removed it.
	err = bindings("BS00000000000000000000000000000001").Remove(ctx, chat.AcceptRetriedNotFound())

	fmt.Println("listed", listed, "of 5; removal error:", err)
	st := srv.Stats()
	fmt.Println(srv.PendingFaults(), "faults left;", st.Requests, "requests;", len(bob.Bindings()), "bindings left")
	// Output:
	// listed 5 of 5; removal error: <nil>
	// 0 faults left; 8 requests; 4 bindings left
}

// Turn on the live API's limits, so the code under test meets them before
// production does.
func ExampleServer_SetLimits() {
	srv := chattest.NewServer()
	defer srv.Close()
	svc := srv.AddService()
	carol := svc.AddUser("carol")
	for i := 1; i <= 5; i++ {
		carol.AddBinding(chattest.Binding{SID: fmt.Sprintf("BS%032d", i)})
	}
	// WithMaxRetries(0) shows each refusal instead of retrying it.
	c, err := srv.Client(client.WithMaxRetries(0))
	if err != nil {
		log.Fatal(err)
	}
	bindings := chat.New(c).Services(svc.SID).Users("carol").UserBindings
	ctx := context.Background()

	fmt.Printf("%+v\n", chattest.RealLimits())
	srv.SetLimits(chattest.RealLimits())
	_, err = bindings.FirstPage(ctx, &chat.UserBindingListParams{PageSize: 60})
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println("PageSize 60:", apiErr.Status, apiErr.Code)
	}

	// The write budget, scaled down so the example is quick: 3 removals in
	// any 30 seconds instead of 150 in any 5.
	srv.SetLimits(chattest.Limits{WritesPerSecond: 0.1, WriteWindow: 30 * time.Second})
	for i := 1; i <= 5; i++ {
		err := bindings(fmt.Sprintf("BS%032d", i)).Remove(ctx)
		switch {
		case err == nil:
			fmt.Println("removed", i)
		case errors.As(err, &apiErr) && client.IsRateLimited(err):
			fmt.Println("refused", i, apiErr.Status, apiErr.Code)
		default:
			log.Fatal(err)
		}
	}
	st := srv.Stats()
	fmt.Println("refused:", st.RefusedPageSize, "page size,", st.RefusedWrites, "writes")
	// Output:
	// {MaxPageSize:50 WritesPerSecond:30 WriteWindow:5s MaxInFlight:100 RetryAfter:}
	// PageSize 60: 400 20001
	// removed 1
	// removed 2
	// removed 3
	// refused 4 429 20429
	// refused 5 429 20429
	// refused: 1 page size, 2 writes
}
