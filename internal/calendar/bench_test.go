package calendar

import (
	"testing"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// BenchmarkSessions800Days is the calendar work of one 500-bar daily page of
// a US stock in the simulator: the sessions of 800 calendar days (1.6 × 500),
// each window starting elsewhere, as a backfill walks back.
func BenchmarkSessions800Days(b *testing.B) {
	c := newCal(b)
	end := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		to := end.AddDate(0, 0, -800*(i%40))
		if len(c.Sessions(vendor.MarketUS, to.AddDate(0, 0, -800), to)) == 0 {
			b.Fatal("no sessions")
		}
		i++
	}
}

// BenchmarkBarSpan1d is the span of one exchange-anchored daily bar, asked
// once per bar of a daily page.
func BenchmarkBarSpan1d(b *testing.B) {
	c := newCal(b)
	t0 := time.Date(2025, 6, 2, 14, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sp := c.BarSpan(vendor.MarketUS, vendor.TF1d, t0.Add(-time.Duration(i%20000)*24*time.Hour), AnchorExchange)
		if !sp.Start.Before(sp.End) {
			b.Fatal("empty span")
		}
		i++
	}
}
