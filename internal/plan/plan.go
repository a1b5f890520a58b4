// Package plan describes a vendor rate-limit plan: every dimension a key's
// requests are limited in. The quota governor enforces a Plan on syncd's side;
// the simulator enforces the same description on the vendor's side.
package plan

import (
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// Plan is one vendor plan. A zero limit means "no limit in that dimension".
type Plan struct {
	// Vendor is the vendor name (vendor.AllTick, …).
	Vendor string
	// Name is the plan's name as configured in SYNCD_PLAN ("free", "basic", …,
	// or "custom" for a spec).
	Name string
	// Spacing is the minimum time between two requests to the same endpoint
	// (AllTick basic: history 1 s, latest 3 s).
	Spacing map[vendor.Endpoint]time.Duration
	// GlobalSpacing is the minimum time between any two requests (AllTick free:
	// one request per 10 s across all endpoints).
	GlobalSpacing time.Duration
	// PerSecond caps requests across all endpoints in any sliding 1 s window.
	PerSecond int
	// PerMinute caps requests across all endpoints in any sliding 60 s window.
	PerMinute int
	// PerDay caps requests between two daily resets.
	PerDay int
	// BatchMax caps groups (series) in one latest-bars request.
	BatchMax int
	// TradeCodesMax caps symbols in one latest-trades request.
	TradeCodesMax int
	// ResetZone and ResetOffset place the daily reset: midnight in ResetZone plus
	// ResetOffset. AllTick is assumed to reset at midnight UTC+8.
	ResetZone   *time.Location
	ResetOffset time.Duration
}

// MinInterval returns the shortest gap the plan allows between two requests to
// ep, considering the endpoint's spacing, the global spacing and the
// per-second cap. It is the plan's fastest poll cadence for that endpoint.
func (p Plan) MinInterval(ep vendor.Endpoint) time.Duration {
	d := max(p.Spacing[ep], p.GlobalSpacing)
	if p.PerSecond > 0 {
		d = max(d, time.Second/time.Duration(p.PerSecond))
	}
	if p.PerMinute > 0 {
		d = max(d, time.Minute/time.Duration(p.PerMinute))
	}
	return d
}

// DayStart returns the start of the quota day that contains t.
func (p Plan) DayStart(t time.Time) time.Time {
	loc := p.ResetZone
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc).Add(-p.ResetOffset)
	mid := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	return mid.Add(p.ResetOffset)
}

// NextReset returns the first daily reset after t.
func (p Plan) NextReset(t time.Time) time.Time {
	start := p.DayStart(t)
	loc := p.ResetZone
	if loc == nil {
		loc = time.UTC
	}
	s := start.In(loc).Add(-p.ResetOffset)
	return time.Date(s.Year(), s.Month(), s.Day()+1, 0, 0, 0, 0, loc).Add(p.ResetOffset)
}
