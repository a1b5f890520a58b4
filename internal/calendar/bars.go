package calendar

import (
	"fmt"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// Anchor says where a vendor starts daily, weekly and monthly bars. Vendors
// differ (vendors.md §7 item 8): QOS keys daily bars at exchange-local
// midnight, Infoway's crypto dailies start at 00:00Z, the others are
// unconfirmed. Intraday bars are unaffected: they always start at UTC
// multiples of their length.
type Anchor int

// Anchors.
const (
	// AnchorUTC starts days at 00:00 UTC, weeks on Monday 00:00 UTC and months
	// on the 1st at 00:00 UTC.
	AnchorUTC Anchor = iota
	// AnchorExchange starts them at midnight in the exchange's zone (US
	// 04:00Z/05:00Z by DST, HK and CN 16:00Z of the previous UTC day). Crypto,
	// FX and commodities have no exchange zone and use UTC.
	AnchorExchange
)

// String returns "utc" or "exchange".
func (a Anchor) String() string {
	if a == AnchorExchange {
		return "exchange"
	}
	return "utc"
}

// ParseAnchor reads "utc" or "exchange".
func ParseAnchor(s string) (Anchor, error) {
	switch s {
	case "utc":
		return AnchorUTC, nil
	case "exchange":
		return AnchorExchange, nil
	}
	return 0, fmt.Errorf("unknown anchor %q (want utc or exchange)", s)
}

// dayZone returns the zone whose midnights start m's daily bars under a.
func (c *Calendar) dayZone(m vendor.Market, a Anchor) *time.Location {
	if a == AnchorExchange {
		return c.venue(m).dayLoc
	}
	return time.UTC
}

// DayAnchor returns the exchange-local midnight that starts the trading day
// containing t, in the exchange's zone (so AddDate steps days across DST).
// For m = us on a summer day that is 04:00Z, in winter 05:00Z; for hk and cn
// 16:00Z of the previous UTC day; for crypto, FX, commodities and unknown
// markets 00:00Z.
func (c *Calendar) DayAnchor(m vendor.Market, t time.Time) time.Time {
	return midnight(t, c.venue(m).dayLoc)
}

func midnight(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.In(loc).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, loc)
}

// BarSpan returns [open, end) of the bar of timeframe tf that contains t.
// Intraday bars start at UTC multiples of their length; 1d, 1w (Monday) and
// 1M bars start at midnights chosen by a. Times are in the anchor's zone for
// 1d and longer (UTC for intraday), so Timeframe.Next stays calendar-exact.
func (c *Calendar) BarSpan(m vendor.Market, tf vendor.Timeframe, t time.Time, a Anchor) Interval {
	if tf.Intraday() {
		open := t.UTC().Truncate(tf.Duration())
		return Interval{Start: open, End: open.Add(tf.Duration())}
	}
	loc := c.dayZone(m, a)
	if tf == vendor.TF1d {
		return c.daySpan(m, t, loc)
	}
	day := midnight(t, loc)
	switch tf {
	case vendor.TF1w:
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		open := day.AddDate(0, 0, -back)
		return Interval{Start: open, End: open.AddDate(0, 0, 7)}
	case vendor.TF1M:
		open := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
		return Interval{Start: open, End: open.AddDate(0, 1, 0)}
	}
	return Interval{Start: day, End: day.AddDate(0, 0, 1)}
}

// daySpan returns the day of loc containing t: the span of a daily bar, asked
// once per bar of every daily page, so it avoids time.Date where it can. UTC
// days are arithmetic; days of the venue's own zone come from its memoised
// midnights. The result equals midnight(t, loc) and the next midnight.
func (c *Calendar) daySpan(m vendor.Market, t time.Time, loc *time.Location) Interval {
	if loc == time.UTC {
		const day = 24 * 60 * 60
		s := t.Unix()
		s -= ((s % day) + day) % day
		return Interval{Start: time.Unix(s, 0).UTC(), End: time.Unix(s+day, 0).UTC()}
	}
	if v := c.venue(m); loc == v.loc {
		// The memoised midnights tell which of the dates around the UTC one
		// holds t, without converting t to the zone.
		u := t.Unix()
		d := utcDate(u)
		start := v.times(d)
		if start.midnight > u {
			d = d.prev()
			start = v.times(d)
		}
		end := v.times(d.next())
		if end.midnight <= u {
			start, end = end, v.times(d.next().next())
		}
		return Interval{Start: time.Unix(start.midnight, 0).In(loc), End: time.Unix(end.midnight, 0).In(loc)}
	}
	day := midnight(t, loc)
	return Interval{Start: day, End: day.AddDate(0, 0, 1)}
}

// BarCanExist reports whether a bar of timeframe tf can open at open for m
// under anchor a: open must be a bar boundary, and the market must be open at
// some instant of the bar's period. So intraday bars exist only where they
// overlap a session (a 1h bar half inside a session exists), daily bars only
// on trading days. A vendor may still skip a bar nobody traded in.
func (c *Calendar) BarCanExist(m vendor.Market, tf vendor.Timeframe, open time.Time, a Anchor) bool {
	if !tf.Valid() {
		return false
	}
	sp := c.BarSpan(m, tf, open, a)
	if !sp.Start.Equal(open) {
		return false
	}
	return !c.ClosedThroughout(m, sp.Start, sp.End)
}
