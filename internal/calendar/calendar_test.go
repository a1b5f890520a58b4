package calendar

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func newCal(tb testing.TB) *Calendar {
	tb.Helper()
	c, err := New()
	require.NoError(tb, err)
	return c
}

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func TestIsOpen(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	cases := []struct {
		name string
		m    vendor.Market
		at   time.Time
		open bool
	}{
		// US regular session across the March 2025 DST switch (Sunday 9th).
		{"USWinterOpen", vendor.MarketUS, utc(2025, 3, 7, 14, 30), true},
		{"USWinterBeforeOpen", vendor.MarketUS, utc(2025, 3, 7, 14, 29), false},
		{"USWinterLastMinute", vendor.MarketUS, utc(2025, 3, 7, 20, 59), true},
		{"USWinterClose", vendor.MarketUS, utc(2025, 3, 7, 21, 0), false},
		{"USSummerOpen", vendor.MarketUS, utc(2025, 3, 10, 13, 30), true},
		{"USSummerBeforeOpen", vendor.MarketUS, utc(2025, 3, 10, 13, 29), false},
		{"USSummerClose", vendor.MarketUS, utc(2025, 3, 10, 20, 0), false},
		{"USBackToWinter", vendor.MarketUS, utc(2025, 11, 3, 14, 29), false},
		{"USBackToWinterOpen", vendor.MarketUS, utc(2025, 11, 3, 14, 30), true},
		{"USSaturday", vendor.MarketUS, utc(2025, 3, 8, 15, 0), false},
		// HK lunch break 12:00–13:00 local = 04:00–05:00Z.
		{"HKMorning", vendor.MarketHK, utc(2025, 3, 10, 3, 59), true},
		{"HKLunchStart", vendor.MarketHK, utc(2025, 3, 10, 4, 0), false},
		{"HKLunchEnd", vendor.MarketHK, utc(2025, 3, 10, 5, 0), true},
		{"HKOpen", vendor.MarketHK, utc(2025, 3, 10, 1, 30), true},
		{"HKClose", vendor.MarketHK, utc(2025, 3, 10, 8, 0), false},
		// Shanghai 09:30–11:30, 13:00–15:00 local.
		{"CNMorningLast", vendor.MarketCN, utc(2025, 3, 10, 3, 29), true},
		{"CNLunch", vendor.MarketCN, utc(2025, 3, 10, 3, 30), false},
		{"CNLunchEnd", vendor.MarketCN, utc(2025, 3, 10, 4, 59), false},
		{"CNAfternoon", vendor.MarketCN, utc(2025, 3, 10, 5, 0), true},
		{"CNClose", vendor.MarketCN, utc(2025, 3, 10, 7, 0), false},
		// FX week: Sunday 17:00 to Friday 17:00 New York.
		{"FXSummerFridayLast", vendor.MarketFX, utc(2025, 7, 11, 20, 59), true},
		{"FXSummerFridayClose", vendor.MarketFX, utc(2025, 7, 11, 21, 0), false},
		{"FXSaturday", vendor.MarketFX, utc(2025, 7, 12, 12, 0), false},
		{"FXSummerSundayBefore", vendor.MarketFX, utc(2025, 7, 13, 20, 59), false},
		{"FXSummerSundayOpen", vendor.MarketFX, utc(2025, 7, 13, 21, 0), true},
		{"FXWinterFridayLast", vendor.MarketFX, utc(2025, 1, 10, 21, 59), true},
		{"FXWinterFridayClose", vendor.MarketFX, utc(2025, 1, 10, 22, 0), false},
		{"FXWinterSundayOpen", vendor.MarketFX, utc(2025, 1, 12, 22, 0), true},
		{"FXDSTSunday", vendor.MarketFX, utc(2025, 3, 9, 21, 0), true}, // 17:00 EDT on the switch day
		{"FXMidweekMidnight", vendor.MarketFX, utc(2025, 7, 16, 4, 0), true},
		{"CommodityLikeFX", vendor.MarketCommodity, utc(2025, 7, 12, 12, 0), false},
		{"CryptoSaturday", vendor.MarketCrypto, utc(2025, 7, 12, 12, 0), true},
		{"UnknownAlwaysOpen", vendor.MarketIndex, utc(2025, 7, 12, 12, 0), true},
		// Tokyo close moved from 15:00 to 15:30 on 2024-11-05.
		{"JPOldClose", vendor.MarketJP, utc(2024, 11, 1, 6, 10), false},
		{"JPNewClose", vendor.MarketJP, utc(2024, 11, 5, 6, 10), true},
		{"JPLunch", vendor.MarketJP, utc(2024, 11, 5, 2, 45), false},
		// Holidays and early closes from the tables.
		{"USIndependenceDay", vendor.MarketUS, utc(2025, 7, 4, 15, 0), false},
		{"USEarlyCloseBefore", vendor.MarketUS, utc(2025, 7, 3, 16, 59), true},
		{"USEarlyClose", vendor.MarketUS, utc(2025, 7, 3, 17, 0), false},
		{"USCarterMourning", vendor.MarketUS, utc(2025, 1, 9, 15, 0), false},
		{"HKHalfDayMorning", vendor.MarketHK, utc(2025, 1, 28, 3, 0), true},
		{"HKHalfDayAfternoon", vendor.MarketHK, utc(2025, 1, 28, 6, 0), false},
		{"HKLunarNewYear", vendor.MarketHK, utc(2025, 1, 29, 2, 0), false},
		{"CNNationalDay8th", vendor.MarketCN, utc(2025, 10, 8, 2, 0), false},
		{"CNAfterNationalDay", vendor.MarketCN, utc(2025, 10, 9, 2, 0), true},
		{"CNSpringFestival", vendor.MarketCN, utc(2026, 2, 23, 2, 0), false},
		// Year boundaries.
		{"USNewYearsEve", vendor.MarketUS, utc(2025, 12, 31, 15, 0), true},
		{"USNewYearsDay", vendor.MarketUS, utc(2026, 1, 1, 15, 0), false},
		{"USJan2", vendor.MarketUS, utc(2026, 1, 2, 15, 0), true},
		{"HKNewYearsEveHalf", vendor.MarketHK, utc(2024, 12, 31, 5, 30), false},
		{"CNJan2Closed", vendor.MarketCN, utc(2026, 1, 2, 2, 0), false},
		{"CNJan5Open", vendor.MarketCN, utc(2026, 1, 5, 2, 0), true},
		// Outside the table's years only weekends close.
		{"USBeyondTable", vendor.MarketUS, utc(2030, 7, 4, 15, 0), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.open, c.IsOpen(tc.m, tc.at), "%s at %s", tc.m, tc.at)
		})
	}
}

