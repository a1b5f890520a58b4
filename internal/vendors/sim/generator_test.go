package sim

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

func newGen(tb testing.TB, seed uint64) *Generator {
	tb.Helper()
	cal, err := calendar.New()
	require.NoError(tb, err)
	return NewGenerator(seed, cal)
}

func spec(symbol string, m vendor.Market, tf vendor.Timeframe) Spec {
	return Spec{Instrument: NewInstrument(symbol, m), Timeframe: tf, Anchor: calendar.AnchorExchange}
}

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func render(bars []vendor.Bar) string {
	var b strings.Builder
	for _, x := range bars {
		fmt.Fprintf(&b, "%d %s %s %s %s %s %s\n", x.Time.Unix(), x.Open, x.High, x.Low, x.Close, x.Volume, x.Turnover)
	}
	return b.String()
}

// far is an asOf after every test range: all bars final.
var far = utc(2030, 1, 1, 0, 0) //nolint:gochecknoglobals // test constant

func TestDeterministic(t *testing.T) {
	t.Parallel()
	from, to := utc(2025, 3, 7, 0, 0), utc(2025, 3, 11, 0, 0)
	for _, s := range []Spec{
		spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1m),
		spec("US:AAPL", vendor.MarketUS, vendor.TF5m),
		spec("700.HK", vendor.MarketHK, vendor.TF1h),
		spec("EURUSD", vendor.MarketFX, vendor.TF15m),
	} {
		a, err := newGen(t, 42).Range(s, from, to, far)
		require.NoError(t, err)
		b, err := newGen(t, 42).Range(s, from, to, far)
		require.NoError(t, err)
		c, err := newGen(t, 43).Range(s, from, to, far)
		require.NoError(t, err)
		require.NotEmpty(t, a)
		require.Equal(t, render(a), render(b), "same seed, same bytes")
		require.NotEqual(t, render(a), render(c), "another seed, another path")
	}
	// Golden prefix: guards against an accidental change of the path (which
	// would silently invalidate recorded end-to-end expectations).
	bars, err := newGen(t, 1).Range(spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1m), utc(2025, 1, 1, 0, 0), utc(2025, 1, 1, 0, 2), far)
	require.NoError(t, err)
	require.Equal(t, "1735689600 84350.43 84364.55 84324.57 84326.05 1.88391109 158880.20\n"+
		"1735689660 84326.05 84357.04 84325.15 84340.32 1.59787113 134765.56\n", render(bars))
	// And of the stock markets' layout in trading days (dayBlocks): two
	// daily US bars, and a Hong Kong morning's last minute with the
	// afternoon's first, which opens at the morning's close.
	bars, err = newGen(t, 1).Range(spec("AAPL.US", vendor.MarketUS, vendor.TF1d), utc(2025, 3, 6, 0, 0), utc(2025, 3, 8, 0, 0), far)
	require.NoError(t, err)
	require.Equal(t, "1741237200 7.47 7.71 7.43 7.65 33756290 256885366.90\n"+
		"1741323600 7.65 7.74 7.52 7.70 52515731 402270499.46\n", render(bars))
	bars, err = newGen(t, 1).Range(spec("00700.HK", vendor.MarketHK, vendor.TF1m), utc(2025, 3, 10, 3, 59), utc(2025, 3, 10, 5, 1), far)
	require.NoError(t, err)
	require.Equal(t, "1741579140 3.474 3.477 3.473 3.476 1919682 6670894.950\n"+
		"1741582800 3.476 3.477 3.473 3.475 1329202 4618976.950\n", render(bars))
}

