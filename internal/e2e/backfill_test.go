package e2e

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// backfillSeries are the S5 series: crypto at two timeframes, an FX pair and
// a US stock (which AllTick cannot page back for).
var backfillSeries = series{
	Symbols:    []string{"BTCUSDT", "EURUSD", "AAPL.US"},
	Timeframes: []vendor.Timeframe{vendor.TF1m, vendor.TF1h},
	Since:      "2d",
}

var aapl1m = vendor.Series{Vendor: vendor.AllTick, Symbol: "AAPL.US", Timeframe: vendor.TF1m}

// requireBackfilled checks every series against the truth and, but for the
// stock's 1m series, that it reached the horizon; and that the stock's older
// 1m range is recorded as unavailable. before is the simulator's time when
// syncd started: syncd's horizon lies between before and now, less since.
func requireBackfilled(ctx context.Context, t *testing.T, s *simulator, d *deployment, cfg series, since time.Duration, before time.Time) {
	t.Helper()
	horizon := s.core().Now().Add(-since)
	for _, ser := range cfg.each() {
		rows := s.requireTruth(ctx, t, d, ser, nil)
		if ser == aapl1m {
			continue
		}
		require.False(t, rows[0].TS.After(horizon), "%s: oldest bar %s is after the horizon %s", ser, rows[0].TS, horizon)
	}
	// The stock's 1m series has one page: the rest down to the horizon is
	// unavailable from the vendor, said once in the ledger.
	rows := d.rows(ctx, aapl1m)
	var from, to time.Time
	require.NoError(t, d.db.QueryRow(ctx, `SELECT range_from, range_to FROM coverage
WHERE symbol = 'AAPL.US' AND timeframe = '1m' AND state = 'unavailable'`).Scan(&from, &to))
	require.True(t, to.Equal(rows[0].TS), "unavailable range ends at %s, the oldest bar is %s", to, rows[0].TS)
	require.False(t, from.Before(before.Add(-since)), "unavailable range starts at %s, before the horizon", from)
	require.False(t, from.After(horizon), "unavailable range starts at %s, after the horizon", from)
}

func historyRequests(s *simulator, ser vendor.Series) []request {
	var out []request
	for _, r := range s.requests(vendor.EndpointHistory) {
		if r.Codes[0] == ser.Symbol && r.Kline == alltick.KlineTypes[ser.Timeframe] {
			out = append(out, r)
		}
	}
	return out
}

// backfillSetup gives a backfill test its deadline, a simulator replaying
// wednesday, and a deployment; before is the simulator's time at the start.
func backfillSetup(t *testing.T, o simOptions) (ctx context.Context, s *simulator, d *deployment, before time.Time) {
	t.Helper()
	// Room for a pass that gives up: eight failed tries of one page wait
	// about two minutes of backoff in all.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	o.Plan, o.AsOf = "premium", wednesday
	s = newSimulator(t, o)
	return ctx, s, newDeployment(t), s.core().Now()
}

func TestBackfillMatchesTruth(t *testing.T) {
	t.Parallel()
	ctx, s, d, before := backfillSetup(t, simOptions{Seed: 11})
	out := d.run(ctx, s, backfillSeries, "backfill")
	requireBackfilled(ctx, t, s, d, backfillSeries, 48*time.Hour, before)
	s.requireNoViolations(t)

	require.Len(t, historyRequests(s, aapl1m), 1, "the stock's one page is fetched once")
	require.Contains(t, out, "AAPL.US")
	require.Contains(t, out, "unavailable")
	rep := d.status(ctx, s)
	found := false
	for _, ser := range rep.Series {
		if ser.Symbol == aapl1m.Symbol && ser.Timeframe == string(aapl1m.Timeframe) {
			require.Len(t, ser.Unavailable, 1)
			require.Equal(t, "unavailable", ser.Unavailable[0].State)
			require.Equal(t, *ser.Oldest, ser.Unavailable[0].To)
			found = true
		}
	}
	require.True(t, found, "syncd status lists %s", aapl1m)
}

