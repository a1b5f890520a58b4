package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestGateCountsOutcomes(t *testing.T) {
	t.Parallel()
	m := New()
	g := m.Gate(vendor.Open{})
	require.NoError(t, g.Acquire(context.Background(), vendor.EndpointLatest, 3))
	g.Report(vendor.EndpointLatest, nil)
	g.Report(vendor.EndpointHistory, &vendor.APIError{Vendor: "x", Kind: vendor.ErrRateLimited})
	require.InDelta(t, 1, testutil.ToFloat64(m.VendorRequests.WithLabelValues("latest", "ok")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(m.VendorRequests.WithLabelValues("history", "rate_limited")), 0)
}

func TestFreshness(t *testing.T) {
	t.Parallel()
	m := New()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := vendor.Series{Vendor: "alltick", Symbol: "BTCUSDT", Timeframe: vendor.TF1m}
	m.SetFreshness(func() map[vendor.Series]time.Time { return map[vendor.Series]time.Time{s: at} },
		func() time.Time { return at.Add(4 * time.Second) })
	err := testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP syncd_series_freshness_seconds Seconds since the series' forming bar was last confirmed by a live poll.
# TYPE syncd_series_freshness_seconds gauge
syncd_series_freshness_seconds{symbol="BTCUSDT",timeframe="1m",vendor="alltick"} 4
`), "syncd_series_freshness_seconds")
	require.NoError(t, err)
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ok", Outcome(nil))
	require.Equal(t, "cancelled", Outcome(context.Canceled))
	require.Equal(t, "auth", Outcome(&vendor.APIError{Kind: vendor.ErrAuth}))
	require.Equal(t, "invalid_symbol", Outcome(&vendor.InvalidSymbolsError{Symbols: []string{"X"}}))
}
