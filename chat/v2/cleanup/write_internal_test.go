package cleanup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

// TestNothingIsRemovedWhoseIntentWasNotRecorded: when the journal can no
// longer be written (its file fails under the job), the job ends with a
// *WriteError, and every DELETE it sent had its intent recorded first.
func TestNothingIsRemovedWhoseIntentWasNotRecorded(t *testing.T) {
	t.Parallel()
	srv := chattest.NewTestServer(t)
	svc := srv.AddService()
	var names []string
	for i := 0; i < 10; i++ {
		u := svc.AddUser(fmt.Sprintf("user-%d", i))
		names = append(names, u.Identity)
		for k := 0; k < 10; k++ {
			u.AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-60 * 24 * time.Hour)})
		}
	}
	var deletes atomic.Int64
	count := func(rt http.RoundTripper) http.RoundTripper {
		return roundTrip(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodDelete {
				deletes.Add(1)
			}
			return rt.RoundTrip(r)
		})
	}
	c, err := srv.Client(client.WithTransportWrapper(count))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "job.journal")
	job, err := New(chat.New(c).Services(svc.SID), Options{OlderThan: 30 * 24 * time.Hour, Apply: true, Journal: path, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	users := func(yield func(string) bool) {
		for i, name := range names {
			if i == 3 { // the disk fails under the journal
				job.journal.mu.Lock()
				job.journal.f.Close()
				job.journal.mu.Unlock()
			}
			if !yield(name) {
				return
			}
		}
	}
	r, err := job.Users(context.Background(), users)
	var we *WriteError
	if !errors.As(err, &we) || we.What != "journal" || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("err = %v, want a WriteError on the journal", err)
	}
	raw, _ := os.ReadFile(path)
	intents := int64(strings.Count(string(raw), `"intent":true`))
	if deletes.Load() > intents || r.Removed > intents {
		t.Errorf("%d DELETEs sent and %d removals reported, but only %d intents recorded", deletes.Load(), r.Removed, intents)
	}
	if left := len(svc.Bindings()); int64(100-left) != r.Removed {
		t.Errorf("%d removed by the emulator, %d reported", 100-left, r.Removed)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
