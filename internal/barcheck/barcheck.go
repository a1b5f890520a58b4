// Package barcheck validates bars before they are written. Nothing from the
// network reaches `candles` without passing Check: a bar that breaks an OHLC
// invariant, is misaligned to its timeframe, lies outside the requested range
// or later than the forming bar, or carries implausible units is returned as a
// Problem for the quarantine table, and the rest of the page is kept.
package barcheck

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// Reason codes, stored in quarantine.reason as the prefix before ": ". They are
// stable so users can group quarantined rows with SQL.
const (
	ReasonOHLC      = "ohlc"         // low/high do not bracket open and close, or high < low
	ReasonNegative  = "negative"     // negative volume or turnover, non-positive price
	ReasonAligned   = "misaligned"   // open time not on the timeframe's grid
	ReasonRange     = "out-of-range" // outside the requested window
	ReasonFuture    = "future"       // opens after the forming bar could
	ReasonDuplicate = "duplicate"    // same open time twice with different values
	ReasonEpoch     = "implausible-time"
)

// earliest is the oldest open time accepted; anything before is a unit error
// (a seconds timestamp divided by 1000 lands in January 1970) or garbage; none
// of the vendors serves bars that old.
var earliest = time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)

// Rules say what a valid page looks like.
type Rules struct {
	// Timeframe of the series (required).
	Timeframe vendor.Timeframe
	// Market decides whether prices may be non-positive (commodity futures
	// have traded below zero) and how strictly intraday bars are aligned.
	Market vendor.Market
	// Now is the check's clock reading; no bar may open after Now+Skew.
	Now time.Time
	// Skew tolerates a vendor clock slightly ahead of ours; 0 means 2 minutes.
	Skew time.Duration
	// End, when non-zero, is the requested history end: no bar may open after it
	// (the bar containing End opens at or before it).
	End time.Time
	// Start, when non-zero, is the earliest open time that belongs to the request.
	Start time.Time
}

// Problem is a bar that failed a check.
type Problem struct {
	Bar    vendor.Bar
	Reason string // "<code>: detail"
}

// Raw renders the bar's values as JSON text for the quarantine table, exact
// decimals as strings.
func (p Problem) Raw() json.RawMessage {
	b := p.Bar
	m := map[string]any{
		"ts": b.Time.UTC().Format(time.RFC3339), "open": b.Open, "high": b.High, "low": b.Low,
		"close": b.Close, "volume": b.Volume, "turnover": b.Turnover,
	}
	out, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return out
}

// Check returns the bars that pass, in ascending time order, and the ones that
// do not. Input order does not matter. Two bars with the same open time and
// identical values collapse to one; with different values both are rejected,
// since nothing tells which one the vendor meant.
func Check(bars []vendor.Bar, r Rules) (good []vendor.Bar, bad []Problem) {
	sorted := make([]vendor.Bar, len(bars))
	copy(sorted, bars)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.Before(sorted[j].Time) })

	skew := r.Skew
	if skew == 0 {
		skew = 2 * time.Minute
	}
	good = sorted[:0:0]
	for i := 0; i < len(sorted); i++ {
		b := sorted[i]
		// Group equal open times.
		j := i + 1
		conflict := false
		for j < len(sorted) && sorted[j].Time.Equal(b.Time) {
			if !sorted[j].SameValues(b) {
				conflict = true
			}
			j++
		}
		if conflict {
			for k := i; k < j; k++ {
				bad = append(bad, Problem{Bar: sorted[k], Reason: ReasonDuplicate + ": conflicting values for the same open time"})
			}
			i = j - 1
			continue
		}
		i = j - 1
		if reason := checkOne(b, r, skew); reason != "" {
			bad = append(bad, Problem{Bar: b, Reason: reason})
			continue
		}
		good = append(good, b)
	}
	return good, bad
}

func checkOne(b vendor.Bar, r Rules, skew time.Duration) string {
	if b.Time.Before(earliest) {
		return fmt.Sprintf("%s: open time %s is before 1971-01-01", ReasonEpoch, b.Time.UTC().Format(time.RFC3339))
	}
	if !r.Now.IsZero() && b.Time.After(r.Now.Add(skew)) {
		return fmt.Sprintf("%s: opens at %s, after now %s", ReasonFuture, b.Time.UTC().Format(time.RFC3339), r.Now.UTC().Format(time.RFC3339))
	}
	if !r.End.IsZero() && b.Time.After(r.End) {
		return fmt.Sprintf("%s: opens at %s, after the requested end %s", ReasonRange, b.Time.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339))
	}
	if !r.Start.IsZero() && b.Time.Before(r.Start) {
		return fmt.Sprintf("%s: opens at %s, before the requested start %s", ReasonRange, b.Time.UTC().Format(time.RFC3339), r.Start.UTC().Format(time.RFC3339))
	}
	if g := Grid(r.Timeframe, r.Market); g > 0 && b.Time.UnixNano()%int64(g) != 0 {
		return fmt.Sprintf("%s: opens at %s, not on the %s grid of a %s bar", ReasonAligned, b.Time.UTC().Format(time.RFC3339Nano), g, r.Timeframe)
	}
	if b.Low.Cmp(b.High) > 0 {
		return fmt.Sprintf("%s: high %s < low %s", ReasonOHLC, b.High, b.Low)
	}
	for _, v := range []struct {
		name string
		cmp  int
	}{{"open", b.Open.Cmp(b.Low)}, {"close", b.Close.Cmp(b.Low)}} {
		if v.cmp < 0 {
			return fmt.Sprintf("%s: %s below low %s", ReasonOHLC, v.name, b.Low)
		}
	}
	if b.Open.Cmp(b.High) > 0 {
		return fmt.Sprintf("%s: open %s above high %s", ReasonOHLC, b.Open, b.High)
	}
	if b.Close.Cmp(b.High) > 0 {
		return fmt.Sprintf("%s: close %s above high %s", ReasonOHLC, b.Close, b.High)
	}
	if b.Volume.Sign() < 0 {
		return fmt.Sprintf("%s: volume %s", ReasonNegative, b.Volume)
	}
	if b.Turnover.Valid && b.Turnover.Decimal.Sign() < 0 {
		return fmt.Sprintf("%s: turnover %s", ReasonNegative, b.Turnover.Decimal)
	}
	if r.Market != vendor.MarketCommodity && b.Low.Sign() <= 0 {
		return fmt.Sprintf("%s: low price %s", ReasonNegative, b.Low)
	}
	return ""
}

// Grid is the spacing open times must be multiples of (since the Unix epoch).
//
// Short bars sit on their own length everywhere. Longer bars are anchored by
// each vendor and exchange differently (an hour bar may open at 09:30 New York
// or 09:15 Mumbai; a daily bar at exchange-local midnight, which moves with
// DST), so for them only a 15-minute grid is required: enough to catch unit
// errors and garbage without quarantining a real bar. 24/7 crypto has no such
// ambiguity intraday: its bars sit on their own length (daily anchors still
// differ by vendor: 00:00Z or UTC+8 midnight).
func Grid(tf vendor.Timeframe, m vendor.Market) time.Duration {
	d := tf.Duration()
	if tf == vendor.TF1M || tf == vendor.TF1w {
		return 15 * time.Minute
	}
	if m == vendor.MarketCrypto && d <= 4*time.Hour {
		return d
	}
	if d <= 15*time.Minute {
		return d
	}
	return 15 * time.Minute
}
