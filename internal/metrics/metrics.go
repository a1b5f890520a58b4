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

	mu    sync.Mutex
	fresh func() map[vendor.Series]time.Time
	now   func() time.Time
}

var freshDesc = prometheus.NewDesc("syncd_series_freshness_seconds",
	"Seconds since the series' forming bar was last confirmed by a live poll.",
	[]string{"vendor", "symbol", "timeframe"}, nil)

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
		}, []string{"vendor", "symbol", "timeframe"}),
		BackfillProgress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syncd_backfill_progress_ratio", Help: "Fraction of the wanted history stored per series.",
		}, []string{"vendor", "symbol", "timeframe"}),
		now: time.Now,
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.VendorRequests, m.Bars, m.PollTicks, m.Trades, m.Revisions, m.Gaps, m.BackfillOldest, m.BackfillProgress, freshCollector{m})
	return m
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

func (c countingGate) Acquire(ctx context.Context, ep vendor.Endpoint, items int) error {
	return c.g.Acquire(ctx, ep, items)
}

func (c countingGate) Report(ep vendor.Endpoint, err error) {
	c.m.VendorRequests.WithLabelValues(string(ep), Outcome(err)).Inc()
	c.g.Report(ep, err)
}
