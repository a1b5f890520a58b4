package sim

import (
	"testing"
	"time"

	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// benchPage measures one backward history page of 500 bars ending at a
// different instant on each iteration, as a backfill walks. With warm, the
// same page is served again and again instead (a polled latest page, a page
// fetched again). The generator keeps no cache, so the two differ only in
// what the CPU's caches hold; the warm variants stay for comparison with
// figures from the hour cache it used to have.
func benchPage(b *testing.B, m vendor.Market, tf vendor.Timeframe, warm bool) {
	b.Helper()
	g := newGen(b, 1)
	s := spec("BENCH", m, tf)
	end := utc(2025, 6, 1, 0, 0)
	step := 500 * tf.Duration()
	pages := max(1, min(512, int(40*365*24*time.Hour/step))) // stay after 1985
	if warm {
		pages = 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		at := end.Add(-time.Duration(i%pages) * step)
		bars, err := g.Last(s, at, 500, far)
		if err != nil || len(bars) != 500 {
			b.Fatalf("page: %d bars, %v", len(bars), err)
		}
		i++
	}
}

func BenchmarkPage1mCrypto(b *testing.B)     { benchPage(b, vendor.MarketCrypto, vendor.TF1m, false) }
func BenchmarkPage1mUS(b *testing.B)         { benchPage(b, vendor.MarketUS, vendor.TF1m, false) }
func BenchmarkPage1mHK(b *testing.B)         { benchPage(b, vendor.MarketHK, vendor.TF1m, false) }
func BenchmarkPage1hCrypto(b *testing.B)     { benchPage(b, vendor.MarketCrypto, vendor.TF1h, false) }
func BenchmarkPage1hUS(b *testing.B)         { benchPage(b, vendor.MarketUS, vendor.TF1h, false) }
func BenchmarkPage1dUS(b *testing.B)         { benchPage(b, vendor.MarketUS, vendor.TF1d, false) }
func BenchmarkPage1dHK(b *testing.B)         { benchPage(b, vendor.MarketHK, vendor.TF1d, false) }
func BenchmarkPage1dCN(b *testing.B)         { benchPage(b, vendor.MarketCN, vendor.TF1d, false) }
func BenchmarkPage1dCrypto(b *testing.B)     { benchPage(b, vendor.MarketCrypto, vendor.TF1d, false) }
func BenchmarkPage1hCryptoWarm(b *testing.B) { benchPage(b, vendor.MarketCrypto, vendor.TF1h, true) }
func BenchmarkPage1dUSWarm(b *testing.B)     { benchPage(b, vendor.MarketUS, vendor.TF1d, true) }
func BenchmarkPage1dCryptoWarm(b *testing.B) { benchPage(b, vendor.MarketCrypto, vendor.TF1d, true) }

// BenchmarkLatest2 is the incremental poll: the two newest 1m bars, the last
// one forming.
func BenchmarkLatest2(b *testing.B) {
	g := newGen(b, 1)
	s := spec("BENCH", vendor.MarketCrypto, vendor.TF1m)
	now := utc(2025, 6, 1, 12, 0).Add(17 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		bars, err := g.Last(s, now, 2, now)
		if err != nil || len(bars) != 2 {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnforcer measures one admission against a plan with every
// dimension set, at a steady rate the plan allows.
func BenchmarkEnforcer(b *testing.B) {
	e := NewEnforcer(plan.Plan{
		Spacing:       map[vendor.Endpoint]time.Duration{vendor.EndpointLatest: time.Millisecond},
		GlobalSpacing: time.Microsecond, PerSecond: 1000, PerMinute: 60000, PerDay: 1 << 30, BatchMax: 100,
	})
	at := utc(2026, 1, 1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Millisecond)
		if !e.Admit(vendor.EndpointLatest, 10, at).Allowed {
			b.Fatal("refused")
		}
	}
}

// BenchmarkEnforcerRefusing measures a flood that the plan refuses.
func BenchmarkEnforcerRefusing(b *testing.B) {
	e := NewEnforcer(plan.Plan{PerSecond: 10, PerMinute: 100})
	at := utc(2026, 1, 1, 0, 0)
	b.ReportAllocs()
	for b.Loop() {
		at = at.Add(time.Microsecond)
		e.Admit(vendor.EndpointHistory, 1, at)
	}
}
