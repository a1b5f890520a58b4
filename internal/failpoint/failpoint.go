// Package failpoint names the places where the reliability suite
// (internal/chaos) crashes syncd on purpose, to prove that a crash at the
// worst moment loses and duplicates nothing.
//
// Release builds compile Hit to nothing (off.go). A binary built with the
// chaos tag (on.go) reads SYNCD_TEST_FAILPOINT=name[@n] and kills its own
// process with SIGKILL at the n-th time (default the first) the named point
// is reached: no deferred function runs, no buffer is flushed, no
// transaction is rolled back politely, exactly as with kill -9.
package failpoint

// Name is a place where a chaos build may crash.
type Name string

// The named points, in the order a page goes through them.
const (
	// AfterResponse: a history page has arrived and been decoded, and no
	// transaction for it has begun.
	AfterResponse Name = "after-response"
	// DuringWrite: the bars are written inside the open transaction, which
	// has not committed.
	DuringWrite Name = "during-write"
	// AfterCommit: the page's transaction has committed and the engine has
	// not yet moved its cursor in memory.
	AfterCommit Name = "after-commit"
)

// Names lists every point.
func Names() []Name { return []Name{AfterResponse, DuringWrite, AfterCommit} }

// Env is the variable a chaos build reads.
const Env = "SYNCD_TEST_FAILPOINT"
