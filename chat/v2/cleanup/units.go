package cleanup

import "sync"

// A job's progress is kept in units: a user, a page of the service-wide
// walk, a line of a plan. A unit is done when it has been listed and every
// binding found in it has an outcome; only then does the journal count it,
// so a resumed job lists again exactly the units that were not done.

type unit struct {
	mu         sync.Mutex
	pending    int  // bindings without an outcome
	sealed     bool // listed: no more bindings will come
	incomplete bool // its listing failed, or a binding was left undecided
	fired      bool
	onDone     func() error // called once, when done; nil for nothing
	fail       func(error)  // where onDone's error goes
}

// add counts one more binding of u on its way to an outcome.
func (u *unit) add() {
	u.mu.Lock()
	u.pending++
	u.mu.Unlock()
}

// seal notes that u has been listed, completely or not.
func (u *unit) seal(complete bool) {
	u.mu.Lock()
	u.sealed = true
	u.incomplete = u.incomplete || !complete
	u.maybeDone()
}

// settle notes that one binding of u has an outcome (decided), or will not
// have one in this run.
func (u *unit) settle(decided bool) {
	u.mu.Lock()
	u.pending--
	u.incomplete = u.incomplete || !decided
	u.maybeDone()
}

// maybeDone runs onDone once u is done, and unlocks u.
func (u *unit) maybeDone() {
	run := u.sealed && u.pending == 0 && !u.incomplete && !u.fired && u.onDone != nil
	u.fired = u.fired || run
	u.mu.Unlock()
	if run {
		if err := u.onDone(); err != nil {
			u.fail(err)
		}
	}
}

// walkMarks follows the pages of the service-wide walk to the first one not
// done, the place a resumed walk starts from.
type walkMarks struct {
	mu       sync.Mutex
	done     map[int]bool
	next     map[int]string // each page's next_page_url
	first    int            // the first page not done
	complete bool           // every page to the last is done
	record   func(from string) error
}

// open starts following page i, whose next_page_url is next.
func (m *walkMarks) open(i int, next string, fail func(error)) *unit {
	m.mu.Lock()
	m.next[i] = next
	m.mu.Unlock()
	return &unit{fail: fail, onDone: func() error { return m.finish(i) }}
}

// finish notes that page i is done and records where the walk would go on
// from, when that moved.
func (m *walkMarks) finish(i int) error {
	m.mu.Lock()
	m.done[i] = true
	moved := false
	for m.done[m.first] {
		delete(m.done, m.first)
		m.first++
		moved = true
	}
	from, last := m.next[m.first-1], m.next[m.first-1] == ""
	for k := range m.next {
		if k < m.first-1 {
			delete(m.next, k)
		}
	}
	if moved && last {
		m.complete = true
	}
	m.mu.Unlock()
	if !moved || last {
		return nil
	}
	return m.record(from)
}