func TestNextOpenAndClose(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	cases := []struct {
		name      string
		m         vendor.Market
		at        time.Time
		nextOpen  time.Time
		nextClose time.Time
	}{
		{"USFridayNight", vendor.MarketUS, utc(2025, 3, 7, 22, 0), utc(2025, 3, 10, 13, 30), utc(2025, 3, 7, 22, 0)},
		{"USInSession", vendor.MarketUS, utc(2025, 3, 10, 15, 0), utc(2025, 3, 10, 15, 0), utc(2025, 3, 10, 20, 0)},
		{"USGoodFriday", vendor.MarketUS, utc(2025, 4, 17, 20, 0), utc(2025, 4, 21, 13, 30), utc(2025, 4, 17, 20, 0)},
		{"USEarlyClose", vendor.MarketUS, utc(2025, 12, 24, 15, 0), utc(2025, 12, 24, 15, 0), utc(2025, 12, 24, 18, 0)},
		{"HKLunch", vendor.MarketHK, utc(2025, 3, 10, 4, 30), utc(2025, 3, 10, 5, 0), utc(2025, 3, 10, 4, 30)},
		{"HKMorning", vendor.MarketHK, utc(2025, 3, 10, 2, 0), utc(2025, 3, 10, 2, 0), utc(2025, 3, 10, 4, 0)},
		{"HKEaster", vendor.MarketHK, utc(2025, 4, 17, 8, 0), utc(2025, 4, 22, 1, 30), utc(2025, 4, 17, 8, 0)},
		{"CNSpringFestival", vendor.MarketCN, utc(2025, 1, 27, 7, 0), utc(2025, 2, 5, 1, 30), utc(2025, 1, 27, 7, 0)},
		{"FXMonday", vendor.MarketFX, utc(2025, 7, 14, 9, 0), utc(2025, 7, 14, 9, 0), utc(2025, 7, 18, 21, 0)},
		{"FXSundayOpenWinter", vendor.MarketFX, utc(2025, 1, 11, 9, 0), utc(2025, 1, 12, 22, 0), utc(2025, 1, 11, 9, 0)},
		// The week in which New York leaves DST: opens 21:00Z, closes 22:00Z.
		{"FXDSTEndWeek", vendor.MarketFX, utc(2025, 11, 2, 23, 0), utc(2025, 11, 2, 23, 0), utc(2025, 11, 7, 22, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, ok := c.NextOpen(tc.m, tc.at)
			require.True(t, ok)
			require.Equal(t, tc.nextOpen, o.UTC())
			cl, ok := c.NextClose(tc.m, tc.at)
			require.True(t, ok)
			require.Equal(t, tc.nextClose, cl.UTC())
		})
	}
	_, ok := c.NextClose(vendor.MarketCrypto, utc(2025, 1, 1, 0, 0))
	require.False(t, ok, "crypto never closes")
	o, ok := c.NextOpen(vendor.MarketCrypto, utc(2025, 1, 1, 0, 0))
	require.True(t, ok)
	require.Equal(t, utc(2025, 1, 1, 0, 0), o)
}

