package chat

import (
	"runtime"
	"testing"
)

// TestAKeptBindingKeepsOnlyItself is not parallel: it measures the live
// heap. A job that keeps the few stale bindings of a long listing must keep
// only those: bindings kept one from each page of 1,000 hold as much memory
// as bindings decoded alone (about 740 bytes each, with their strings).
// Carved from slabs of 64, they once held 58 times as much.
func TestAKeptBindingKeepsOnlyItself(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes what an allocation costs")
	}
	const n = 1000
	page := decodeBenchPage(func(i int) string { return bindingJSON(i, "apn") })
	single := []byte(`{"meta":{"key":"bindings"},"bindings":[` + bindingJSON(500, "apn") + `]}`)
	perBinding := func(body []byte, pick int) float64 {
		runtime.GC()
		before := liveHeap()
		kept := make([]*UserBinding, 0, n)
		for i := 0; i < n; i++ {
			var d decoder[UserBinding] // each page a listing of its own, as a job's would be
			var p UserBindingPage
			if _, err := d.page(body, &p); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, p.Bindings[pick])
		}
		runtime.GC()
		after := liveHeap()
		runtime.KeepAlive(kept)
		return (float64(after) - float64(before)) / n
	}
	alone := perBinding(single, 0)
	fromPages := perBinding(page, 500)
	runtime.KeepAlive(page) // live throughout, so neither measure sees a body freed
	runtime.KeepAlive(single)
	t.Logf("a kept binding holds %.0f bytes decoded alone, %.0f bytes kept from a page of 1,000 (%.2f×)", alone, fromPages, fromPages/alone)
	if fromPages > 1.25*alone {
		t.Errorf("a binding kept from a page holds %.1f× the memory of one decoded alone; want at most 1.25×", fromPages/alone)
	}
}
