package barcheck

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func bar(t time.Time, o, h, l, c, v string) vendor.Bar {
	return vendor.Bar{Time: t, Open: decimal.MustParse(o), High: decimal.MustParse(h), Low: decimal.MustParse(l),
		Close: decimal.MustParse(c), Volume: decimal.MustParse(v)}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	rules := Rules{Timeframe: vendor.TF1m, Market: vendor.MarketCrypto, Now: t0.Add(10 * time.Minute)}
	ok := bar(t0, "10", "11", "9", "10.5", "1")
	tests := []struct {
		name   string
		bar    vendor.Bar
		rules  Rules
		reason string
	}{
		{"Valid", ok, rules, ""},
		{"HighBelowLow", bar(t0, "10", "9", "11", "10", "1"), rules, ReasonOHLC},
		{"OpenAboveHigh", bar(t0, "12", "11", "9", "10", "1"), rules, ReasonOHLC},
		{"CloseBelowLow", bar(t0, "10", "11", "9", "8.99", "1"), rules, ReasonOHLC},
		{"NegativeVolume", bar(t0, "10", "11", "9", "10", "-1"), rules, ReasonNegative},
		{"ZeroPrice", bar(t0, "0", "1", "0", "1", "1"), rules, ReasonNegative},
		{"Misaligned", bar(t0.Add(30*time.Second), "10", "11", "9", "10", "1"), rules, ReasonAligned},
		{"MillisecondsAsSeconds", bar(time.Unix(1768992, 0), "10", "11", "9", "10", "1"), rules, ReasonEpoch},
		{"Future", bar(t0.Add(time.Hour), "10", "11", "9", "10", "1"), rules, ReasonFuture},
		{"AfterEnd", ok, Rules{Timeframe: vendor.TF1m, End: t0.Add(-time.Minute)}, ReasonRange},
		{"BeforeStart", ok, Rules{Timeframe: vendor.TF1m, Start: t0.Add(time.Minute)}, ReasonRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			good, bad := Check([]vendor.Bar{tt.bar}, tt.rules)
			if tt.reason == "" {
				require.Len(t, good, 1)
				require.Empty(t, bad)
				return
			}
			require.Empty(t, good)
			require.Len(t, bad, 1)
			require.True(t, strings.HasPrefix(bad[0].Reason, tt.reason+":"), bad[0].Reason)
			require.Contains(t, string(bad[0].Raw()), `"open":"`)
		})
	}
}

func TestCheckSortsAndDedupes(t *testing.T) {
	t.Parallel()
	a := bar(t0, "10", "11", "9", "10", "1")
	b := bar(t0.Add(time.Minute), "10", "11", "9", "10", "1")
	c1 := bar(t0.Add(2*time.Minute), "10", "11", "9", "10", "1")
	c2 := bar(t0.Add(2*time.Minute), "10", "11", "9", "10.1", "1")
	good, bad := Check([]vendor.Bar{b, a, b}, Rules{Timeframe: vendor.TF1m})
	require.Empty(t, bad)
	require.Equal(t, []vendor.Bar{a, b}, good)

	good, bad = Check([]vendor.Bar{c1, a, c2}, Rules{Timeframe: vendor.TF1m})
	require.Equal(t, []vendor.Bar{a}, good)
	require.Len(t, bad, 2)
	require.True(t, strings.HasPrefix(bad[0].Reason, ReasonDuplicate))
}

func TestGrid(t *testing.T) {
	t.Parallel()
	require.Equal(t, time.Minute, Grid(vendor.TF1m, vendor.MarketUS))
	require.Equal(t, 15*time.Minute, Grid(vendor.TF1h, vendor.MarketUS))
	require.Equal(t, time.Hour, Grid(vendor.TF1h, vendor.MarketCrypto))
	require.Equal(t, 15*time.Minute, Grid(vendor.TF1d, vendor.MarketCrypto))
	// A US daily bar at exchange-local midnight in winter (05:00Z) passes.
	_, bad := Check([]vendor.Bar{bar(time.Date(2026, 1, 5, 5, 0, 0, 0, time.UTC), "1", "1", "1", "1", "0")}, Rules{Timeframe: vendor.TF1d, Market: vendor.MarketUS})
	require.Empty(t, bad)
	// Commodities may trade below zero.
	_, bad = Check([]vendor.Bar{bar(t0, "-37.63", "1", "-40", "-37", "5")}, Rules{Timeframe: vendor.TF1m, Market: vendor.MarketCommodity})
	require.Empty(t, bad)
}
