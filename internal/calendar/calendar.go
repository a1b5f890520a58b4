// Package calendar knows when markets trade: regular sessions per
// vendor.Market, lunch breaks, weekends, a bounded table of exchange holidays
// and early closes, and where daily, weekly and monthly bars start.
//
// Everything takes explicit instants; nothing here reads a clock, so the
// simulator can replay any moment and the live poller can ask about "now"
// without this package caring which is which.
//
// The model, per market (local wall-clock times, DST applied by the zone):
//
//	crypto     always open
//	fx         Sunday 17:00 to Friday 17:00 America/New_York (the "New York
//	commodity  close": Sun 21:00Z/Fri 21:00Z in summer, 22:00Z in winter, which
//	           is QOS's Mon 05:00 – Sat 05:00 UTC+8, 06:00 in winter)
//	us         09:30–16:00 America/New_York, 13:00 close on early-close days
//	hk         09:30–12:00 and 13:00–16:00 Asia/Hong_Kong, morning only on half days
//	cn         09:30–11:30 and 13:00–15:00 Asia/Shanghai (Shanghai and Shenzhen)
//	jp         09:00–11:30 and 12:30–15:30 Asia/Tokyo (15:00 before 2024-11-05)
//	index, other, anything else: unknown venue, treated as always open
//
// Holidays are a table, not rules: see HolidayYears for the years it covers.
// Outside them only weekends close a market. Pre- and post-market, night
// sessions, closing auctions (HK 16:00–16:10), commodity daily maintenance
// breaks and unscheduled closures (typhoons) are not modelled.
package calendar

import (
	"fmt"
	"time"
	// Embed the zone database so the calendar works in minimal containers that
	// ship no /usr/share/zoneinfo; without it New would fail there.
	_ "time/tzdata"

	"github.com/syncd/syncd/internal/vendor"
)

// scanDays bounds every search for a session boundary. The longest closure in
// the tables (Chinese New Year with its weekends) is ten days; a year is far
// beyond any real gap and keeps a bad table from looping for ever.
const scanDays = 400

// Interval is the half-open span [Start, End).
type Interval struct {
	Start time.Time
	End   time.Time
}

// Duration returns End − Start.
func (iv Interval) Duration() time.Duration { return iv.End.Sub(iv.Start) }

// Contains reports whether t lies in [Start, End).
func (iv Interval) Contains(t time.Time) bool { return !t.Before(iv.Start) && t.Before(iv.End) }

// Calendar answers session questions for every vendor.Market. It is immutable
// after New and safe for concurrent use.
type Calendar struct {
	venues map[vendor.Market]*venue
	always *venue // unknown markets
	utc    *time.Location
}

// New loads the zones and the holiday tables. It fails only if the zone
// database cannot be read, which the embedded tzdata rules out in practice.
func New() (*Calendar, error) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		return nil, fmt.Errorf("load zone: %w", err)
	}
	hk, err := time.LoadLocation("Asia/Hong_Kong")
	if err != nil {
		return nil, fmt.Errorf("load zone: %w", err)
	}
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return nil, fmt.Errorf("load zone: %w", err)
	}
	tk, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return nil, fmt.Errorf("load zone: %w", err)
	}
	c := &Calendar{utc: time.UTC, venues: make(map[vendor.Market]*venue)}
	c.always = &venue{loc: time.UTC, dayLoc: time.UTC, always: true}
	c.venues[vendor.MarketCrypto] = c.always
	fx := &venue{loc: ny, dayLoc: time.UTC, spans: fxSpans, known: true}
	c.venues[vendor.MarketFX] = fx
	c.venues[vendor.MarketCommodity] = fx
	c.venues[vendor.MarketUS] = &venue{loc: ny, dayLoc: ny, spans: usSpans, known: true, table: usTable()}
	c.venues[vendor.MarketHK] = &venue{loc: hk, dayLoc: hk, spans: hkSpans, known: true, table: hkTable()}
	c.venues[vendor.MarketCN] = &venue{loc: sh, dayLoc: sh, spans: cnSpans, known: true, table: cnTable()}
	c.venues[vendor.MarketJP] = &venue{loc: tk, dayLoc: tk, spans: jpSpans, known: true}
	return c, nil
}

func (c *Calendar) venue(m vendor.Market) *venue {
	if v, ok := c.venues[m]; ok {
		return v
	}
	return c.always
}

// Known reports whether the calendar models m's venue. Unknown markets
// (index, other) are treated as always open, so that nothing is hidden from a
// gap report on a guess.
func (c *Calendar) Known(m vendor.Market) bool {
	if m == vendor.MarketCrypto {
		return true
	}
	return c.venue(m).known
}

// AlwaysOpen reports whether m never closes (crypto, and unknown markets).
func (c *Calendar) AlwaysOpen(m vendor.Market) bool { return c.venue(m).always }

// Location returns the zone m's sessions are defined in (UTC for crypto and
// unknown markets, New York for FX and commodities).
func (c *Calendar) Location(m vendor.Market) *time.Location { return c.venue(m).loc }

// HolidayYears returns the first and last calendar year whose exchange
// holidays and early closes the table holds for m; ok is false when m has no
// holiday table (crypto, FX, commodities, JP, unknown). Outside those years
// only weekends close the market.
func (c *Calendar) HolidayYears(m vendor.Market) (first, last int, ok bool) {
	t := c.venue(m).table
	if t == nil {
		return 0, 0, false
	}
	return t.first, t.last, true
}

