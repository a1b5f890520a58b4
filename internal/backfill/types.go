package backfill

import (
	"context"
	"encoding/json"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// Historian is the part of a vendor client the engine uses.
type Historian interface {
	Capabilities(symbol string) (vendor.Capabilities, error)
	History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error)
}

// Store is the part of the database the engine uses. Commit must apply
// everything in a Commit in one transaction: bars, frontiers, ledger,
// quarantine and gap progress commit together or not at all.
type Store interface {
	SeriesState(ctx context.Context, s vendor.Series) (State, error)
	Commit(ctx context.Context, c Commit) (Written, error)
}

// State is what the engine needs to know about a stored series.
type State struct {
	// Oldest and Newest are the open times of the oldest and newest stored bar;
	// zero when the series has no bars.
	Oldest, Newest time.Time
	// Exhausted is set once the vendor's history has been walked to its end (or
	// to the horizon that was in force); the walk is not repeated.
	Exhausted bool
	// ExhaustedAt is the open time down to which history was walked when it
	// was marked exhausted.
	ExhaustedAt time.Time
	// Gaps are open head gaps still to heal, oldest first.
	Gaps []Gap
}

// HasData reports whether any bar is stored.
func (s State) HasData() bool { return !s.Newest.IsZero() }

// Gap is a range (From, To) whose bars are missing: From is the newest bar
// stored below it, To the oldest stored above it (zero: up to now). Healing
// walks back from To and moves To down with every committed page.
type Gap struct {
	From, To time.Time
}

// overlaps reports whether g and the gap (from, to) share a missing bar's
// time; a zero To is open upwards.
func (g Gap) overlaps(from, to time.Time) bool {
	return (to.IsZero() || g.From.Before(to)) && (g.To.IsZero() || from.Before(g.To))
}

// Coverage states, as stored in the coverage ledger.
const (
	CoverageFetched     = "fetched"     // fetched; missing bars inside are "no trades"
	CoverageEmpty       = "empty"       // the vendor confirmed it has no bars there
	CoverageUnavailable = "unavailable" // the vendor cannot serve it (plan, depth, paging)
	CoverageFailed      = "failed"      // fetching failed; will be retried
)

// Coverage is one ledger entry: what is known about [From, To) of a series.
type Coverage struct {
	From, To time.Time
	State    string
	Error    string // last error for CoverageFailed, reason for the others
}

// Quarantined is an element that failed decoding or validation.
type Quarantined struct {
	Time   time.Time // zero when unknown (decode failures)
	Reason string
	Raw    json.RawMessage
}

// Candle is a validated bar and whether it is final.
type Candle struct {
	vendor.Bar
	Final bool
}

// Commit is one page's worth of changes to a series.
type Commit struct {
	Series vendor.Series
	// Bars to write. When AllNew is set every bar is strictly older than the
	// stored oldest bar, so the store may insert without conflict handling.
	Bars   []Candle
	AllNew bool
	// Exhausted marks the history walk finished down to ExhaustedAt.
	Exhausted   bool
	ExhaustedAt time.Time
	Coverage    []Coverage
	Quarantine  []Quarantined
	// OpenGap records a new gap; CloseGap/MoveGap record healing progress of
	// the gap whose From is GapFrom: MoveGap sets its To to GapTo, CloseGap
	// removes it.
	OpenGap  *Gap
	GapFrom  time.Time
	MoveGap  bool
	CloseGap bool
	GapTo    time.Time
	// Refetch records gaps around bars quarantined for impossible values, applied
	// after the gap change above: a later pass fetches them again, and a vendor
	// that garbled one answer usually serves the bar right the next time.
	Refetch []Gap
}

// Written reports what a Commit changed in candles.
type Written struct {
	Inserted, Updated, Unchanged int
}
