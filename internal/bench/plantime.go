package bench

import (
	"math"
	"time"

	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// SymbolYears is the workload of the planning table: 100 symbol-years of 1m
// bars of an always-open market (crypto), 525,600 bars a year.
const SymbolYears = 100

const barsPerYear = 365 * 24 * 60

// PlanTime is one public AllTick plan's row of the planning table.
type PlanTime struct {
	Plan string
	// Rate is history requests/s with nothing else polled; LiveRate with the
	// same symbols polled live at the plan's cadence (0: live polling leaves
	// backfill only the governor's minimum share, or nothing).
	Rate, LiveRate float64
	// Efficiency is the measured ratio applied, from the measurement nearest
	// in rate; BarsPerRequest is the unthrottled pipeline's (the page size
	// when it was not measured).
	Efficiency     float64
	EfficiencyFrom string
	BarsPerRequest float64
	// Took and LiveTook are the backfill times of SymbolYears.
	Took, LiveTook time.Duration
	// PipelineBound is set when the measured pipeline, not the plan, sets Took.
	PipelineBound bool
}

// planTimes computes the planning table from the measured efficiencies, by
// the formula of the benchmark issue:
//
//	backfill req/s = min(history rate, global rate − live, per-minute/60 − live, daily budget/86400 − live)
//	backfill bars/s = that × bars per request
//
// capped by the measured unthrottled pipeline where that is lower.
func planTimes(effs []Efficiency, pipe *Pipeline) []PlanTime {
	var out []PlanTime
	for _, name := range []string{"free", "basic", "premium", "professional"} {
		p, err := plan.Lookup(vendor.AllTick, name)
		if err != nil {
			continue
		}
		row := PlanTime{Plan: name, Rate: historyRate(p), LiveRate: backfillRateWithLive(p),
			Efficiency: 1, EfficiencyFrom: "none measured", BarsPerRequest: alltick.PageSize}
		if e, ok := nearest(effs, row.Rate); ok {
			row.Efficiency, row.EfficiencyFrom = e.Ratio(), e.Plan
		}
		if pipe != nil && pipe.BarsPerRequest() > 0 {
			row.BarsPerRequest = pipe.BarsPerRequest()
		}
		row.Took, row.PipelineBound = backfillTime(row.Rate*row.Efficiency, row.BarsPerRequest, pipe)
		row.LiveTook, _ = backfillTime(row.LiveRate*row.Efficiency, row.BarsPerRequest, pipe)
		out = append(out, row)
	}
	return out
}

// backfillTime is how long SymbolYears take at reqPerSec, and whether the
// pipeline's measured bars/s rather than the request rate bounds it.
func backfillTime(reqPerSec, barsPerReq float64, pipe *Pipeline) (time.Duration, bool) {
	bps, bound := reqPerSec*barsPerReq, false
	if pipe != nil && pipe.BarsPerSecond() > 0 && pipe.BarsPerSecond() < bps {
		bps, bound = pipe.BarsPerSecond(), true
	}
	if bps <= 0 {
		return 0, false
	}
	secs := float64(SymbolYears*barsPerYear) / bps
	return time.Duration(secs * float64(time.Second)), bound
}

// backfillRateWithLive applies the formula with live polling at the plan's
// fastest latest-bars cadence: one request per interval, however many
// requests a rotation over the symbols takes.
func backfillRateWithLive(p plan.Plan) float64 {
	live := 0.0
	if iv := p.MinInterval(vendor.EndpointLatest); iv > 0 {
		live = float64(time.Second) / float64(iv)
	}
	r := math.Inf(1)
	if iv := max(p.Spacing[vendor.EndpointHistory], p.GlobalSpacing); iv > 0 {
		r = float64(time.Second) / float64(iv)
	}
	if p.GlobalSpacing > 0 {
		r = min(r, float64(time.Second)/float64(p.GlobalSpacing)-live)
	}
	if p.PerSecond > 0 {
		r = min(r, float64(p.PerSecond)-live)
	}
	if p.PerMinute > 0 {
		r = min(r, float64(p.PerMinute)/60-live)
	}
	if p.PerDay > 0 {
		r = min(r, float64(p.PerDay)/86400-live)
	}
	if math.IsInf(r, 1) || r <= 0 {
		return 0
	}
	return r
}

// nearest returns the measurement whose rate is closest to rate on a log scale.
func nearest(effs []Efficiency, rate float64) (Efficiency, bool) {
	best, found := Efficiency{}, false
	for _, e := range effs {
		// Only runs at syncd's default margin, what a user gets unless they
		// lower it, of plans that space requests, as AllTick's do.
		if e.Rate <= 0 || rate <= 0 || e.Margin != 0 || !e.Spaced {
			continue
		}
		if !found || math.Abs(math.Log(e.Rate/rate)) < math.Abs(math.Log(best.Rate/rate)) {
			best, found = e, true
		}
	}
	return best, found
}
