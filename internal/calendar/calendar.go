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

// Calendar answers session questions for every vendor.Market. It is safe for
// concurrent use; what it computes for a year of a venue it keeps (a few
// kilobytes), and its answers never change.
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
	fx := &venue{loc: ny, dayLoc: time.UTC, spans: fxSpans, known: true, perDay: 1}
	c.venues[vendor.MarketFX] = fx
	c.venues[vendor.MarketCommodity] = fx
	c.venues[vendor.MarketUS] = &venue{loc: ny, dayLoc: ny, spans: usSpans, known: true, perDay: 1, table: usTable()}
	c.venues[vendor.MarketHK] = &venue{loc: hk, dayLoc: hk, spans: hkSpans, known: true, perDay: 2, table: hkTable()}
	c.venues[vendor.MarketCN] = &venue{loc: sh, dayLoc: sh, spans: cnSpans, known: true, perDay: 2, table: cnTable()}
	c.venues[vendor.MarketJP] = &venue{loc: tk, dayLoc: tk, spans: jpSpans, known: true, perDay: 2}
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
	dt := v.times(dateOf(t.In(v.loc)))
	for i := range dt.n {
		iv := dt.session(i, v.loc)
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
		dt := v.times(d)
		for i := range dt.n {
			iv := dt.session(i, v.loc)
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
		dt := v.times(d)
		for i := range dt.n {
			iv := dt.session(i, v.loc)
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
		if next := v.times(d); !next.startsAt(end) {
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
		dt := v.times(d)
		for i := dt.n - 1; i >= 0; i-- {
			iv := dt.session(i, v.loc)
			if iv.End.After(t) {
				continue
			}
			if next := v.times(d.next()); i == dt.n-1 && next.startsAt(iv.End) {
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
	first, last := dateOf(from.In(v.loc)), dateOf(to.In(v.loc))
	// Sessions open on weekdays only, at most two a day; merging only
	// shrinks the count. Long windows grow by append instead of reserving
	// decades up front.
	days := last.days() - first.days() + 1
	out := make([]Interval, 0, min(v.perDay*(days*5/7+2), 4096))
	for d := first; !last.before(d); d = d.next() {
		dt := v.times(d)
		for i := range dt.n {
			iv := dt.session(i, v.loc)
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
	if len(out) == 0 {
		return nil // as before the reservation: no sessions, no slice
	}
	return out
}

// SessionDay returns, for an instant t at which m is open, the local date
// its session belongs to, as days since 1970-01-01, and the trading time of
// that date before t: from its first open, less any break. ok is false when
// m is closed at t or never closes. The simulator lays each trading day's
// minutes out on its price path with it; unlike IsOpen it needs no zone
// conversion, so a page can ask once per session cheaply.
func (c *Calendar) SessionDay(m vendor.Market, t time.Time) (day int, elapsed time.Duration, ok bool) {
	v := c.venue(m)
	if v.always {
		return 0, 0, false
	}
	u := t.Unix()
	// The UTC date first, which the local date is for every stock market's
	// sessions. An instant is in one session at most, so the order decides
	// only the cost.
	d := utcDate(u)
	for _, cand := range [3]date{d, d.next(), d.prev()} {
		dt := v.times(cand)
		var before int64 // seconds of trading in the sessions before t's
		for i := range dt.n {
			if start, end := dt.s[i][0], dt.s[i][1]; start <= u && u < end {
				return cand.days(), time.Duration(before+u-start)*time.Second + time.Duration(t.Nanosecond()), true
			} else if end <= u {
				before += end - start
			}
		}
	}
	return 0, 0, false
}

// TradingTime returns how long m trades on its local date day (days since
// 1970-01-01): the total of that date's sessions, 0 on a weekend or holiday
// and for a market that never closes. With SessionDay it places a trading
// day's minutes on the simulator's price path.
func (c *Calendar) TradingTime(m vendor.Market, day int) time.Duration {
	v := c.venue(m)
	if v.always {
		return 0
	}
	dt := v.times(dateOfDays(day))
	var s int64
	for i := range dt.n {
		s += dt.s[i][1] - dt.s[i][0]
	}
	return time.Duration(s) * time.Second
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
