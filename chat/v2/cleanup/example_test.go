package cleanup_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
)

// demo is an emulator with two users, each with a binding updated 90 days
// ago and one updated yesterday.
func demo() (*chattest.Server, chat.ServiceHandle) {
	srv := chattest.NewServer()
	svc := srv.AddService()
	for _, id := range []string{"alice", "bob"} {
		u := svc.AddUser(id)
		u.AddBinding(chattest.Binding{Type: chat.BindingTypeAPN, DateUpdated: time.Now().Add(-90 * 24 * time.Hour)})
		u.AddBinding(chattest.Binding{Type: chat.BindingTypeFCM, DateUpdated: time.Now().Add(-24 * time.Hour)})
	}
	c, _ := srv.Client()
	return srv, chat.New(c).Services(svc.SID)
}

// A dry run over named users: what would be removed, and nothing removed.
func ExampleJob_Users() {
	srv, svc := demo()
	defer srv.Close()
	job, err := cleanup.New(svc, cleanup.Options{
		OlderThan:   30 * 24 * time.Hour,
		Concurrency: 1, // one user at a time, so the example prints in order
		OnOutcome: func(o cleanup.Outcome) {
			fmt.Println(o.Result, o.User, o.Type)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := job.Users(context.Background(), slices.Values([]string{"alice", "bob"}))
	fmt.Printf("scanned %d, would remove %d, removed %d, err %v\n", r.Scanned, r.WouldRemove, r.Removed, err)
	// Output:
	// would_remove alice apn
	// would_remove bob apn
	// scanned 4, would remove 2, removed 0, err <nil>
}

// Removing the stale bindings of the whole service, walking the
// service-wide resource, with an audit line per outcome.
func ExampleJob_Service() {
	srv, svc := demo()
	defer srv.Close()
	var audit bytes.Buffer
	job, err := cleanup.New(svc, cleanup.Options{OlderThan: 30 * 24 * time.Hour, Apply: true, Audit: &audit})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := job.Service(context.Background())
	fmt.Printf("scanned %d, matched %d, removed %d, err %v\n", r.Scanned, r.Matched, r.Removed, err)
	fmt.Println(bytes.Count(audit.Bytes(), []byte(`"outcome":"removed"`)), "audit lines say removed")
	// Output:
	// scanned 4, matched 2, removed 2, err <nil>
	// 2 audit lines say removed
}

// A dry run writes a plan to review; ApplyPlan then removes exactly the
// bindings it names, each read again first. The job that applies it takes
// its options from the plan.
func ExampleJob_ApplyPlan() {
	srv, svc := demo()
	defer srv.Close()
	var plan bytes.Buffer
	dry, _ := cleanup.New(svc, cleanup.Options{OlderThan: 30 * 24 * time.Hour, Plan: &plan})
	if _, err := dry.Service(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	// … the plan is reviewed …
	p, err := cleanup.ReadPlan(bytes.NewReader(plan.Bytes()))
	if err != nil {
		fmt.Println(err)
		return
	}
	olderThan, _ := p.Header.OlderThanDuration()
	job, _ := cleanup.New(svc, cleanup.Options{OlderThan: olderThan, Types: p.Header.BindingTypes(), Apply: true})
	r, err := job.ApplyPlan(context.Background(), p)
	fmt.Printf("the plan names %d bindings; removed %d, err %v\n", p.Lines, r.Removed, err)
	// Output:
	// the plan names 2 bindings; removed 2, err <nil>
}

// A journal makes a job resumable: stopped (here, cancelled after its
// first removal; in life, killed), it is started again with the same
// options and journal, and does only what is left.
func ExampleOptions_journal() {
	srv, svc := demo()
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "cleanup-example")
	defer os.RemoveAll(dir)
	opts := cleanup.Options{OlderThan: 30 * 24 * time.Hour, Apply: true, Journal: filepath.Join(dir, "job.journal"), Concurrency: 1}
	users := slices.Values([]string{"alice", "bob"})

	ctx, stop := context.WithCancel(context.Background())
	opts.OnOutcome = func(cleanup.Outcome) { stop() }
	first, _ := cleanup.New(svc, opts)
	r1, err := first.Users(ctx, users)
	fmt.Printf("first run: removed %d, err %v\n", r1.Removed, err)

	opts.OnOutcome = nil
	again, _ := cleanup.New(svc, opts)
	r2, err := again.Users(context.Background(), users)
	fmt.Printf("resumed: skipped %d finished user, removed %d, err %v\n", r2.Skipped, r2.Removed, err)
	// Output:
	// first run: removed 1, err context canceled
	// resumed: skipped 1 finished user, removed 1, err <nil>
}
