package calendar

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

// TestDateArithmetic checks the civil-date arithmetic against the time
// package for every day of eight centuries, leap-year rules included.
func TestDateArithmetic(t *testing.T) {
	t.Parallel()
	at := time.Date(1600, time.January, 1, 12, 0, 0, 0, time.UTC)
	epoch := time.Date(1970, time.January, 1, 12, 0, 0, 0, time.UTC)
	d := dateOf(at)
	for at.Year() < 2400 {
		next := at.AddDate(0, 0, 1)
		require.Equal(t, dateOf(next), d.next(), "next of %v", d)
		require.Equal(t, d, dateOf(next).prev(), "prev of %v", dateOf(next))
		require.Equal(t, at.Weekday(), d.weekday(), "weekday of %v", d)
		require.Equal(t, at.YearDay()-1, d.yday(), "yday of %v", d)
		require.Equal(t, int((at.Unix()-epoch.Unix())/(24*60*60)), d.days(), "days of %v", d)
		require.Equal(t, d, dateOfDays(d.days()), "date of day %d", d.days())
		at, d = next, d.next()
	}
}

// refSessions is Sessions as it was before days were memoised: each day's
// sessions placed in the zone with time.Date, days stepped with AddDate.
func refSessions(c *Calendar, m vendor.Market, from, to time.Time) []Interval {
	v := c.venue(m)
	if v.always {
		return []Interval{{Start: from, End: to}}
	}
	var out []Interval
	last := dateOf(to.In(v.loc))
	step := func(d date) date {
		return dateOf(time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC).AddDate(0, 0, 1))
	}
	for d := dateOf(from.In(v.loc)); !last.before(d); d = step(d) {
		ds := v.day(d)
		for i := range ds.n {
			iv := ds.abs(i, v.loc)
			if !iv.End.After(from) || !iv.Start.Before(to) {
				continue
			}
			iv.Start, iv.End = maxTime(iv.Start, from), minTime(iv.End, to)
			if n := len(out); n > 0 && out[n-1].End.Equal(iv.Start) {
				out[n-1].End = iv.End
				continue
			}
			out = append(out, iv)
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

// TestMemoisedDaysMatchDirect: the memoised sessions and daily bar spans are
// the very values (zone included) the direct computation gives, for every
// market, over windows from 1890 to 2310, across the memoised years' edges.
func TestMemoisedDaysMatchDirect(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	rng := rand.New(rand.NewPCG(7, 11))
	markets := []vendor.Market{vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketJP, vendor.MarketFX, vendor.MarketCommodity, vendor.MarketCrypto}
	lo := time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2310, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 3000 {
		m := markets[rng.IntN(len(markets))]
		from := time.Unix(lo+rng.Int64N(hi-lo), 0).UTC()
		to := from.Add(time.Duration(rng.Int64N(40*24)) * time.Hour)
		require.Equal(t, refSessions(c, m, from, to), c.Sessions(m, from, to), "%s %v–%v", m, from, to)
		for _, a := range []Anchor{AnchorUTC, AnchorExchange} {
			loc := c.dayZone(m, a)
			day := midnight(from, loc)
			want := Interval{Start: day, End: day.AddDate(0, 0, 1)}
			require.Equal(t, want, c.BarSpan(m, vendor.TF1d, from, a), "%s %s %v", m, a, from)
			// A day's edges: its midnight is in it, the second before is not.
			require.Equal(t, want, c.BarSpan(m, vendor.TF1d, day, a), "%s %s %v", m, a, day)
			require.Equal(t, want, c.BarSpan(m, vendor.TF1d, want.End.Add(-time.Second), a), "%s %s %v", m, a, want.End)
		}
	}
}

// TestMemoConcurrentFirstUse: goroutines that find a year not yet memoised
// build it together (the race detector watches) and all get the same answer.
func TestMemoConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	from := time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	want := refSessions(c, vendor.MarketHK, from, to)
	got := make([][]Interval, 8)
	done := make(chan int)
	for i := range got {
		go func() {
			got[i] = c.Sessions(vendor.MarketHK, from, to)
			done <- i
		}()
	}
	for range got {
		<-done
	}
	for i := range got {
		require.Equal(t, want, got[i])
	}
}
