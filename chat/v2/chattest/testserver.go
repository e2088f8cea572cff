package chattest

import "testing"

// NewTestServer starts an emulator for the test, benchmark or fuzz target
// tb, and closes it when tb is done, so the test needs no Close of its own:
//
//	func TestCleanupJob(t *testing.T) {
//		srv := chattest.NewTestServer(t)
//		alice := srv.AddService().AddUser("alice")
//		…
//	}
//
// tb runs its cleanups last-registered first, so a cleanup the test
// registers after NewTestServer still finds the emulator running: it may
// inspect what is left or read Stats. The emulator is closed after tb's
// subtests, parallel ones included, are done.
func NewTestServer(tb testing.TB) *Server {
	s := NewServer()
	tb.Cleanup(s.Close)
	return s
}
