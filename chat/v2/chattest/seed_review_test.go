package chattest

import (
	"strings"
	"testing"
)

// Never a panic on input: a seed with a short SID panics in AddBinding
// (bs[2:14] for the default endpoint).
func TestAddBindingWithAShortSIDDoesNotPanic(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	u := s.AddService().AddUser("alice")
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("AddBinding(Binding{SID: \"BS1\"}) panicked: %v", r)
		}
	}()
	u.AddBinding(Binding{SID: "BS1"})
}

// SIDs found in either case: two seeds whose SIDs differ only in case are
// one binding; the second replaces the first, so no binding is listed that
// no SID reaches.
func TestAddBindingWithASIDInOtherCaseReplacesIt(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	u := s.AddService().AddUser("alice")
	lower := "BS0123456789abcdef0123456789abcdef"
	u.AddBinding(Binding{SID: lower})
	u.AddBinding(Binding{SID: lower[:2] + strings.ToUpper(lower[2:])})
	if n := len(u.Bindings()); n != 1 {
		t.Fatalf("%d bindings after seeding one SID twice, in two cases; want the second to replace the first", n)
	}
	u.RemoveBinding(lower)
	for _, b := range u.Bindings() {
		if u.RefreshBinding(string(b.SID), b.DateUpdated) {
			continue
		}
		t.Errorf("binding %s is listed but cannot be found by its SID (duplicate seed accepted silently)", b.SID)
	}
}