func TestLastClose(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	lc, ok := c.LastClose(vendor.MarketHK, utc(2025, 3, 10, 1, 0)) // Monday 09:00 HK
	require.True(t, ok)
	require.Equal(t, utc(2025, 3, 7, 8, 0), lc.UTC())
	lc, ok = c.LastClose(vendor.MarketHK, utc(2025, 3, 10, 4, 30)) // lunch
	require.True(t, ok)
	require.Equal(t, utc(2025, 3, 10, 4, 0), lc.UTC())
	lc, ok = c.LastClose(vendor.MarketHK, utc(2025, 3, 10, 4, 0)) // exactly at the close
	require.True(t, ok)
	require.Equal(t, utc(2025, 3, 10, 4, 0), lc.UTC())
	lc, ok = c.LastClose(vendor.MarketFX, utc(2025, 7, 16, 12, 0)) // Wednesday: last Friday
	require.True(t, ok)
	require.Equal(t, utc(2025, 7, 11, 21, 0), lc.UTC())
	_, ok = c.LastClose(vendor.MarketCrypto, utc(2025, 7, 16, 12, 0))
	require.False(t, ok)
}

func TestSessions(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	t.Run("HKDayHasLunchBreak", func(t *testing.T) {
		t.Parallel()
		got := c.Sessions(vendor.MarketHK, utc(2025, 3, 10, 0, 0), utc(2025, 3, 11, 0, 0))
		require.Equal(t, []Interval{
			{utc(2025, 3, 10, 1, 30), utc(2025, 3, 10, 4, 0)},
			{utc(2025, 3, 10, 5, 0), utc(2025, 3, 10, 8, 0)},
		}, utcIntervals(got))
	})
	t.Run("FXWeekIsOneInterval", func(t *testing.T) {
		t.Parallel()
		got := c.Sessions(vendor.MarketFX, utc(2025, 7, 12, 0, 0), utc(2025, 7, 20, 0, 0))
		require.Equal(t, []Interval{{utc(2025, 7, 13, 21, 0), utc(2025, 7, 18, 21, 0)}}, utcIntervals(got))
	})
	t.Run("Clipped", func(t *testing.T) {
		t.Parallel()
		got := c.Sessions(vendor.MarketUS, utc(2025, 3, 10, 15, 0), utc(2025, 3, 11, 14, 0))
		require.Equal(t, []Interval{
			{utc(2025, 3, 10, 15, 0), utc(2025, 3, 10, 20, 0)},
			{utc(2025, 3, 11, 13, 30), utc(2025, 3, 11, 14, 0)},
		}, utcIntervals(got))
	})
	t.Run("CryptoIsWhole", func(t *testing.T) {
		t.Parallel()
		got := c.Sessions(vendor.MarketCrypto, utc(2025, 3, 10, 15, 0), utc(2025, 3, 11, 14, 0))
		require.Equal(t, []Interval{{utc(2025, 3, 10, 15, 0), utc(2025, 3, 11, 14, 0)}}, got)
		require.Empty(t, c.Sessions(vendor.MarketCrypto, utc(2025, 3, 11, 14, 0), utc(2025, 3, 11, 14, 0)))
	})
	t.Run("USWeekAcrossHoliday", func(t *testing.T) {
		t.Parallel()
		// Week of Good Friday 2025: four sessions, Monday–Thursday.
		got := c.Sessions(vendor.MarketUS, utc(2025, 4, 14, 0, 0), utc(2025, 4, 19, 0, 0))
		require.Len(t, got, 4)
		require.Equal(t, 4*390*time.Minute, c.OpenDuration(vendor.MarketUS, utc(2025, 4, 14, 0, 0), utc(2025, 4, 19, 0, 0)))
	})
}