// Holiday returns the name of the exchange holiday on m's local date of t, or
// "" when the date is no holiday in the table (or outside its years).
func (c *Calendar) Holiday(m vendor.Market, t time.Time) string {
	v := c.venue(m)
	if v.table == nil {
		return ""
	}
	return v.table.closed[dateOf(t.In(v.loc))]
}

// IsOpen reports whether m trades at instant t: t lies in [open, close) of a
// session.
func (c *Calendar) IsOpen(m vendor.Market, t time.Time) bool {
	v := c.venue(m)
	if v.always {
		return true
	}
	lt := t.In(v.loc)
	ds := v.day(dateOf(lt))
	for i := range ds.n {
		iv := ds.abs(i, v.loc)
		if iv.Contains(t) {
			return true
		}
	}
	return false
}

// NextOpen returns the earliest instant ≥ t at which m is open: t itself when
// open, otherwise the start of the next session. ok is false only if no
// session starts within about a year (never for the built-in markets).
func (c *Calendar) NextOpen(m vendor.Market, t time.Time) (time.Time, bool) {
	v := c.venue(m)
	if v.always {
		return t, true
	}
	d := dateOf(t.In(v.loc))
	for range scanDays {
		ds := v.day(d)
		for i := range ds.n {
			iv := ds.abs(i, v.loc)
			if iv.Contains(t) {
				return t, true
			}
			if !iv.Start.Before(t) {
				return iv.Start, true
			}
		}
		d = d.next()
	}
	return time.Time{}, false
}

// NextClose returns the earliest instant ≥ t at which m is closed: t itself
// when closed, otherwise the end of the session containing t (sessions that
// run across local midnight, as FX does all week, count as one). ok is false
// when m never closes.
func (c *Calendar) NextClose(m vendor.Market, t time.Time) (time.Time, bool) {
	v := c.venue(m)
	if v.always {
		return time.Time{}, false
	}
	d := dateOf(t.In(v.loc))
	end := t
	for range scanDays {
		ds := v.day(d)
		for i := range ds.n {
			iv := ds.abs(i, v.loc)
			if iv.Contains(end) {
				end = iv.End
			}
		}
		if end.Equal(t) {
			return t, true // closed at t
		}
		// The session ran to the end of this local date; it continues only if
		// the next date opens exactly there.
		d = d.next()
		if !v.day(d).startsAt(end, v.loc) {
			return end, true
		}
		t = end
	}
	return time.Time{}, false
}

// LastClose returns the latest instant ≤ t at which a session of m ended: the
// market was open just before it and closed at it. A session still running at
// t does not count. ok is false when m never closes or no session ended within
// about a year before t.
func (c *Calendar) LastClose(m vendor.Market, t time.Time) (time.Time, bool) {
	v := c.venue(m)
	if v.always {
		return time.Time{}, false
	}
	d := dateOf(t.In(v.loc))
	for range scanDays {
		ds := v.day(d)
		for i := ds.n - 1; i >= 0; i-- {
			iv := ds.abs(i, v.loc)
			if iv.End.After(t) {
				continue
			}
			if v.day(d.next()).startsAt(iv.End, v.loc) && i == ds.n-1 {
				continue // runs on past midnight: not a close
			}
			return iv.End, true
		}
		d = d.prev()
	}
	return time.Time{}, false
}

// Sessions returns the open intervals of m within [from, to), in order,
// clipped to [from, to), with sessions that touch across local midnight
// merged into one. Lunch breaks separate intervals. An always-open market
// yields [from, to) itself.
func (c *Calendar) Sessions(m vendor.Market, from, to time.Time) []Interval {
	if !from.Before(to) {
		return nil
	}
	v := c.venue(m)
	if v.always {
		return []Interval{{Start: from, End: to}}
	}
	var out []Interval
	last := dateOf(to.In(v.loc))
	for d := dateOf(from.In(v.loc)); !last.before(d); d = d.next() {
		ds := v.day(d)
		for i := range ds.n {
			iv := ds.abs(i, v.loc)
			if !iv.End.After(from) || !iv.Start.Before(to) {
				continue
			}
			if iv.Start.Before(from) {
				iv.Start = from
			}
			if iv.End.After(to) {
				iv.End = to
			}
			if n := len(out); n > 0 && out[n-1].End.Equal(iv.Start) {
				out[n-1].End = iv.End
				continue
			}
			out = append(out, iv)
		}
	}
	return out
}

// ClosedThroughout reports whether m is closed at every instant of [a, b):
// nights, weekends, lunch breaks and holidays, which a gap report must not
// call missing data. An empty interval is closed throughout.
func (c *Calendar) ClosedThroughout(m vendor.Market, a, b time.Time) bool {
	if !a.Before(b) {
		return true
	}
	open, ok := c.NextOpen(m, a)
	return !ok || !open.Before(b)
}

// OpenDuration returns how long m is open within [from, to).
func (c *Calendar) OpenDuration(m vendor.Market, from, to time.Time) time.Duration {
	var d time.Duration
	for _, iv := range c.Sessions(m, from, to) {
		d += iv.Duration()
	}
	return d
}
