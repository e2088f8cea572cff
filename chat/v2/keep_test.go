package chat

import (
	"runtime"
	"testing"
)

// TestAKeptBindingKeepsOnlyItself is not parallel: it measures the live
// heap. A job that keeps the few stale bindings of a long listing must keep
// only those: a binding kept from a page of 1,000 holds as much memory as
// the same binding fetched on its own (about 740 bytes, with its strings).
// Carved from slabs of 64, one kept 58 times as much.
func TestAKeptBindingKeepsOnlyItself(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes what an allocation costs")
	}
	const n = 1000
	page := decodeBenchPage(func(i int) string { return bindingJSON(i, "apn") })
	one := []byte(bindingJSON(500, "apn"))
	perBinding := func(decode func() *UserBinding) float64 {
		runtime.GC()
		before := liveHeap()
		kept := make([]*UserBinding, 0, n)
		for i := 0; i < n; i++ {
			kept = append(kept, decode())
		}
		runtime.GC()
		after := liveHeap()
		runtime.KeepAlive(kept)
		return (float64(after) - float64(before)) / n
	}
	fetched := perBinding(func() *UserBinding {
		var d decoder[UserBinding]
		b := new(UserBinding)
		if _, err := d.single(one, b); err != nil {
			t.Fatal(err)
		}
		return b
	})
	fromPage := perBinding(func() *UserBinding {
		var d decoder[UserBinding] // each page a listing of its own, as a job's would be
		var p UserBindingPage
		if _, err := d.page(page, &p); err != nil {
			t.Fatal(err)
		}
		return p.Bindings[500]
	})
	runtime.KeepAlive(page) // live throughout, so neither measure sees a body freed
	runtime.KeepAlive(one)
	t.Logf("a kept binding holds %.0f bytes fetched alone, %.0f bytes kept from a page of 1,000 (%.2f×)", fetched, fromPage, fromPage/fetched)
	if fromPage > 1.25*fetched {
		t.Errorf("a binding kept from a page holds %.1f× the memory of one fetched alone; want at most 1.25×", fromPage/fetched)
	}
}