func utcIntervals(ivs []Interval) []Interval {
	out := make([]Interval, len(ivs))
	for i, iv := range ivs {
		out[i] = Interval{iv.Start.UTC(), iv.End.UTC()}
	}
	return out
}

func TestClosedThroughout(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	require.True(t, c.ClosedThroughout(vendor.MarketUS, utc(2025, 3, 7, 21, 0), utc(2025, 3, 10, 13, 30)), "weekend")
	require.False(t, c.ClosedThroughout(vendor.MarketUS, utc(2025, 3, 7, 21, 0), utc(2025, 3, 10, 13, 31)), "reaches Monday's first minute")
	require.True(t, c.ClosedThroughout(vendor.MarketHK, utc(2025, 3, 10, 4, 0), utc(2025, 3, 10, 5, 0)), "lunch")
	require.False(t, c.ClosedThroughout(vendor.MarketHK, utc(2025, 3, 10, 3, 59), utc(2025, 3, 10, 5, 0)), "last morning minute")
	require.True(t, c.ClosedThroughout(vendor.MarketCN, utc(2025, 9, 30, 7, 0), utc(2025, 10, 9, 1, 30)), "Golden Week")
	require.True(t, c.ClosedThroughout(vendor.MarketFX, utc(2025, 7, 11, 21, 0), utc(2025, 7, 13, 21, 0)), "FX weekend")
	require.False(t, c.ClosedThroughout(vendor.MarketCrypto, utc(2025, 7, 12, 0, 0), utc(2025, 7, 12, 0, 1)))
	require.True(t, c.ClosedThroughout(vendor.MarketCrypto, utc(2025, 7, 12, 0, 0), utc(2025, 7, 12, 0, 0)), "empty")
}

func TestHolidayTables(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	for _, m := range []vendor.Market{vendor.MarketUS, vendor.MarketHK, vendor.MarketCN} {
		first, last, ok := c.HolidayYears(m)
		require.True(t, ok, m)
		require.LessOrEqual(t, first, 2024)
		require.GreaterOrEqual(t, last, 2026)
		v := c.venue(m)
		for d := range v.table.closed {
			require.False(t, weekend(d.weekday()), "%s holiday %v on a weekend", m, d)
			require.GreaterOrEqual(t, d.y, first)
			require.LessOrEqual(t, d.y, last)
		}
		for d := range v.table.early {
			require.False(t, weekend(d.weekday()), "%s early close %v on a weekend", m, d)
			_, clash := v.table.closed[d]
			require.False(t, clash, "%s %v both closed and early", m, d)
		}
	}
	_, _, ok := c.HolidayYears(vendor.MarketCrypto)
	require.False(t, ok)
	require.Equal(t, "Good Friday", c.Holiday(vendor.MarketUS, utc(2025, 4, 18, 15, 0)))
	require.Empty(t, c.Holiday(vendor.MarketUS, utc(2025, 4, 17, 15, 0)))
	require.True(t, c.Known(vendor.MarketHK))
	require.False(t, c.Known(vendor.MarketOther))
	require.True(t, c.AlwaysOpen(vendor.MarketOther))
}

