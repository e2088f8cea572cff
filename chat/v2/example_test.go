package chat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// exampleSetup starts an emulator with one user and three bindings with
// fixed SIDs, so the examples print the same thing every time. Real
// programs use client.New(client.WithCredentials(…)) instead.
func exampleSetup() (*chattest.Server, *chat.API, string) {
	srv := chattest.NewServer()
	svc := srv.AddService()
	u := svc.AddUser("alice@example.com")
	day := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, typ := range []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeFCM, chat.BindingTypeAPN} {
		u.AddBinding(chattest.Binding{SID: fmt.Sprintf("BS%032d", i+1), Type: typ, DateCreated: day.AddDate(0, i, 0)})
	}
	c, err := srv.Client()
	if err != nil {
		log.Fatal(err)
	}
	return srv, chat.New(c), svc.SID
}

func Example() {
	srv, _, serviceSID := exampleSetup()
	defer srv.Close()

	// With a real account: client.New() reads TWILIO_ACCOUNT_SID and
	// TWILIO_AUTH_TOKEN from the environment.
	c, err := client.New(
		client.WithCredentials(srv.AccountSID, srv.AuthToken),
		client.WithBaseURL(srv.URL), // omit to reach https://chat.twilio.com
	)
	if err != nil {
		log.Fatal(err)
	}
	alice := chat.New(c).Services(serviceSID).Users("alice@example.com")
	for b, err := range alice.UserBindings.List(context.Background(), nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.SID, b.BindingType, b.DateUpdated.Format(time.DateOnly))
	}
	// Output:
	// BS00000000000000000000000000000001 apn 2026-01-02
	// BS00000000000000000000000000000002 fcm 2026-02-02
	// BS00000000000000000000000000000003 apn 2026-03-02
}

func ExampleUserBindings_List() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	alice := api.Services(serviceSID).Users("alice@example.com")
	params := &chat.UserBindingListParams{BindingType: []chat.BindingType{chat.BindingTypeAPN}}
	for b, err := range alice.UserBindings.List(context.Background(), params) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.SID, b.BindingType, b.Identity)
	}
	// Output:
	// BS00000000000000000000000000000001 apn alice@example.com
	// BS00000000000000000000000000000003 apn alice@example.com
}

func ExampleUserBindingHandle_Fetch() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	b, err := api.Services(serviceSID).Users("alice@example.com").UserBindings("BS00000000000000000000000000000002").Fetch(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.SID, b.BindingType, b.MessageTypes)
	fmt.Println("endpoint redacted:", strings.Contains(fmt.Sprintf("%+v", b), "Endpoint:[redacted]"))
	// Output:
	// BS00000000000000000000000000000002 fcm [removed_from_channel new_message added_to_channel invited_to_channel]
	// endpoint redacted: true
}

func ExampleUserBindingHandle_Remove() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	alice := api.Services(serviceSID).Users("alice@example.com")
	ctx := context.Background()
	if err := alice.UserBindings("BS00000000000000000000000000000002").Remove(ctx, chat.AcceptRetriedNotFound()); err != nil {
		log.Fatal(err)
	}
	err := alice.UserBindings("BS00000000000000000000000000000002").Remove(ctx)
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code, client.IsNotFound(err))
	}
	// Output:
	// 404 20404 true
}

func ExampleUserBindings_PageFromURL() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	ctx := context.Background()
	bindings := api.Services(serviceSID).Users("alice@example.com").UserBindings
	first, err := bindings.FirstPage(ctx, &chat.UserBindingListParams{PageSize: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("page", first.Meta.Page, "has", len(first.Bindings))

	// A long job saves first.Meta.NextPageURL and, after a restart, resumes:
	page, err := bindings.PageFromURL(ctx, first.Meta.NextPageURL)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("page", page.Meta.Page, "has", len(page.Bindings), "last:", page.Meta.NextPageURL == "")
	// Output:
	// page 0 has 2
	// page 1 has 1 last: true
}

func ExampleUserBindings_Pages() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	bindings := api.Services(serviceSID).Users("alice@example.com").UserBindings
	for page, err := range bindings.Pages(context.Background(), &chat.UserBindingListParams{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("page %d: %d bindings, size %d\n", page.Meta.Page, len(page.Bindings), page.Meta.PageSize)
	}
	// Output:
	// page 0: 2 bindings, size 2
	// page 1: 1 bindings, size 2
}

// A cleanup that removes only what is still stale when it gets to it:
// RemoveIf reads the binding, asks the condition, and only then deletes,
// so a device that registered again since it was listed is kept.
func ExampleUserBindingHandle_RemoveIf() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	ctx := context.Background()
	cutoff := time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC)
	stale := func(b *chat.UserBinding) bool { return b.DateUpdated.Before(cutoff) }
	alice := api.Services(serviceSID).Users("alice@example.com")
	for _, sid := range []string{
		"BS00000000000000000000000000000001", // updated in January: removed
		"BS00000000000000000000000000000003", // updated in March: kept
		"BS00000000000000000000000000000001", // removed already
	} {
		result, err := alice.UserBindings(sid).RemoveIf(ctx, stale)
		if err != nil {
			log.Fatal(err) // client.MayHaveApplied(err) tells whether a DELETE may have gone through
		}
		fmt.Println(sid, result)
	}
	// Output:
	// BS00000000000000000000000000000001 removed
	// BS00000000000000000000000000000003 kept
	// BS00000000000000000000000000000001 already gone
}

// The response of a call that succeeded, for an audit trail: its status,
// its Twilio-Request-Id (to quote to Twilio support) and how many attempts
// it took. A failed call's *client.Error carries its status, request ID and attempts.
func ExampleResponseInto() {
	srv, api, serviceSID := exampleSetup()
	defer srv.Close()

	ctx := context.Background()
	h := api.Services(serviceSID).Users("alice@example.com").UserBindings("BS00000000000000000000000000000002")
	var resp client.Response
	if _, err := h.Fetch(ctx, chat.ResponseInto(&resp)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("fetch:", resp.StatusCode, "attempts", resp.Attempts, "request ID", resp.RequestID[:2]+"…")
	if err := h.Remove(ctx, chat.ResponseInto(&resp)); err != nil {
		log.Fatal(err)
	}
	// The emulator's request IDs are random, so only their prefix is
	// printed here; an audit log keeps the whole of resp.RequestID.
	fmt.Println("remove:", resp.StatusCode, "attempts", resp.Attempts, "request ID", resp.RequestID[:2]+"…", len(resp.RequestID), "characters")
	// Output:
	// fetch: 200 attempts 1 request ID RQ…
	// remove: 204 attempts 1 request ID RQ… 34 characters
}
