package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/vendor"
)

func TestWarnsWhenAHolidayTableHasEnded(t *testing.T) {
	t.Parallel()
	cal, err := calendar.New()
	require.NoError(t, err)
	_, last, ok := cal.HolidayYears(vendor.MarketHK)
	require.True(t, ok)
	hk := vendor.Series{Vendor: vendor.AllTick, Symbol: "700.HK", Timeframe: vendor.TF1m}
	hk1h := vendor.Series{Vendor: vendor.AllTick, Symbol: "700.HK", Timeframe: vendor.TF1h}
	btc := vendor.Series{Vendor: vendor.AllTick, Symbol: "BTCUSDT", Timeframe: vendor.TF1m}
	p := &parts{caps: map[vendor.Series]vendor.Capabilities{
		hk: {Market: vendor.MarketHK}, hk1h: {Market: vendor.MarketHK}, btc: {Market: vendor.MarketCrypto},
	}}
	for _, tc := range []struct {
		year  int
		warns int
	}{{last, 0}, {last + 1, 1}} {
		core, logs := observer.New(zapcore.WarnLevel)
		env := &Env{Log: zap.New(core), Clock: clock.NewFake(time.Date(tc.year, 6, 1, 0, 0, 0, 0, time.UTC))}
		p.warnHolidayTables(env, cal)
		require.Equal(t, tc.warns, logs.Len(), "year %d", tc.year)
		if tc.warns > 0 {
			require.Equal(t, "hk", logs.All()[0].ContextMap()["market"])
		}
	}
}