func TestBarsValidAndChained(t *testing.T) {
	t.Parallel()
	g := newGen(t, 7)
	from, to := utc(2024, 12, 20, 0, 0), utc(2025, 1, 8, 0, 0) // Christmas, New Year, weekends
	for _, m := range []vendor.Market{vendor.MarketCrypto, vendor.MarketFX, vendor.MarketCommodity, vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketJP} {
		for _, tf := range []vendor.Timeframe{vendor.TF1m, vendor.TF30m, vendor.TF1h, vendor.TF4h, vendor.TF1d} {
			s := spec("SYM-"+string(m), m, tf)
			bars, err := g.Range(s, from, to, far)
			require.NoError(t, err)
			require.NotEmpty(t, bars, "%s %s", m, tf)
			for i, b := range bars {
				require.LessOrEqual(t, b.Low.Cmp(b.Open), 0, "%s %s %v", m, tf, b)
				require.LessOrEqual(t, b.Low.Cmp(b.Close), 0)
				require.GreaterOrEqual(t, b.High.Cmp(b.Open), 0)
				require.GreaterOrEqual(t, b.High.Cmp(b.Close), 0)
				require.Positive(t, b.Low.Sign())
				require.GreaterOrEqual(t, b.Volume.Sign(), 0)
				require.Equal(t, s.PriceScale, b.Open.Scale())
				require.Equal(t, s.VolumeScale, b.Volume.Scale())
				if i > 0 {
					require.True(t, bars[i-1].Time.Before(b.Time))
					require.True(t, b.Open.Identical(bars[i-1].Close), "%s %s: bar %s opens at %s, previous closed at %s", m, tf, b.Time, b.Open, bars[i-1].Close)
				}
			}
		}
	}
}

func TestDecimalsPerAssetClass(t *testing.T) {
	t.Parallel()
	want := map[vendor.Market][2]int32{
		vendor.MarketCrypto: {2, 8}, vendor.MarketFX: {5, 0}, vendor.MarketUS: {2, 0},
		vendor.MarketHK: {3, 0}, vendor.MarketCN: {2, 0}, vendor.MarketCommodity: {2, 2},
	}
	for m, w := range want {
		in := NewInstrument("X", m)
		require.Equal(t, w[0], in.PriceScale, m)
		require.Equal(t, w[1], in.VolumeScale, m)
	}
}

// TestSessionsProperty: a 1m bar exists exactly when its minute is inside a
// session, at many random instants over three years of DST switches, lunch
// breaks, weekends and holidays.
func TestSessionsProperty(t *testing.T) {
	t.Parallel()
	g := newGen(t, 3)
	cal := g.Calendar()
	rng := rand.New(rand.NewPCG(3, 4))
	lo, hi := utc(2024, 1, 1, 0, 0).Unix()/60, utc(2027, 1, 1, 0, 0).Unix()/60
	for _, m := range []vendor.Market{vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketFX} {
		s := spec("P-"+string(m), m, vendor.TF1m)
		for range 400 {
			at := timeOfMinute(lo + rng.Int64N(hi-lo))
			_, ok, err := g.Bar(s, at, far)
			require.NoError(t, err)
			require.Equal(t, cal.IsOpen(m, at), ok, "%s 1m bar at %s", m, at)
		}
		// Hourly bars exist exactly where the calendar says one can.
		h := spec("P-"+string(m), m, vendor.TF1h)
		for range 150 {
			open := timeOfMinute(lo + rng.Int64N(hi-lo)).Truncate(time.Hour)
			_, ok, err := g.Bar(h, open, far)
			require.NoError(t, err)
			require.Equal(t, cal.BarCanExist(m, vendor.TF1h, open, h.Anchor), ok, "%s 1h bar at %s", m, open)
		}
		// Pages around random instants never hold a bar outside a session.
		for range 20 {
			at := timeOfMinute(lo + rng.Int64N(hi-lo))
			bars, err := g.Last(s, at, 300, far)
			require.NoError(t, err)
			require.Len(t, bars, 300)
			for _, b := range bars {
				require.True(t, cal.IsOpen(m, b.Time), "%s bar at %s outside session", m, b.Time)
				require.False(t, b.Time.After(at))
			}
		}
	}
}

