package cli

import (
	"encoding/hex"
	"sync"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// Seen is the set of bindings a run has already dealt with, so that a user
// named twice (a repeated line, or once by identity and once by SID) has
// each binding judged, listed and removed once. A binding costs 16 bytes
// of key: its SID's 32 hex digits, decoded (so that case does not matter).
type Seen struct {
	mu sync.Mutex
	m  map[[16]byte]struct{}
}

// Add records sid and reports whether it was new. A SID that is not a
// well-formed BS… SID is always new: it cannot be told apart.
func (s *Seen) Add(sid chat.BindingSID) bool {
	var k [16]byte
	if len(sid) != 34 {
		return true
	}
	if _, err := hex.Decode(k[:], []byte(sid[2:])); err != nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[[16]byte]struct{}{}
	}
	if _, ok := s.m[k]; ok {
		return false
	}
	s.m[k] = struct{}{}
	return true
}
