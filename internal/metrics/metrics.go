// Package metrics defines syncd's Prometheus metrics, on a registry of their
// own so tests and embedders never collide with the global one.
package metrics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/syncd/syncd/internal/vendor"
)

// Metrics holds every collector syncd exports.
type Metrics struct {
	Registry *prometheus.Registry

	// VendorRequests counts vendor requests by endpoint and outcome (ok,
	// rate_limited, quota_exhausted, auth, invalid_symbol, beyond_range,
	// unsupported, transient, protocol, cancelled, error).
	VendorRequests *prometheus.CounterVec
	// Bars counts bars by what happened to them: inserted, updated, unchanged,
	// quarantined.
	Bars *prometheus.CounterVec
	// PollTicks counts live-poll ticks by outcome (ok, error).
	PollTicks *prometheus.CounterVec
	// Trades counts latest trades received with SYNCD_TRADES=on, by result:
	// stored (a new tick) or seen_before (the endpoint repeated a stored one).
	Trades *prometheus.CounterVec
	// Revisions counts stored bars the vendor changed in a way a live bar does not move.
	Revisions prometheus.Counter
	// Gaps counts head gaps handed to backfill.
	Gaps prometheus.Counter
	// BackfillOldest is the open time of the oldest stored bar per series, in Unix seconds.
	BackfillOldest *prometheus.GaugeVec
	// BackfillProgress is the fraction of the wanted history stored per series (0–1).
	BackfillProgress *prometheus.GaugeVec

	// QuotaWait is how long requests waited in the quota governor before it
	// let them go, by endpoint and lane (live, heal, backfill).
	QuotaWait *prometheus.HistogramVec

	mu    sync.Mutex
	fresh func() map[vendor.Series]time.Time
	now   func() time.Time
	quota func() QuotaStats
}

// QuotaStats is the governor's state read at scrape time.
type QuotaStats struct {
	Vendor string
	// Used counts requests made today; Cap is the plan's daily cap (0: none).
	Used, Cap int64
	// Exhausted is true while the daily cap is used up.
	Exhausted bool
	// Pushbacks counts rate-limit answers; Episodes counts runs of them, each
	// ended by an accepted request.
	Pushbacks, Episodes int64
}

// Label sets: a series' (vendor, symbol, timeframe), and the vendor alone for
// the governor's series (one governor per vendor key).
var (
	seriesLabels = []string{"vendor", "symbol", "timeframe"}
	vendorLabel  = seriesLabels[:1]
)

var (
	quotaUsedDesc = prometheus.NewDesc("syncd_quota_daily_used",
		"Requests counted against the daily quota since the last reset.", vendorLabel, nil)
	quotaRemainingDesc = prometheus.NewDesc("syncd_quota_daily_remaining",
		"Requests left in the daily quota until the next reset (plans with a daily cap).", vendorLabel, nil)
	quotaLimitDesc = prometheus.NewDesc("syncd_quota_daily_limit",
		"The plan's daily request cap (plans with a daily cap).", vendorLabel, nil)
	quotaExhaustedDesc = prometheus.NewDesc("syncd_quota_exhausted",
		"1 while the daily quota is used up and requests wait for the reset, else 0.", vendorLabel, nil)
	quotaPushbacksDesc = prometheus.NewDesc("syncd_quota_pushbacks_total",
		"Rate-limit answers from the vendor.", vendorLabel, nil)
	quotaEpisodesDesc = prometheus.NewDesc("syncd_quota_pushback_episodes_total",
		"Pushback episodes: runs of rate-limit answers that paused every lane, each ended by an accepted request.", vendorLabel, nil)
)

var freshDesc = prometheus.NewDesc("syncd_series_freshness_seconds",
	"Seconds since the series' forming bar was last confirmed by a live poll.",
	seriesLabels, nil)

// New builds and registers every collector, plus the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		VendorRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_vendor_requests_total", Help: "Vendor requests by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		Bars: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_bars_total", Help: "Bars written by result: inserted, updated, unchanged, quarantined.",
		}, []string{"result"}),
		PollTicks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_poll_ticks_total", Help: "Live-poll ticks by outcome.",
		}, []string{"outcome"}),
		Trades: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syncd_trades_total", Help: "Latest trades received by result: stored, seen_before.",
		}, []string{"result"}),
		Revisions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syncd_bar_revisions_total", Help: "Stored bars revised by the vendor.",
		}),
		Gaps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syncd_head_gaps_total", Help: "Head gaps handed to backfill for healing.",
		}),
		BackfillOldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncd_backfill_oldest_timestamp_seconds", Help: "Open time of the oldest stored bar per series.",
		}, seriesLabels),
		BackfillProgress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncd_backfill_progress_ratio", Help: "Fraction of the wanted history stored per series.",
		}, seriesLabels),
		QuotaWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "syncd_quota_wait_seconds", Help: "Time requests waited in the quota governor, by endpoint and lane.",
			// From a free slot to AllTick free's 10 s spacing, backoff and a day's reset.
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400},
		}, []string{"endpoint", "lane"}),
		now: time.Now,
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.VendorRequests, m.Bars, m.PollTicks, m.Trades, m.Revisions, m.Gaps, m.BackfillOldest, m.BackfillProgress, m.QuotaWait,
		freshCollector{m}, quotaCollector{m})
	return m
}