func TestCryptoEveryMinuteFXNotOnWeekends(t *testing.T) {
	t.Parallel()
	g := newGen(t, 5)
	bars, err := g.Range(spec("ETHUSDT", vendor.MarketCrypto, vendor.TF1m), utc(2025, 7, 12, 0, 0), utc(2025, 7, 13, 0, 0), far)
	require.NoError(t, err)
	require.Len(t, bars, 1440)
	for i, b := range bars {
		require.Equal(t, utc(2025, 7, 12, 0, i), b.Time)
	}
	fx, err := g.Range(spec("EURUSD", vendor.MarketFX, vendor.TF1m), utc(2025, 7, 7, 0, 0), utc(2025, 7, 14, 0, 0), far)
	require.NoError(t, err)
	// Monday 00:00Z to Friday 21:00Z (17:00 New York, summer), then Sunday
	// 21:00Z to midnight.
	require.Len(t, fx, (4*24+21)*60+3*60)
	for _, b := range fx {
		wd := b.Time.Weekday()
		require.NotEqual(t, time.Saturday, wd)
		if wd == time.Friday {
			require.Less(t, b.Time.Hour(), 21)
		}
		if wd == time.Sunday {
			require.GreaterOrEqual(t, b.Time.Hour(), 21)
		}
	}
}

func TestCoarseBarsAggregateFine(t *testing.T) {
	t.Parallel()
	g := newGen(t, 11)
	for _, m := range []vendor.Market{vendor.MarketUS, vendor.MarketHK, vendor.MarketCrypto} {
		for _, tf := range []vendor.Timeframe{vendor.TF1h, vendor.TF1d} {
			from, to := utc(2025, 3, 6, 0, 0), utc(2025, 3, 12, 0, 0) // US DST switch inside
			coarse, err := g.Range(spec("AGG", m, tf), from, to, far)
			require.NoError(t, err)
			fine, err := g.Range(spec("AGG", m, vendor.TF1m), from.Add(-24*time.Hour), to.Add(24*time.Hour), far)
			require.NoError(t, err)
			for _, cb := range coarse {
				sp := g.Calendar().BarSpan(m, tf, cb.Time, calendar.AnchorExchange)
				var in []vendor.Bar
				for _, fb := range fine {
					if sp.Contains(fb.Time) {
						in = append(in, fb)
					}
				}
				require.NotEmpty(t, in)
				agg := aggregate(in)
				agg.Time = cb.Time
				require.True(t, agg.Open.Identical(cb.Open) && agg.High.Identical(cb.High) && agg.Low.Identical(cb.Low) &&
					agg.Close.Identical(cb.Close) && agg.Volume.Identical(cb.Volume), "%s %s %s: %v vs %v", m, tf, cb.Time, cb, agg)
			}
		}
	}
}

func aggregate(bars []vendor.Bar) vendor.Bar {
	out := bars[0]
	sum := bars[0].Volume.Coefficient()
	for _, b := range bars[1:] {
		if b.High.Cmp(out.High) > 0 {
			out.High = b.High
		}
		if b.Low.Cmp(out.Low) < 0 {
			out.Low = b.Low
		}
		out.Close = b.Close
		sum.Add(sum, b.Volume.Coefficient())
	}
	out.Volume = decimalFromBig(sum, bars[0].Volume.Scale())
	return out
}

