//go:build race

package jsonscan

// raceOn: the race detector adds allocations, so tests that count them
// only report under it.
const raceOn = true