// ObserveQuotaWait records one request's wait in the governor.
func (m *Metrics) ObserveQuotaWait(ep vendor.Endpoint, lane string, wait time.Duration) {
	m.QuotaWait.WithLabelValues(string(ep), lane).Observe(wait.Seconds())
}

// SetQuota installs the source of the governor's state, read at scrape time.
func (m *Metrics) SetQuota(src func() QuotaStats) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.quota = src
}

type quotaCollector struct{ m *Metrics }

func (c quotaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{quotaUsedDesc, quotaRemainingDesc, quotaLimitDesc, quotaExhaustedDesc, quotaPushbacksDesc, quotaEpisodesDesc} {
		ch <- d
	}
}

func (c quotaCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	src := c.m.quota
	c.m.mu.Unlock()
	if src == nil {
		return
	}
	q := src()
	exhausted := 0.0
	if q.Exhausted {
		exhausted = 1
	}
	ch <- prometheus.MustNewConstMetric(quotaUsedDesc, prometheus.GaugeValue, float64(q.Used), q.Vendor)
	if q.Cap > 0 {
		ch <- prometheus.MustNewConstMetric(quotaRemainingDesc, prometheus.GaugeValue, float64(max(q.Cap-q.Used, 0)), q.Vendor)
		ch <- prometheus.MustNewConstMetric(quotaLimitDesc, prometheus.GaugeValue, float64(q.Cap), q.Vendor)
	}
	ch <- prometheus.MustNewConstMetric(quotaExhaustedDesc, prometheus.GaugeValue, exhausted, q.Vendor)
	ch <- prometheus.MustNewConstMetric(quotaPushbacksDesc, prometheus.CounterValue, float64(q.Pushbacks), q.Vendor)
	ch <- prometheus.MustNewConstMetric(quotaEpisodesDesc, prometheus.CounterValue, float64(q.Episodes), q.Vendor)
}

// SetFreshness installs the source of per-series freshness, read at scrape time.
func (m *Metrics) SetFreshness(src func() map[vendor.Series]time.Time, now func() time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fresh = src
	if now != nil {
		m.now = now
	}
}

// Labels returns the series label values in the metrics' order.
func Labels(s vendor.Series) []string { return []string{s.Vendor, s.Symbol, string(s.Timeframe)} }

type freshCollector struct{ m *Metrics }

func (c freshCollector) Describe(ch chan<- *prometheus.Desc) { ch <- freshDesc }

func (c freshCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	src, now := c.m.fresh, c.m.now
	c.m.mu.Unlock()
	if src == nil {
		return
	}
	t := now()
	for s, at := range src() {
		ch <- prometheus.MustNewConstMetric(freshDesc, prometheus.GaugeValue, t.Sub(at).Seconds(), Labels(s)...)
	}
}

// Outcome names an error's class for the outcome label.
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancelled"
	case errors.Is(err, vendor.ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, vendor.ErrQuotaExhausted):
		return "quota_exhausted"
	case errors.Is(err, vendor.ErrAuth):
		return "auth"
	case errors.Is(err, vendor.ErrInvalidSymbol):
		return "invalid_symbol"
	case errors.Is(err, vendor.ErrBeyondRange):
		return "beyond_range"
	case errors.Is(err, vendor.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, vendor.ErrTransient):
		return "transient"
	case errors.Is(err, vendor.ErrProtocol):
		return "protocol"
	}
	return "error"
}

// Gate wraps a vendor.Gate so every request outcome reported to it is counted.
func (m *Metrics) Gate(g vendor.Gate) vendor.Gate { return countingGate{g: g, m: m} }

type countingGate struct {
	g vendor.Gate
	m *Metrics
}

func (c countingGate) Acquire(ctx context.Context, ep vendor.Endpoint, items int) (vendor.Sent, error) {
	return c.g.Acquire(ctx, ep, items)
}

func (c countingGate) Report(ep vendor.Endpoint, err error) {
	c.m.VendorRequests.WithLabelValues(string(ep), Outcome(err)).Inc()
	c.g.Report(ep, err)
}
