package chat_test

import (
	"context"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// TestE2ERemoveIfAfterA429KeepsARefreshedBinding: against the emulator, a
// DELETE answered 429 with Retry-After 1 s, during which the device
// registers again: RemoveIf reads the binding again before any second
// DELETE, finds it fresh, and keeps it. Through both resources.
func TestE2ERemoveIfAfterA429KeepsARefreshedBinding(t *testing.T) {
	t.Parallel()
	srv := chattest.NewServer()
	t.Cleanup(srv.Close)
	svc := srv.AddService()
	u := svc.AddUser("alice")
	cutoff := time.Now().Add(-24 * time.Hour)
	old := time.Now().Add(-30 * 24 * time.Hour)
	c, err := srv.Client(client.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	api := chat.New(c)
	removeIfs := map[string]func(sid string) (chat.RemoveResult, error){
		"user binding": func(sid string) (chat.RemoveResult, error) {
			return api.Services(svc.SID).Users("alice").UserBindings(sid).RemoveIf(context.Background(), func(b *chat.UserBinding) bool { return b.DateUpdated.Before(cutoff) })
		},
		"binding": func(sid string) (chat.RemoveResult, error) {
			return api.Services(svc.SID).Bindings(sid).RemoveIf(context.Background(), func(b *chat.Binding) bool { return b.DateUpdated.Before(cutoff) })
		},
	}
	for name, removeIf := range removeIfs {
		sid := u.AddBinding(chattest.Binding{DateUpdated: old})
		srv.Inject(chattest.Fault{Method: "DELETE", Status: 429, RetryAfter: "1"})
		refreshed := make(chan struct{})
		go func() {
			defer close(refreshed)
			for srv.PendingFaults() > 0 { // the 429 has not been served yet
				time.Sleep(time.Millisecond)
			}
			u.RefreshBinding(sid, time.Now()) // the device registers again, within the Retry-After
		}()
		before := srv.Stats()
		got, err := removeIf(sid)
		<-refreshed
		after := srv.Stats()
		if err != nil || got != chat.Kept {
			t.Errorf("%s: RemoveIf = %v, %v; want kept", name, got, err)
		}
		if removed := after.Removed - before.Removed; removed != 0 || len(u.Bindings()) != 1 {
			t.Errorf("%s: %d removed, %d left; the refreshed binding must stay", name, removed, len(u.Bindings()))
		}
		u.RemoveBinding(sid)
	}
	// A cut DELETE that the emulator served: the read after finds nothing,
	// and the removal is this call's.
	sid := u.AddBinding(chattest.Binding{DateUpdated: old})
	srv.Inject(chattest.Fault{Method: "DELETE", CutBody: true})
	if got, err := removeIfs["user binding"](sid); err != nil || got != chat.Removed {
		t.Errorf("a cut DELETE that was served: %v, %v; want removed", got, err)
	}
}
