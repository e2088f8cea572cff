//go:build race

package cleanup_test

// raceEnabled: the race detector makes memory and long runs unrepresentative,
// so the tests that measure them run without it (CI runs them so).
const raceEnabled = true
