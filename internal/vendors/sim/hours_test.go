package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
)

// TestHourAggregatesMatchMinuteSweep: bars merged from hourly aggregates,
// cached or not, equal the bars swept minute by minute, whatever pages and
// as-of times came before: a later as-of must not leak an hour that has
// ended since into an earlier view where it is still forming.
func TestHourAggregatesMatchMinuteSweep(t *testing.T) {
	t.Parallel()
	base := utc(2025, 12, 24, 23, 0)
	views := []struct{ end, asOf time.Time }{
		{base.Add(3 * time.Hour), base.Add(3*time.Hour + 30*time.Second)},       // hour 23:00 final, cached
		{base.Add(59 * time.Minute), base.Add(59*time.Minute + 57*time.Second)}, // the same hour forming
		{base, base.Add(20 * time.Minute)},
		{base.Add(-24 * time.Hour), base.Add(100 * 24 * time.Hour)},
		{base.Add(-24 * time.Hour), base.Add(-23*time.Hour + 17*time.Second)},
	}
	for _, m := range []vendor.Market{vendor.MarketCrypto, vendor.MarketFX, vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketJP} {
		cached, minutes := newGen(t, 5), newGen(t, 5)
		minutes.minutesOnly = true
		for _, tf := range []vendor.Timeframe{vendor.TF1h, vendor.TF4h, vendor.TF1d, vendor.TF1w} {
			for _, anchor := range []calendar.Anchor{calendar.AnchorUTC, calendar.AnchorExchange} {
				s := spec("HOURS", m, tf)
				s.Anchor = anchor
				for i, v := range views {
					want, err := minutes.Last(s, v.end, 40, v.asOf)
					require.NoError(t, err)
					for pass := range 2 { // the second from the cache
						got, err := cached.Last(s, v.end, 40, v.asOf)
						require.NoError(t, err)
						require.Equal(t, want, got, "%s %s %s view %d pass %d", m, tf, anchor, i, pass)
					}
				}
			}
		}
	}
}

// TestHourCacheBounded: the cache keeps two generations of at most
// hourCacheDays day blocks, however many series and days pass through.
func TestHourCacheBounded(t *testing.T) {
	t.Parallel()
	g := newGen(t, 1)
	for i := range 12 {
		s := spec("BOUND"+string(rune('A'+i)), vendor.MarketCrypto, vendor.TF1d)
		_, err := g.Last(s, utc(2025, 1, 1, 0, 0), 1000, far)
		require.NoError(t, err)
	}
	blocks := func(gen map[Instrument]map[int64]*hourBlock) int {
		n := 0
		for _, days := range gen {
			n += len(days)
		}
		return n
	}
	require.LessOrEqual(t, blocks(g.hours.cur), hourCacheDays)
	require.LessOrEqual(t, blocks(g.hours.old), hourCacheDays)
	require.Positive(t, blocks(g.hours.cur)+blocks(g.hours.old))
}
