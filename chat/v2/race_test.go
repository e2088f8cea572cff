//go:build race

package chat_test

// raceEnabled: the race detector changes allocation counts, so tests that
// bound allocations only report them.
const raceEnabled = true
