// Package chaos is syncd's reliability suite: the real syncd binary, built
// with the chaos tag (package failpoint), against the in-process vendor
// simulator and a real PostgreSQL, broken on purpose. Every scenario ends
// with the candles table compared row by row with the simulator's ground
// truth, zero plan violations at the simulator, and the persisted daily quota
// count never reset.
//
// The tests are behind the chaos build tag, so `go test ./...` does not run
// them: `make chaos/short` (the CI version, about five minutes) and `make
// chaos` (the full one) do. The README's "Reliability suite" section lists
// the scenarios and flags.
package chaos