// TestConsistencyProperty checks IsOpen, NextOpen, NextClose, LastClose and
// Sessions against each other at many random instants, DST switches, lunch
// breaks and holidays included.
func TestConsistencyProperty(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	rng := rand.New(rand.NewPCG(1, 2))
	lo := utc(2023, 12, 1, 0, 0).Unix()
	hi := utc(2027, 2, 1, 0, 0).Unix()
	for _, m := range []vendor.Market{vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketFX, vendor.MarketJP} {
		for range 1500 {
			at := time.Unix(lo+rng.Int64N(hi-lo), 0).UTC()
			open := c.IsOpen(m, at)
			no, ok := c.NextOpen(m, at)
			require.True(t, ok)
			nc, ok := c.NextClose(m, at)
			require.True(t, ok)
			if open {
				require.Equal(t, at, no)
				require.True(t, nc.After(at))
				require.True(t, c.IsOpen(m, nc.Add(-time.Nanosecond)), "%s %s: open until the close", m, at)
				require.False(t, c.IsOpen(m, nc), "%s %s: closed at the close", m, at)
			} else {
				require.Equal(t, at, nc)
				require.True(t, no.After(at))
				require.True(t, c.IsOpen(m, no))
				require.False(t, c.IsOpen(m, no.Add(-time.Nanosecond)))
				require.True(t, c.ClosedThroughout(m, at, no))
				lc, ok := c.LastClose(m, at)
				require.True(t, ok)
				require.False(t, lc.After(at))
				require.True(t, c.IsOpen(m, lc.Add(-time.Nanosecond)), "%s %s: open before the last close %s", m, at, lc)
				require.True(t, c.ClosedThroughout(m, lc, at))
			}
			inSession := false
			for _, iv := range c.Sessions(m, at.Add(-96*time.Hour), at.Add(96*time.Hour)) {
				inSession = inSession || iv.Contains(at)
			}
			require.Equal(t, open, inSession, "%s %s", m, at)
		}
	}
}

// TestSessionDay holds SessionDay to the zone conversion it avoids: for every
// session of the markets with sessions over four decades, at its first and
// last second and in between, the local date and the trading time of that
// date before the instant.
func TestSessionDay(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	for _, m := range []vendor.Market{vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketJP, vendor.MarketFX} {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			loc := c.Location(m)
			from, to := utc(1990, 1, 1, 0, 0), utc(2030, 1, 1, 0, 0)
			var n int
			// Sessions merges FX's days into weeks; take them a day at a time.
			for day := from; day.Before(to); day = day.Add(24 * time.Hour) {
				for _, iv := range c.Sessions(m, day, day.Add(24*time.Hour)) {
					for _, at := range []time.Time{iv.Start, iv.Start.Add(iv.Duration() / 2), iv.End.Add(-time.Second)} {
						local := at.In(loc)
						y, mo, d := local.Date()
						midnight := time.Date(y, mo, d, 0, 0, 0, 0, loc)
						day, elapsed, ok := c.SessionDay(m, at)
						require.True(t, ok, "%v", at)
						require.Equal(t, dateOf(local).days(), day, "%v", at)
						require.Equal(t, c.OpenDuration(m, midnight, at), elapsed, "%v", at)
						require.Equal(t, c.OpenDuration(m, midnight, midnight.AddDate(0, 0, 1)), c.TradingTime(m, day), "%v", at)
						n++
					}
				}
			}
			require.Greater(t, n, 10_000)
		})
	}
	t.Run("Closed", func(t *testing.T) {
		t.Parallel()
		for _, at := range []time.Time{
			utc(2025, 3, 10, 20, 0), // US close
			utc(2025, 3, 8, 15, 0),  // Saturday
			utc(2025, 4, 18, 15, 0), // Good Friday
		} {
			_, _, ok := c.SessionDay(vendor.MarketUS, at)
			require.False(t, ok, "%v", at)
		}
		_, _, ok := c.SessionDay(vendor.MarketHK, utc(2025, 3, 10, 4, 30)) // lunch
		require.False(t, ok)
		_, _, ok = c.SessionDay(vendor.MarketCrypto, utc(2025, 3, 10, 4, 30))
		require.False(t, ok)
		require.Zero(t, c.TradingTime(vendor.MarketUS, 20155)) // Saturday 2025-03-08
		require.Zero(t, c.TradingTime(vendor.MarketUS, 20196)) // Good Friday 2025-04-18
		require.Zero(t, c.TradingTime(vendor.MarketCrypto, 20157))
		require.Equal(t, 210*time.Minute, c.TradingTime(vendor.MarketUS, 20420)) // 2025-11-28, after Thanksgiving
	})
	t.Run("Lunch", func(t *testing.T) {
		t.Parallel()
		// HK, 2025-03-10: 09:30–12:00 and 13:00–16:00 local (01:30Z–04:00Z,
		// 05:00Z–08:00Z): the afternoon's first minute follows the morning's
		// 150.
		day, elapsed, ok := c.SessionDay(vendor.MarketHK, utc(2025, 3, 10, 5, 0).Add(30*time.Second))
		require.True(t, ok)
		require.Equal(t, 20157, day)
		require.Equal(t, 150*time.Minute+30*time.Second, elapsed)
	})
}