func TestBackfillSurvivesKill9(t *testing.T) {
	t.Parallel()
	ctx, s, d, before := backfillSetup(t, simOptions{Seed: 12})

	// Kill at seeded moments: a few history requests into each run, then a
	// random delay, which lands while the page is in flight, being decoded or
	// being committed.
	rng := rand.New(rand.NewPCG(20261118, 12))
	var seen atomic.Int64
	kills, runs := 0, 0
	for kills < 3 {
		killAt := seen.Load() + 1 + rng.Int64N(4)
		delay := time.Duration(rng.IntN(60)) * time.Millisecond
		trigger := make(chan struct{}, 1)
		s.setHook(func(r request) {
			if r.Endpoint == vendor.EndpointHistory && seen.Add(1) == killAt {
				trigger <- struct{}{}
			}
		})
		p := d.start(s, backfillSeries, "backfill")
		runs++
		select {
		case <-trigger:
			moment := time.NewTimer(delay)
			select {
			case <-moment.C:
			case <-ctx.Done():
				moment.Stop()
			}
			p.signal(syscall.SIGKILL)
			err := p.wait(ctx)
			if err == nil {
				t.Logf("run %d finished before its kill", runs)
				break
			}
			require.ErrorContains(t, err, "killed")
			kills++
			continue
		case <-p.done:
			require.NoError(t, p.wait(ctx), "run %d", runs)
		case <-ctx.Done():
			t.Fatal("no kill point reached before the deadline")
		}
		break
	}
	s.setHook(nil)
	require.Equal(t, 3, kills, "every run was killed before it finished")
	d.run(ctx, s, backfillSeries, "backfill")
	runs++
	requireBackfilled(ctx, t, s, d, backfillSeries, 48*time.Hour, before)
	s.requireNoViolations(t)

	// A restart fetches again at most the one deep page per series that was in
	// flight, plus one page at the head.
	for _, ser := range backfillSeries.each() {
		heads, ends := 0, map[int64]int{}
		again := 0
		for _, r := range historyRequests(s, ser) {
			if r.End == 0 {
				heads++
				continue
			}
			ends[r.End]++
			if ends[r.End] > 1 {
				again++
			}
		}
		require.LessOrEqual(t, again, kills, "%s: deep pages fetched again", ser)
		require.LessOrEqual(t, heads, runs, "%s: head pages", ser)
	}
}

func TestBackfillWithFaults(t *testing.T) {
	t.Parallel()
	ctx, s, d, before := backfillSetup(t, simOptions{Seed: 9,
		Faults: "5xx=0.1,malformed=0.08,truncated=0.08,ratelimit=0.05,duplicate=0.25,outoforder=0.25,highlow=0.2"})
	// A bar served with high < low is quarantined and asked for again; when
	// the second answer is spoilt too, the next pass asks once more.
	// A page can fail eight times running at these rates; that pass then
	// gives up on its series with exit status 1 and the next one resumes it,
	// as a user would rerun it.
	for pass := 1; ; pass++ {
		if p := d.start(s, backfillSeries, "backfill"); p.wait(ctx) != nil {
			require.Contains(t, p.stderr.String(), "gave up after repeated failures", "pass %d failed for another reason", pass)
			t.Logf("pass %d gave up on a series", pass)
		} else if d.count(ctx, `SELECT count(*) FROM sync_gaps`) == 0 {
			t.Logf("no gap left after %d passes", pass)
			break
		}
		require.Less(t, pass, 5, "gaps left after %d passes", pass)
	}
	requireBackfilled(ctx, t, s, d, backfillSeries, 48*time.Hour, before)
	st := s.requireNoViolations(t)
	for _, k := range []string{"5xx", "malformed", "truncated", "ratelimit", "duplicate", "outoforder", "highlow"} {
		require.NotZero(t, st.Total.Faults[k], "fault %s was injected (stats %v)", k, st.Total.Faults)
	}
	// The impossible bars are in quarantine, with the reason and the raw values,
	// and their real values in the table (checked above).
	require.NotZero(t, d.count(ctx, `SELECT count(*) FROM quarantine WHERE reason LIKE 'ohlc: high % < low %' AND payload <> ''`))
}
