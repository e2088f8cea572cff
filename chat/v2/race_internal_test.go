//go:build race

package chat

// raceOn: the race detector changes allocation counts, so tests that bound
// allocations only report them.
const raceOn = true
