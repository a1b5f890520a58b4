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
	_, err := g.Acquire(context.Background(), vendor.EndpointLatest, 3)
	require.NoError(t, err)
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

func TestQuotaMetrics(t *testing.T) {
	t.Parallel()
	m := New()
	m.ObserveQuotaWait(vendor.EndpointHistory, "backfill", 3*time.Second)
	m.ObserveQuotaWait(vendor.EndpointHistory, "backfill", 20*time.Millisecond)
	m.ObserveQuotaWait(vendor.EndpointLatest, "live", 0)
	require.Equal(t, 2, testutil.CollectAndCount(m.QuotaWait, "syncd_quota_wait_seconds"), "one series per endpoint and lane")
	q := QuotaStats{Vendor: "alltick", Used: 998, Cap: 1000, Pushbacks: 5, Episodes: 2}
	m.SetQuota(func() QuotaStats { return q })
	err := testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP syncd_quota_daily_limit The plan's daily request cap (plans with a daily cap).
# TYPE syncd_quota_daily_limit gauge
syncd_quota_daily_limit{vendor="alltick"} 1000
# HELP syncd_quota_daily_remaining Requests left in the daily quota until the next reset (plans with a daily cap).
# TYPE syncd_quota_daily_remaining gauge
syncd_quota_daily_remaining{vendor="alltick"} 2
# HELP syncd_quota_daily_used Requests counted against the daily quota since the last reset.
# TYPE syncd_quota_daily_used gauge
syncd_quota_daily_used{vendor="alltick"} 998
# HELP syncd_quota_exhausted 1 while the daily quota is used up and requests wait for the reset, else 0.
# TYPE syncd_quota_exhausted gauge
syncd_quota_exhausted{vendor="alltick"} 0
# HELP syncd_quota_pushback_episodes_total Pushback episodes: runs of rate-limit answers that paused every lane, each ended by an accepted request.
# TYPE syncd_quota_pushback_episodes_total counter
syncd_quota_pushback_episodes_total{vendor="alltick"} 2
# HELP syncd_quota_pushbacks_total Rate-limit answers from the vendor.
# TYPE syncd_quota_pushbacks_total counter
syncd_quota_pushbacks_total{vendor="alltick"} 5
# HELP syncd_quota_wait_seconds Time requests waited in the quota governor, by endpoint and lane.
# TYPE syncd_quota_wait_seconds histogram
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="0.001"} 0
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="0.01"} 0
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="0.05"} 1
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="0.1"} 1
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="0.25"} 1
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="0.5"} 1
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="1"} 1
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="2.5"} 1
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="5"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="10"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="30"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="60"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="300"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="3600"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="86400"} 2
syncd_quota_wait_seconds_bucket{endpoint="history",lane="backfill",le="+Inf"} 2
syncd_quota_wait_seconds_sum{endpoint="history",lane="backfill"} 3.02
syncd_quota_wait_seconds_count{endpoint="history",lane="backfill"} 2
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="0.001"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="0.01"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="0.05"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="0.1"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="0.25"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="0.5"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="1"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="2.5"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="5"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="10"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="30"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="60"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="300"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="3600"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="86400"} 1
syncd_quota_wait_seconds_bucket{endpoint="latest",lane="live",le="+Inf"} 1
syncd_quota_wait_seconds_sum{endpoint="latest",lane="live"} 0
syncd_quota_wait_seconds_count{endpoint="latest",lane="live"} 1
`), "syncd_quota_daily_limit", "syncd_quota_daily_remaining", "syncd_quota_daily_used", "syncd_quota_exhausted",
		"syncd_quota_pushback_episodes_total", "syncd_quota_pushbacks_total", "syncd_quota_wait_seconds")
	require.NoError(t, err)

	// No daily cap: no remaining or limit series; exhausted shows.
	q = QuotaStats{Vendor: "qos", Used: 7, Exhausted: true}
	require.Zero(t, testutil.CollectAndCount(quotaCollector{m}, "syncd_quota_daily_remaining", "syncd_quota_daily_limit"))
	require.Equal(t, 1, testutil.CollectAndCount(quotaCollector{m}, "syncd_quota_exhausted"))
	require.NoError(t, testutil.CollectAndCompare(quotaCollector{m}, strings.NewReader(`
# HELP syncd_quota_exhausted 1 while the daily quota is used up and requests wait for the reset, else 0.
# TYPE syncd_quota_exhausted gauge
syncd_quota_exhausted{vendor="qos"} 1
`), "syncd_quota_exhausted"))
}
