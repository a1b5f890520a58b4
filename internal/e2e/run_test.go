package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// synced reports whether every series has reached its horizon (or the
// vendor's end of history) and no gap is open.
func synced(ctx context.Context, s *simulator, d *deployment, cfg series, since time.Duration) (bool, string) {
	horizon := s.core().Now().Add(-since)
	for _, ser := range cfg.each() {
		var oldest *time.Time
		var exhausted bool
		err := d.db.QueryRow(ctx, `SELECT oldest_ts, history_exhausted FROM sync_state WHERE vendor = $1 AND symbol = $2 AND timeframe = $3`,
			ser.Vendor, ser.Symbol, string(ser.Timeframe)).Scan(&oldest, &exhausted)
		if err != nil {
			return false, fmt.Sprintf("%s: %v", ser, err)
		}
		if !exhausted && (oldest == nil || oldest.After(horizon)) {
			return false, fmt.Sprintf("%s: oldest %v, horizon %s", ser, oldest, horizon)
		}
	}
	if n := d.count(ctx, `SELECT count(*) FROM sync_gaps`); n > 0 {
		return false, fmt.Sprintf("%d gaps open", n)
	}
	return true, ""
}

// polls returns the latest-bars requests that asked for symbol.
func polls(s *simulator, symbol string) []request {
	var out []request
	for _, r := range s.requests(vendor.EndpointLatest) {
		if slices.Contains(r.Codes, symbol) {
			out = append(out, r)
		}
	}
	return out
}

// lastSightings are the last two requests that returned symbol's forming
// bar, newest first: polls, and history requests for the latest page (a heal
// may fetch one after the last poll). The forming head must be the bar as
// one of them saw it (a stop may cut the newest one's write short).
func lastSightings(s *simulator, ser vendor.Series) []request {
	p := polls(s, ser.Symbol)
	for _, r := range s.requests(vendor.EndpointHistory) {
		if r.End == 0 && r.Kline == alltick.KlineTypes[ser.Timeframe] && slices.Contains(r.Codes, ser.Symbol) {
			p = append(p, r)
		}
	}
	slices.SortFunc(p, func(a, b request) int { return b.At.Compare(a.At) })
	return p[:min(2, len(p))]
}

// polledSince waits until symbol has been polled n times at or after at
// (simulator time).
func polledSince(s *simulator, symbol string, at time.Time, n int) func(context.Context) (bool, string) {
	return func(context.Context) (bool, string) {
		got := 0
		for _, r := range polls(s, symbol) {
			if !r.At.Before(at) {
				got++
			}
		}
		return got >= n, fmt.Sprintf("%s polled %d times since %s, want %d (simulator at %s)", symbol, got, at, n, s.core().Now())
	}
}

func TestRunKeepsTableEqualToTruth(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// Premium's numbers, but two series per request: the three non-stock
	// series need two requests and the stock one a third, so each series is
	// refreshed every three poll slots.
	const interval = time.Second
	s := newSimulator(t, simOptions{Seed: 31, Plan: "custom:per_second=10,per_minute=600,history=100ms,latest=1s,batch=2",
		AsOf: wednesday.Truncate(time.Minute).Add(50 * time.Second)})
	d := newDeployment(t)
	cfg := series{Symbols: []string{"BTCUSDT", "ETHUSDT", "EURUSD", "AAPL.US"}, Timeframes: []vendor.Timeframe{vendor.TF1m}, Since: "3h"}
	p := d.start(s, cfg, "run")

	// Run until history is in and a minute has closed under the poller's eyes.
	closed := wednesday.Truncate(time.Minute).Add(time.Minute + 6*time.Second)
	eventually(ctx, t, "backfill done", func(ctx context.Context) (bool, string) { return synced(ctx, s, d, cfg, 3*time.Hour) })
	for _, sym := range cfg.Symbols {
		eventually(ctx, t, "polled after a close", polledSince(s, sym, closed, 2))
	}
	stopAt := s.core().Now()
	p.stop(ctx, t)

	for _, ser := range cfg.each() {
		s.requireTruth(ctx, t, d, ser, s.formingAsOf(lastSightings(s, ser)))
	}
	s.requireNoViolations(t)

	// The batch endpoint was used in at least 90 % of its slots: the plan's
	// interval plus the governor's margin.
	all := s.requests(vendor.EndpointLatest)
	require.NotEmpty(t, all)
	slots := int(stopAt.Sub(all[0].At)/(interval+quotaMargin)) + 1
	require.GreaterOrEqual(t, float64(len(all)), 0.9*float64(slots), "%d latest requests in %d slots", len(all), slots)

	// Every series was refreshed within the rotation period the packing gives
	// (three requests), allowing one slot for the governor's safety margin.
	period := 3 * interval
	for _, sym := range cfg.Symbols {
		ps := polls(s, sym)
		for i := 1; i < len(ps); i++ {
			require.LessOrEqual(t, ps[i].At.Sub(ps[i-1].At), period+interval, "%s: polls at %s and %s", sym, ps[i-1].At, ps[i].At)
		}
	}
}

func TestStopHealedAfterRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		first string
		stop  time.Duration
	}{
		{"BackfillThenTwoHourStop", "backfill", 2 * time.Hour},
		{"RunThenOneHourStop", "run", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cfg := series{Symbols: []string{"BTCUSDT", "EURUSD"}, Timeframes: []vendor.Timeframe{vendor.TF1m, vendor.TF1h}, Since: "6h"}
			d := newDeployment(t)

			// Before the stop: the same market (seed), tc.stop earlier.
			early := newSimulator(t, simOptions{Seed: 21, Plan: "premium", AsOf: wednesday.Add(-tc.stop)})
			if tc.first == "backfill" {
				d.run(ctx, early, cfg, "backfill")
			} else {
				p := d.start(early, cfg, "run")
				eventually(ctx, t, "backfill done", func(ctx context.Context) (bool, string) { return synced(ctx, early, d, cfg, 6*time.Hour) })
				eventually(ctx, t, "polling", polledSince(early, "BTCUSDT", early.core().Now(), 2))
				p.stop(ctx, t)
			}
			early.requireNoViolations(t)
			var newest time.Time
			require.NoError(t, d.db.QueryRow(ctx, `SELECT max(ts) FROM candles`).Scan(&newest))
			require.Less(t, newest, wednesday.Add(-tc.stop+time.Minute), "the stop leaves a gap at the head")

			// After it: syncd run heals the head through history pages.
			late := newSimulator(t, simOptions{Seed: 21, Plan: "premium", AsOf: wednesday})
			p := d.start(late, cfg, "run")
			eventually(ctx, t, "head healed", func(ctx context.Context) (bool, string) {
				for _, ser := range cfg.each() {
					var n int
					var head time.Time
					require.NoError(t, d.db.QueryRow(ctx, `SELECT count(*), max(ts) FROM candles WHERE symbol = $1 AND timeframe = $2 AND ts > $3`,
						ser.Symbol, string(ser.Timeframe), newest.Add(-2*time.Hour)).Scan(&n, &head))
					if head.Before(late.core().Now().Truncate(ser.Timeframe.Duration()).Add(-ser.Timeframe.Duration())) {
						return false, fmt.Sprintf("%s: head %s not polled yet", ser, head)
					}
					want, err := late.core().Truth(spec(ser), newest.Add(-2*time.Hour+time.Nanosecond), head)
					require.NoError(t, err)
					if n < len(want)+1 {
						return false, fmt.Sprintf("%s: %d bars up to %s, want %d", ser, n, head, len(want)+1)
					}
				}
				return synced(ctx, late, d, cfg, 6*time.Hour)
			})
			eventually(ctx, t, "polling", polledSince(late, "BTCUSDT", late.core().Now(), 2))
			p.stop(ctx, t)
			for _, ser := range cfg.each() {
				s := late
				s.requireTruth(ctx, t, d, ser, s.formingAsOf(lastSightings(s, ser)))
			}
			late.requireNoViolations(t)
			require.NotEmpty(t, late.requests(vendor.EndpointHistory), "the head was healed through history pages")
		})
	}
}

func TestClosedMarketNotPolled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// Monday 09:29:35 in New York: the market opens 25 s into the run, after a
	// weekend and a night that must not count as gaps.
	open := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	s := newSimulator(t, simOptions{Seed: 41, Plan: "premium", AsOf: open.Add(-25 * time.Second)})
	d := newDeployment(t)
	cfg := series{Symbols: []string{"AAPL.US", "BTCUSDT"}, Timeframes: []vendor.Timeframe{vendor.TF1m}, Since: "4d"}
	p := d.start(s, cfg, "run")
	eventually(ctx, t, "polled after the open", polledSince(s, "AAPL.US", open, 3))
	p.stop(ctx, t)

	var closed, opened int
	for _, r := range polls(s, "AAPL.US") {
		if r.At.Before(open) {
			closed++
		} else {
			opened++
		}
	}
	require.Equal(t, 1, closed, "polled once while closed, to settle Friday's last bar")
	var btcClosed int
	for _, r := range polls(s, "BTCUSDT") {
		if r.At.Before(open) {
			btcClosed++
		}
	}
	require.GreaterOrEqual(t, btcClosed, 5, "crypto kept being polled meanwhile")

	aapl := vendor.Series{Vendor: vendor.AllTick, Symbol: "AAPL.US", Timeframe: vendor.TF1m}
	rows := s.requireTruth(ctx, t, d, aapl, s.formingAsOf(lastSightings(s, aapl)))
	require.True(t, rows[len(rows)-1].TS.After(open.Add(-time.Second)), "Monday's first bars are stored")
	require.Zero(t, d.count(ctx, `SELECT count(*) FROM sync_gaps`), "no gap opened over the weekend or night")
	require.Zero(t, d.count(ctx, `SELECT count(*) FROM coverage WHERE state = 'failed'`))
	require.NotContains(t, p.stderr.String(), "head gap handed to backfill")
	btc := vendor.Series{Vendor: vendor.AllTick, Symbol: "BTCUSDT", Timeframe: vendor.TF1m}
	s.requireTruth(ctx, t, d, btc, s.formingAsOf(lastSightings(s, btc)))
	s.requireNoViolations(t)
}
