package chattest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/client"
)

const someBinding = "BS0123456789abcdef0123456789abcdef"

// TestZeroValuesAreSafe: a Server, Service or User that the emulator did not
// make (a zero value, a nil pointer, or one whose SID was changed) never
// panics: a zero Server stores seeds but serves nothing, and a Service or
// User that is not the emulator's seeds nothing and holds nothing.
func TestZeroValuesAreSafe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// run does the calls and returns what is wrong with their
		// results, "" for nothing.
		run func(t *testing.T) string
	}{
		{"a zero Server stores the seeds it is given", func(*testing.T) string {
			var s chattest.Server
			u := s.AddService().AddUser("alice")
			bs := u.AddBinding(chattest.Binding{SID: someBinding})
			if bs != someBinding || len(u.Bindings()) != 1 {
				return fmt.Sprintf("AddBinding = %q, then %d bindings; want the seed back", bs, len(u.Bindings()))
			}
			return ""
		}},
		{"a zero Server closes as a no-op, twice", func(*testing.T) string {
			var s chattest.Server
			s.Close()
			s.Close()
			var nilServer *chattest.Server
			nilServer.Close()
			return ""
		}},
		{"a nil Server: every method is safe", func(*testing.T) string {
			var s *chattest.Server
			s.Inject(chattest.Fault{Status: 500})
			s.SetLatency(time.Second)
			s.SetClockSkew(time.Hour)
			s.SetLimits(chattest.RealLimits())
			if n := s.PendingFaults(); n != 0 {
				return fmt.Sprintf("PendingFaults = %d, want 0", n)
			}
			if st := s.Stats(); st != (chattest.Stats{}) {
				return fmt.Sprintf("Stats = %+v, want zero", st)
			}
			if c, err := s.Client(); c != nil || err == nil {
				return fmt.Sprintf("Client() = %v, %v; want an error", c, err)
			}
			if u := s.AddService().AddUser("alice"); u.AddBinding(chattest.Binding{}) != "" {
				return "a nil Server's service stored a binding"
			}
			if got := fmt.Sprintf("%v|%+v|%#v", s, s, s); got != strings.Repeat("chattest server (nil)|", 2)+"chattest server (nil)" {
				return "formatted as " + got
			}
			return ""
		}},
		{"a zero Server's Client is an error that says to start one", func(*testing.T) string {
			var s chattest.Server
			c, err := s.Client()
			var ce *client.ConfigError
			if c != nil || !errors.As(err, &ce) || !containsAll(err.Error(), "not running", "chattest.NewServer") {
				return fmt.Sprintf("Client() = %v, %v; want a *client.ConfigError saying to start a server", c, err)
			}
			return ""
		}},
		{"a zero Service seeds nothing", func(*testing.T) string {
			var sv chattest.Service
			u := sv.AddUser("alice")
			if u == nil || u.Identity != "alice" || u.SID != "" {
				return fmt.Sprintf("AddUser = %+v; want a user alice with no SID", u)
			}
			if bs := u.AddBinding(chattest.Binding{}); bs != "" || u.Bindings() != nil || sv.Bindings() != nil {
				return fmt.Sprintf("AddBinding = %q, then %v and %v; want nothing stored", bs, u.Bindings(), sv.Bindings())
			}
			return ""
		}},
		{"a zero User does nothing", func(*testing.T) string {
			var u chattest.User
			if bs := u.AddBinding(chattest.Binding{SID: someBinding}); bs != "" {
				return fmt.Sprintf("AddBinding = %q, want \"\"", bs)
			}
			if u.Bindings() != nil || u.RefreshBinding(someBinding, time.Now()) || u.RemoveBinding(someBinding) {
				return "a zero User has a binding"
			}
			return ""
		}},
		{"nil Service and User pointers do nothing", func(*testing.T) string {
			var sv *chattest.Service
			var u *chattest.User
			if sv.Bindings() != nil || sv.AddUser("a").SID != "" || u.Bindings() != nil || u.AddBinding(chattest.Binding{}) != "" ||
				u.RefreshBinding(someBinding, time.Now()) || u.RemoveBinding(someBinding) {
				return "a nil Service or User did something"
			}
			return ""
		}},
		{"a Service or User whose SID was changed touches no other", func(t *testing.T) string {
			srv := chattest.NewTestServer(t)
			sv := srv.AddService()
			alice := sv.AddUser("alice")
			bs := alice.AddBinding(chattest.Binding{})
			lost := *sv
			lost.SID = "IS00000000000000000000000000000000"
			if u := lost.AddUser("bob"); u.SID != "" || lost.Bindings() != nil {
				return fmt.Sprintf("a Service of another SID: AddUser = %+v, Bindings = %v", u, lost.Bindings())
			}
			stray := *alice
			stray.SID = "US00000000000000000000000000000000"
			if stray.AddBinding(chattest.Binding{}) != "" || stray.Bindings() != nil || stray.RemoveBinding(bs) || stray.RefreshBinding(bs, time.Now()) {
				return "a User of another SID reached a binding"
			}
			if n := len(sv.Bindings()); n != 1 {
				return fmt.Sprintf("the service has %d bindings, want alice's 1", n)
			}
			return ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panicked: %v", r)
				}
			}()
			if problem := tc.run(t); problem != "" {
				t.Error(problem)
			}
		})
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
