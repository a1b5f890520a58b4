package sim

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// allTickPair starts the simulator as AllTick, as of a fixed Friday noon UTC,
// and an AllTick client pointed at it.
func allTickPair(t *testing.T, p plan.Plan) (*Server, *alltick.Client) {
	t.Helper()
	asOf := time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC)
	srv, err := New(Config{Seed: 7, Clock: clock.NewFake(asOf), Plan: p, RootVendor: vendor.AllTick})
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.AllTick, AllTick))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := alltick.New(alltick.Config{BaseURL: hs.URL, Token: secret.New("sim-token")})
	require.NoError(t, err)
	return srv, c
}

func TestAllTickRoundTrip(t *testing.T) {
	t.Parallel()
	srv, c := allTickPair(t, plan.Plan{})
	ctx := context.Background()
	now := srv.Core().Now()

	// History pages back from an end time; the final bars equal the truth.
	end := now.Add(-3 * time.Hour).Truncate(time.Minute)
	page, err := c.History(ctx, "BTCUSDT", vendor.TF1m, end, 500)
	require.NoError(t, err)
	require.Len(t, page.Bars, 500)
	truth, err := srv.Core().Truth(allTickSpec("BTCUSDT", vendor.TF1m), page.Bars[0].Time, end.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, truth, 500)
	for i := range truth {
		require.True(t, truth[i].SameValues(page.Bars[i]), "bar %d", i)
	}

	// Stock codes ignore an end time: the client refuses to send one.
	_, err = c.History(ctx, "AAPL.US", vendor.TF1m, end, 10)
	require.ErrorIs(t, err, vendor.ErrUnsupported)
	page, err = c.History(ctx, "AAPL.US", vendor.TF1m, time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, page.Bars, 10)

	// Latest two bars, one invalid code isolated.
	series := []vendor.Series{
		{Vendor: vendor.AllTick, Symbol: "BTCUSDT", Timeframe: vendor.TF1m},
		{Vendor: vendor.AllTick, Symbol: "ETHUSDT", Timeframe: vendor.TF5m},
		{Vendor: vendor.AllTick, Symbol: "INVALIDX", Timeframe: vendor.TF1m},
		{Vendor: vendor.AllTick, Symbol: "700.HK", Timeframe: vendor.TF1m},
	}
	latest, err := c.Latest(ctx, series)
	require.NoError(t, err)
	require.Len(t, latest.Bars[series[0]], 2)
	require.Equal(t, now.Truncate(time.Minute), latest.Bars[series[0]][1].Time, "the newest bar is the forming one")
	require.Contains(t, latest.Invalid, series[2])
	require.NotContains(t, latest.Bars, series[2])

	trades, err := c.Trades(ctx, []string{"BTCUSDT"})
	require.NoError(t, err)
	require.Len(t, trades, 1)

	st := srv.Core().Stats()
	require.NotEmpty(t, st)
}

func TestAllTickPlanRefusalIsTheVendorsAnswer(t *testing.T) {
	t.Parallel()
	free, err := plan.Lookup(vendor.AllTick, "free")
	require.NoError(t, err)
	_, c := allTickPair(t, free)
	ctx := context.Background()
	_, err = c.History(ctx, "BTCUSDT", vendor.TF1m, time.Time{}, 10)
	require.NoError(t, err)
	// A burst beyond one request per 10 s gets AllTick's rate-limit answer.
	_, err = c.History(ctx, "BTCUSDT", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrRateLimited)
}

func TestAllTickRefusesAnInvalidToken(t *testing.T) {
	t.Parallel()
	srv, _ := allTickPair(t, plan.Plan{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := alltick.New(alltick.Config{BaseURL: hs.URL, Token: secret.New(InvalidCodePrefix + "-key")})
	require.NoError(t, err)
	_, err = c.History(context.Background(), "BTCUSDT", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrAuth)
	require.NotContains(t, err.Error(), InvalidCodePrefix+"-key")
}
