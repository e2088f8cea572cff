package cleanup

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
)

func TestKeySetAgreesWithAMap(t *testing.T) {
	t.Parallel()
	var s keySet
	m := map[userKey]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3*recentMax+17; i++ {
		k := userKey(r.Uint64N(1 << 20)) // repeats, so add sees old keys too
		if got, want := s.add(k), !m[k]; got != want {
			t.Fatalf("add(%d) = %v, want %v", k, got, want)
		}
		m[k] = true
	}
	if s.len() != len(m) {
		t.Fatalf("len %d, want %d", s.len(), len(m))
	}
	n := 0
	s.each(func(k userKey) {
		if !m[k] {
			t.Fatalf("each gave %d, not in the set", k)
		}
		n++
	})
	if n != len(m) {
		t.Fatalf("each gave %d keys of %d", n, len(m))
	}
	for i := 0; i < 1000; i++ {
		k := userKey(r.Uint64N(1 << 21))
		if s.has(k) != m[k] {
			t.Fatalf("has(%d) = %v", k, s.has(k))
		}
	}
}

// TestKeySetCostsAboutEightBytesAKey is not parallel: it measures the heap.
func TestKeySetCostsAboutEightBytesAKey(t *testing.T) {
	const n = 1_000_000
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var s keySet
	for i := 0; i < n; i++ {
		s.add(userKeyOf(strconv.Itoa(i)))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(&s)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	t.Logf("%.1f bytes a key, for a million keys", per)
	if per > 16 {
		t.Errorf("%.1f bytes a key; want about 8", per)
	}
}
