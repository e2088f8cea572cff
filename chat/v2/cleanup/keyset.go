package cleanup

import (
	"slices"
)

// keySet is a set of user keys that costs about 8 bytes a key, where a Go
// map costs 20 to 40: a job of a million users holds a million keys. New
// keys go to a small map; when it is full they are merged into a sorted
// slice, which a lookup searches. Not safe for concurrent use.
type keySet struct {
	sorted []userKey
	recent map[userKey]struct{}
}

// recentMax is how many keys wait in the map before a merge: a merge costs a
// pass over the sorted slice, so this bounds merges to one per 64 Ki keys.
const recentMax = 64 << 10

// has reports whether k is in s.
func (s *keySet) has(k userKey) bool {
	if _, ok := s.recent[k]; ok {
		return true
	}
	_, ok := slices.BinarySearch(s.sorted, k)
	return ok
}

// add puts k in s, reporting whether it was new.
func (s *keySet) add(k userKey) bool {
	if s.has(k) {
		return false
	}
	if s.recent == nil {
		s.recent = make(map[userKey]struct{})
	}
	s.recent[k] = struct{}{}
	if len(s.recent) >= recentMax {
		s.merge()
	}
	return true
}

// merge moves the recent keys into the sorted slice, in place when it has
// room: growing it is the only allocation.
func (s *keySet) merge() {
	add := make([]userKey, 0, len(s.recent))
	for k := range s.recent {
		add = append(add, k)
	}
	slices.Sort(add)
	old := len(s.sorted)
	s.sorted = slices.Grow(s.sorted, len(add))[:old+len(add)]
	// Merge from the back, so no key is overwritten before it moves.
	i, j := old-1, len(add)-1
	for k := len(s.sorted) - 1; j >= 0; k-- {
		if i >= 0 && s.sorted[i] > add[j] {
			s.sorted[k] = s.sorted[i]
			i--
		} else {
			s.sorted[k] = add[j]
			j--
		}
	}
	clear(s.recent)
}

// len is how many keys s holds.
func (s *keySet) len() int { return len(s.sorted) + len(s.recent) }

// each calls f with every key of s.
func (s *keySet) each(f func(userKey)) {
	for _, k := range s.sorted {
		f(k)
	}
	for k := range s.recent {
		f(k)
	}
}
