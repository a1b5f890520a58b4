package calendar

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestDayAnchor(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	cases := []struct {
		name string
		m    vendor.Market
		at   time.Time
		want time.Time
	}{
		{"USSummer", vendor.MarketUS, utc(2025, 7, 15, 12, 0), utc(2025, 7, 15, 4, 0)},
		{"USWinter", vendor.MarketUS, utc(2025, 1, 15, 12, 0), utc(2025, 1, 15, 5, 0)},
		{"USLateEveningUTCIsSameDay", vendor.MarketUS, utc(2025, 1, 16, 3, 0), utc(2025, 1, 15, 5, 0)},
		{"USDSTStartDay", vendor.MarketUS, utc(2025, 3, 9, 12, 0), utc(2025, 3, 9, 5, 0)},
		{"USDayAfterDSTStart", vendor.MarketUS, utc(2025, 3, 10, 12, 0), utc(2025, 3, 10, 4, 0)},
		{"HK", vendor.MarketHK, utc(2025, 7, 15, 20, 0), utc(2025, 7, 15, 16, 0)},
		{"HKMorning", vendor.MarketHK, utc(2025, 7, 15, 2, 0), utc(2025, 7, 14, 16, 0)},
		{"CN", vendor.MarketCN, utc(2025, 12, 31, 17, 0), utc(2025, 12, 31, 16, 0)},
		{"Crypto", vendor.MarketCrypto, utc(2025, 7, 15, 23, 59), utc(2025, 7, 15, 0, 0)},
		{"FX", vendor.MarketFX, utc(2025, 7, 15, 23, 59), utc(2025, 7, 15, 0, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, c.DayAnchor(tc.m, tc.at).UTC())
		})
	}
	// Stepping days in the exchange zone keeps local midnights across DST.
	a := c.DayAnchor(vendor.MarketUS, utc(2025, 3, 8, 12, 0))
	require.Equal(t, utc(2025, 3, 10, 4, 0), vendor.TF1d.Next(vendor.TF1d.Next(a)).UTC())
}

func TestBarSpan(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	at := utc(2025, 3, 12, 14, 47) // Wednesday
	sp := c.BarSpan(vendor.MarketUS, vendor.TF1m, at, AnchorExchange)
	require.Equal(t, Interval{at, at.Add(time.Minute)}, sp)
	sp = c.BarSpan(vendor.MarketUS, vendor.TF4h, at, AnchorExchange)
	require.Equal(t, Interval{utc(2025, 3, 12, 12, 0), utc(2025, 3, 12, 16, 0)}, sp)
	sp = c.BarSpan(vendor.MarketUS, vendor.TF1d, at, AnchorExchange)
	require.Equal(t, Interval{utc(2025, 3, 12, 4, 0), utc(2025, 3, 13, 4, 0)}, utcInterval(sp))
	sp = c.BarSpan(vendor.MarketUS, vendor.TF1d, at, AnchorUTC)
	require.Equal(t, Interval{utc(2025, 3, 12, 0, 0), utc(2025, 3, 13, 0, 0)}, sp)
	// The week of the DST switch is 167 hours long in New York.
	sp = c.BarSpan(vendor.MarketUS, vendor.TF1w, utc(2025, 3, 5, 14, 0), AnchorExchange)
	require.Equal(t, Interval{utc(2025, 3, 3, 5, 0), utc(2025, 3, 10, 4, 0)}, utcInterval(sp))
	sp = c.BarSpan(vendor.MarketHK, vendor.TF1M, utc(2025, 12, 31, 17, 0), AnchorExchange)
	require.Equal(t, Interval{utc(2025, 12, 31, 16, 0), utc(2026, 1, 31, 16, 0)}, utcInterval(sp))
	sp = c.BarSpan(vendor.MarketCrypto, vendor.TF1M, utc(2025, 12, 31, 17, 0), AnchorExchange)
	require.Equal(t, Interval{utc(2025, 12, 1, 0, 0), utc(2026, 1, 1, 0, 0)}, utcInterval(sp))
}

func utcInterval(iv Interval) Interval { return Interval{iv.Start.UTC(), iv.End.UTC()} }

func TestBarCanExist(t *testing.T) {
	t.Parallel()
	c := newCal(t)
	cases := []struct {
		name string
		m    vendor.Market
		tf   vendor.Timeframe
		open time.Time
		a    Anchor
		want bool
	}{
		{"US1mInSession", vendor.MarketUS, vendor.TF1m, utc(2025, 3, 12, 14, 47), AnchorUTC, true},
		{"US1mPreMarket", vendor.MarketUS, vendor.TF1m, utc(2025, 3, 12, 13, 29), AnchorUTC, false},
		{"US1hHalfInSession", vendor.MarketUS, vendor.TF1h, utc(2025, 3, 12, 13, 0), AnchorUTC, true},
		{"US1hAfterClose", vendor.MarketUS, vendor.TF1h, utc(2025, 3, 12, 20, 0), AnchorUTC, false},
		{"HK1hLunch", vendor.MarketHK, vendor.TF1h, utc(2025, 3, 12, 4, 0), AnchorUTC, false},
		{"HK30mLunchEdge", vendor.MarketHK, vendor.TF30m, utc(2025, 3, 12, 3, 30), AnchorUTC, true},
		{"HK1hUnaligned", vendor.MarketHK, vendor.TF1h, utc(2025, 3, 12, 1, 30), AnchorUTC, false},
		{"US1dSaturday", vendor.MarketUS, vendor.TF1d, time.Date(2025, 3, 8, 0, 0, 0, 0, c.Location(vendor.MarketUS)), AnchorExchange, false},
		{"US1dHoliday", vendor.MarketUS, vendor.TF1d, time.Date(2025, 7, 4, 0, 0, 0, 0, c.Location(vendor.MarketUS)), AnchorExchange, false},
		{"US1dTradingDay", vendor.MarketUS, vendor.TF1d, utc(2025, 7, 3, 4, 0), AnchorExchange, true},
		{"US1dWrongAnchor", vendor.MarketUS, vendor.TF1d, utc(2025, 7, 3, 0, 0), AnchorExchange, false},
		{"US1dUTCAnchor", vendor.MarketUS, vendor.TF1d, utc(2025, 7, 3, 0, 0), AnchorUTC, true},
		{"CN1wGoldenWeek", vendor.MarketCN, vendor.TF1w, utc(2025, 9, 28, 16, 0), AnchorExchange, true},
		{"FX1dSunday", vendor.MarketFX, vendor.TF1d, utc(2025, 7, 13, 0, 0), AnchorUTC, true},
		{"FX1dSaturday", vendor.MarketFX, vendor.TF1d, utc(2025, 7, 12, 0, 0), AnchorUTC, false},
		{"Crypto1dSaturday", vendor.MarketCrypto, vendor.TF1d, utc(2025, 7, 12, 0, 0), AnchorUTC, true},
		{"Invalid", vendor.MarketCrypto, vendor.Timeframe("3m"), utc(2025, 7, 12, 0, 0), AnchorUTC, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, c.BarCanExist(tc.m, tc.tf, tc.open, tc.a))
		})
	}
	a, err := ParseAnchor("exchange")
	require.NoError(t, err)
	require.Equal(t, AnchorExchange, a)
	require.Equal(t, "utc", AnchorUTC.String())
	_, err = ParseAnchor("local")
	require.Error(t, err)
}