func TestFormingBarConverges(t *testing.T) {
	t.Parallel()
	g := newGen(t, 13)
	cases := []struct {
		s    Spec
		open time.Time
	}{
		{spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1m), utc(2025, 5, 5, 10, 7)},
		{spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1h), utc(2025, 5, 5, 10, 0)},
		{spec("700.HK", vendor.MarketHK, vendor.TF1d), utc(2025, 5, 5, 16, 0)}, // HK day of 6 May, lunch inside
		{spec("US:MSFT", vendor.MarketUS, vendor.TF1w), utc(2025, 3, 3, 5, 0)},
	}
	for _, tc := range cases {
		final, ok, err := g.Bar(tc.s, tc.open, far)
		require.NoError(t, err)
		require.True(t, ok, tc.s.Timeframe)
		end := g.Calendar().BarSpan(tc.s.Market, tc.s.Timeframe, tc.open, tc.s.Anchor).End
		step := end.Sub(tc.open) / 997 // not a divisor of a minute: lands mid-minute
		var prev vendor.Bar
		seen := false
		for at := tc.open.Add(step); at.Before(end); at = at.Add(step) {
			b, ok, err := g.Bar(tc.s, tc.open, at)
			require.NoError(t, err)
			if !ok {
				require.False(t, seen, "bar vanished at %s", at)
				continue
			}
			require.True(t, b.Open.Identical(final.Open))
			require.LessOrEqual(t, b.Low.Cmp(b.Close), 0)
			require.GreaterOrEqual(t, b.High.Cmp(b.Close), 0)
			require.LessOrEqual(t, b.High.Cmp(final.High), 0)
			require.GreaterOrEqual(t, b.Low.Cmp(final.Low), 0)
			require.LessOrEqual(t, b.Volume.Cmp(final.Volume), 0)
			if seen {
				require.GreaterOrEqual(t, b.High.Cmp(prev.High), 0, "high fell at %s", at)
				require.LessOrEqual(t, b.Low.Cmp(prev.Low), 0, "low rose at %s", at)
				require.GreaterOrEqual(t, b.Volume.Cmp(prev.Volume), 0, "volume fell at %s", at)
			}
			prev, seen = b, true
		}
		require.True(t, seen)
		atEnd, ok, err := g.Bar(tc.s, tc.open, end)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, atEnd.SameValues(final), "at the end of its period the bar is final: %v vs %v", atEnd, final)
		require.True(t, g.IsFinal(tc.s, tc.open, end))
		require.False(t, g.IsFinal(tc.s, tc.open, end.Add(-time.Nanosecond)))
	}
}

func TestHistoryAsOfNow(t *testing.T) {
	t.Parallel()
	g := newGen(t, 17)
	s := spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1m)
	now := utc(2025, 6, 1, 12, 30).Add(25 * time.Second)
	bars, err := g.Last(s, now, 10, now)
	require.NoError(t, err)
	require.Len(t, bars, 10)
	require.Equal(t, utc(2025, 6, 1, 12, 30), bars[9].Time, "the forming bar is last")
	final, err := g.Final(s, utc(2025, 6, 1, 12, 21), now, now)
	require.NoError(t, err)
	require.Len(t, final, 9)
	require.Equal(t, render(bars[:9]), render(final))
	// Random access: one bar alone equals the same bar inside a long range.
	one, ok, err := g.Bar(s, utc(2025, 6, 1, 12, 25), now)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, one.SameValues(bars[4]))
	// Nothing before the epoch, nothing after asOf, and bad input is refused.
	early, err := g.Range(s, utc(1969, 12, 31, 23, 0), utc(1970, 1, 1, 0, 3), far)
	require.NoError(t, err)
	require.Len(t, early, 3)
	_, err = g.Last(s, now, 0, now)
	require.ErrorIs(t, err, ErrBadRequest)
	_, err = g.Range(Spec{Instrument: s.Instrument, Timeframe: "3m"}, now, now.Add(time.Hour), now)
	require.ErrorIs(t, err, ErrBadRequest)
	_, err = g.Range(s, utc(2000, 1, 1, 0, 0), utc(2025, 1, 1, 0, 0), far)
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestLastAcrossClosures(t *testing.T) {
	t.Parallel()
	g := newGen(t, 19)
	s := spec("600519.SH", vendor.MarketCN, vendor.TF1m)
	end := utc(2025, 10, 9, 1, 35) // 09:35 on the first day after Golden Week
	bars, err := g.Last(s, end, 500, far)
	require.NoError(t, err)
	require.Len(t, bars, 500)
	require.Equal(t, end, bars[499].Time)
	require.Equal(t, utc(2025, 9, 30, 7, 0).Add(-time.Minute), bars[493].Time, "the last minute before the holiday")
	for i := 1; i < len(bars); i++ {
		require.True(t, bars[i].Open.Identical(bars[i-1].Close))
	}
	d, err := g.Last(spec("600519.SH", vendor.MarketCN, vendor.TF1d), end, 5, far)
	require.NoError(t, err)
	require.Len(t, d, 5)
	require.Equal(t, utc(2025, 10, 8, 16, 0), d[4].Time, "CN daily bars open at 16:00Z the day before")
	require.Equal(t, utc(2025, 9, 29, 16, 0), d[3].Time)
}

func decimalFromBig(x *big.Int, scale int32) decimal.Decimal { return decimal.NewFromBig(x, scale) }
