package chat_test

import (
	"context"
	"fmt"
	"log"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// serviceExampleSetup starts an emulator with three users and a binding of
// each type for each, with fixed SIDs.
func serviceExampleSetup() (*chattest.Server, *chat.API, string) {
	srv := chattest.NewServer()
	svc := srv.AddService()
	day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	for _, id := range []string{"alice", "bob", "carol"} {
		u := svc.AddUser(id)
		for _, typ := range []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeFCM} {
			n++
			u.AddBinding(chattest.Binding{SID: fmt.Sprintf("BS%032d", n), Type: typ, DateCreated: day.AddDate(0, n, 0)})
		}
	}
	c, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	return srv, chat.New(c), svc.SID
}

// Every binding of a service, of every user, in one listing: one request
// per page of bindings instead of at least one per user.
func ExampleBindings_List() {
	srv, api, serviceSID := serviceExampleSetup()
	defer srv.Close()

	params := &chat.BindingListParams{
		BindingType: []chat.BindingType{chat.BindingTypeFCM},
		Identity:    []string{"alice", "carol"}, // optional: only these users
	}
	for b, err := range api.Services(serviceSID).Bindings.List(context.Background(), params) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.SID, b.BindingType, b.Identity, b.DateUpdated.Format(time.DateOnly))
	}
	// Output:
	// BS00000000000000000000000000000002 fcm alice 2026-03-02
	// BS00000000000000000000000000000006 fcm carol 2026-07-02
}

func ExampleBindingHandle_Fetch() {
	srv, api, serviceSID := serviceExampleSetup()
	defer srv.Close()

	b, err := api.Services(serviceSID).Bindings("BS00000000000000000000000000000003").Fetch(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.SID, b.BindingType, b.Identity, b.UserURL != "")
	// Output:
	// BS00000000000000000000000000000003 apn bob true
}

func ExampleBindingHandle_Remove() {
	srv, api, serviceSID := serviceExampleSetup()
	defer srv.Close()

	ctx := context.Background()
	svc := api.Services(serviceSID)
	if err := svc.Bindings("BS00000000000000000000000000000003").Remove(ctx, chat.AcceptRetriedNotFound()); err != nil {
		log.Fatal(err)
	}
	// The binding is gone from its user's bindings too.
	_, err := svc.Users("bob").UserBindings("BS00000000000000000000000000000003").Fetch(ctx)
	fmt.Println(client.IsNotFound(err))
	// Output:
	// true
}

// A long walk of a service's bindings, page by page, that saves where it
// is and can resume after a restart.
func ExampleBindings_PageFromURL() {
	srv, api, serviceSID := serviceExampleSetup()
	defer srv.Close()

	ctx := context.Background()
	bindings := api.Services(serviceSID).Bindings
	page, err := bindings.FirstPage(ctx, &chat.BindingListParams{PageSize: 4})
	if err != nil {
		log.Fatal(err)
	}
	saved := page.Meta.NextPageURL // persisted by a real job

	page, err = bindings.PageFromURL(ctx, saved)
	for ; page != nil && err == nil; page, err = page.Next(ctx) {
		fmt.Printf("page %d: %d bindings\n", page.Meta.Page, len(page.Bindings))
	}
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// page 1: 2 bindings
}

func ExampleBindings_Pages() {
	srv, api, serviceSID := serviceExampleSetup()
	defer srv.Close()

	for page, err := range api.Services(serviceSID).Bindings.Pages(context.Background(), &chat.BindingListParams{PageSize: 4}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("page %d: %d bindings, next page: %v\n", page.Meta.Page, len(page.Bindings), page.Meta.NextPageURL != "")
	}
	// Output:
	// page 0: 4 bindings, next page: true
	// page 1: 2 bindings, next page: false
}

// RemoveIf on the service-wide resource: the condition sees the binding as
// it is now, whoever its user.
func ExampleBindingHandle_RemoveIf() {
	srv, api, serviceSID := serviceExampleSetup()
	defer srv.Close()

	ctx := context.Background()
	onlyAPN := func(b *chat.Binding) bool { return b.BindingType == chat.BindingTypeAPN }
	svc := api.Services(serviceSID)
	for _, sid := range []string{"BS00000000000000000000000000000003", "BS00000000000000000000000000000004"} {
		result, err := svc.Bindings(sid).RemoveIf(ctx, onlyAPN)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(sid, result)
	}
	// Output:
	// BS00000000000000000000000000000003 removed
	// BS00000000000000000000000000000004 kept
}
