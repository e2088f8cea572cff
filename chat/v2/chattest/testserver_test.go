package chattest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

// answers reports whether srv, with its own credentials, answers a
// listing. A fresh transport each time: a pooled connection could outlive
// the server. Another server that took the port could not accept srv's
// credentials, so only srv itself answers 200.
func answers(t *testing.T, srv *chattest.Server, svc, user string) bool {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/v2/Services/"+svc+"/Users/"+user+"/Bindings", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(srv.AccountSID, srv.AuthToken)
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestNewTestServerClosesWhenItsTestEnds(t *testing.T) {
	t.Parallel()
	var (
		srv                *chattest.Server
		svc                string
		during, laterClean bool
	)
	t.Run("user's test", func(t *testing.T) {
		srv = chattest.NewTestServer(t)
		s := srv.AddService()
		s.AddUser("alice").AddBinding(chattest.Binding{})
		svc = s.SID
		// Registered after NewTestServer, so run before the emulator closes.
		t.Cleanup(func() { laterClean = answers(t, srv, svc, "alice") })
		during = answers(t, srv, svc, "alice")
	})
	if !during {
		t.Fatal("the emulator did not answer during its test")
	}
	if !laterClean {
		t.Error("a cleanup registered after NewTestServer found the emulator closed")
	}
	if answers(t, srv, svc, "alice") {
		t.Error("the emulator still answers after its test ended")
	}
}

func TestNewTestServerWaitsForParallelSubtests(t *testing.T) {
	t.Parallel()
	var srv *chattest.Server
	var svc string
	t.Run("group", func(t *testing.T) {
		srv = chattest.NewTestServer(t)
		s := srv.AddService()
		s.AddUser("bob")
		svc = s.SID
		for _, name := range []string{"a", "b", "c"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel() // runs after the group's function has returned
				if !answers(t, srv, svc, "bob") {
					t.Error("the emulator was closed before a parallel subtest of its test ran")
				}
			})
		}
	})
	if answers(t, srv, svc, "bob") {
		t.Error("the emulator still answers after its test ended")
	}
}
