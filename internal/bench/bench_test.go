package bench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestPercentileIsNearestRank(t *testing.T) {
	t.Parallel()
	ds := make([]time.Duration, 200)
	for i := range ds {
		ds[i] = time.Duration(200-i) * time.Millisecond // descending: percentile must sort
	}
	require.Equal(t, 100*time.Millisecond, percentile(ds, 50))
	require.Equal(t, 198*time.Millisecond, percentile(ds, 99))
	require.Equal(t, 200*time.Millisecond, percentile(ds, 100))
	require.Equal(t, time.Millisecond, percentile(ds[199:], 99), "one sample is every percentile")
	require.Zero(t, percentile(nil, 50))
}

func TestHistoryRateTakesTheTightestDimension(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		plan string
		want float64
	}{
		{"basic", 1},
		{"premium", 10},
		{"professional", 20},
		{"free", 1000.0 / 86400}, // the daily cap binds, not the 10 s spacing
		{"custom:per_second=50,per_minute=3000,history=20ms", 50},
		{"custom:per_minute=600", 10},
	} {
		p, err := plan.Lookup(vendor.AllTick, tc.plan)
		require.NoError(t, err)
		require.InDelta(t, tc.want, historyRate(p), 1e-9, tc.plan)
	}
}

func TestBackfillRateWithLiveSubtractsPolling(t *testing.T) {
	t.Parallel()
	basic, err := plan.Lookup(vendor.AllTick, "basic")
	require.NoError(t, err)
	// Latest bars every 3 s take a third of the 60 a minute.
	require.InDelta(t, 1-1.0/3, backfillRateWithLive(basic), 1e-9)
	free, err := plan.Lookup(vendor.AllTick, "free")
	require.NoError(t, err)
	require.Zero(t, backfillRateWithLive(free), "live polling alone exceeds the free plan's daily cap")
}

func TestPlanTimesUseTheNearestMeasurement(t *testing.T) {
	t.Parallel()
	effs := []Efficiency{
		{Plan: "basic", Rate: 1, Made: 57, Allowed: 60, Spaced: true},
		// Windows alone: not how AllTick's plans limit, so not applied to them.
		{Plan: "windows", Rate: 50, Made: 2990, Allowed: 3000},
		{Plan: "custom", Rate: 50, Made: 2910, Allowed: 3000, Spaced: true},
	}
	rows := planTimes(effs, &Pipeline{Bars: 499_000, Requests: 1000, Took: time.Millisecond})
	require.Len(t, rows, 4)
	byPlan := map[string]PlanTime{}
	for _, r := range rows {
		byPlan[r.Plan] = r
	}
	require.Equal(t, "basic", byPlan["basic"].EfficiencyFrom)
	require.Equal(t, "basic", byPlan["free"].EfficiencyFrom)
	require.Equal(t, "custom", byPlan["premium"].EfficiencyFrom)
	require.Equal(t, "custom", byPlan["professional"].EfficiencyFrom)
	// basic: 52,560,000 bars at 1 req/s × 0.95 × 499 bars.
	want := float64(SymbolYears*barsPerYear) / (0.95 * 499)
	require.InDelta(t, want, byPlan["basic"].Took.Seconds(), 1)
	require.False(t, byPlan["basic"].PipelineBound)

	slow := &Pipeline{Bars: 1000, Requests: 2, Took: time.Second} // 1,000 bars/s: slower than premium's requests
	rows = planTimes(effs, slow)
	for _, r := range rows {
		if r.Plan == "premium" {
			require.True(t, r.PipelineBound)
			require.InDelta(t, float64(SymbolYears*barsPerYear)/1000, r.Took.Seconds(), 1)
		}
	}
}

func TestProcParsing(t *testing.T) {
	t.Parallel()
	status := []byte("Name:\tsyncd\nVmHWM:\t   40960 kB\nVmRSS:\t   30720 kB\n")
	require.Equal(t, int64(40960), procKiB(status, "VmHWM"))
	require.Equal(t, int64(30720), procKiB(status, "VmRSS"))
	require.Equal(t, int64(-1), procKiB(status, "VmSwap"))
	cpu := []byte("processor\t: 0\nmodel name\t: AMD EPYC 9004\n")
	require.Equal(t, "AMD EPYC 9004", procField(cpu, "model name"))
	m, ok := ReadMemory("self")
	require.True(t, ok)
	require.Positive(t, m.RSS)
	require.GreaterOrEqual(t, m.HWM, m.RSS)
}

func TestMarkdownReportsEveryFigureAndMisses(t *testing.T) {
	t.Parallel()
	rep := &Report{
		Started: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), Took: 9 * time.Minute, Quick: true, Commit: "abc1234",
		Machine: Machine{CPUs: 2, CPUModel: "AMD EPYC", MemoryMiB: 24105, Load: "3.1"}, Postgres: "15.18",
		Efficiency: []Efficiency{{Plan: "basic", Rate: 1, For: time.Minute, Made: 57, Allowed: 60, GovernorAlone: 57}},
		Pipeline: &Pipeline{Series: 50, Bars: 5_000_000, Took: 50 * time.Second, PeakRSS: 40 * 1024, AtMark: 38 * 1024,
			Mark: 1_000_000, Copy: CopyRef{Method: "psql \\copy", Rows: 5_000_000, Took: 20 * time.Second}},
		Poll: &Poll{Groups: 500, Ticks: 200, Requests: 1, Bars: 1000, P50: 12 * time.Millisecond, P99: 30 * time.Millisecond},
	}
	rep.Plans = planTimes(rep.Efficiency, rep.Pipeline)
	var b bytes.Buffer
	require.NoError(t, rep.Markdown(&b, "syncbench -quick"))
	out := b.String()
	for _, want := range []string{
		"Quick run", "abc1234", "2 CPUs, AMD EPYC, 24,105 MiB", "PostgreSQL 15.18",
		"| plan efficiency, basic | 0.950, 0 violations | ≥ 0.97, 0 violations | **missed** (2.1 % short) |",
		"| pipeline ÷ COPY | 0.40 | ≥ 0.5 | **missed** (20.0 % short) |",
		"| peak RSS during backfill | 40.0 MiB | ≤ 100 MiB | met |",
		"| poll tick p99 (500 groups) | 30.0 ms | < 25.0 ms | **missed** (5.0 ms over) |",
		"| syncd backfill | 5,000,000 | 50s | 100,000 |",
		"| after 1,000,000 bars served | 38.0 MiB |",
		"Why targets were missed", "SYNCD_QUOTA_MARGIN",
		"| basic | 1 |",
	} {
		require.Contains(t, out, want)
	}
}

func TestSmallerMarginRunIsReportedBesideTheDefault(t *testing.T) {
	t.Parallel()
	const fast = "custom:per_second=50"
	effs := []Efficiency{
		{Plan: "basic", Rate: 1, For: time.Minute, Made: 59, Allowed: 60, GovernorAlone: 59, Spaced: true},
		{Plan: fast, Rate: 50, For: time.Minute, Made: 1900, Allowed: 3000, GovernorAlone: 1920, Spaced: true},
		{Plan: fast, Margin: time.Millisecond, Rate: 50, For: time.Minute, Made: 2940, Allowed: 3000, GovernorAlone: 2950, Spaced: true},
	}
	rep := &Report{Efficiency: effs, Plans: planTimes(effs, nil)}
	var b bytes.Buffer
	require.NoError(t, rep.Markdown(&b, "syncbench"))
	out := b.String()
	require.Contains(t, out, "| plan efficiency, custom:per_second=50 | 0.633, 0 violations |")
	require.Contains(t, out, "| plan efficiency, custom:per_second=50, margin 1ms | 0.980, 0 violations | ≥ 0.97, 0 violations | met |")
	require.Contains(t, out, "With a margin of 1ms the same plan reached 0.980 (governor alone 0.983) with 0 violation(s).")
	require.NotContains(t, out, "cannot simply be lowered")

	effs[2].Violations, effs[2].Made = 8, 2200
	rep = &Report{Efficiency: effs}
	b.Reset()
	require.NoError(t, rep.Markdown(&b, "syncbench"))
	out = b.String()
	require.Contains(t, out, "reached 0.733 (governor alone 0.983) with 8 violation(s). Even on loopback")
	require.Contains(t, out, "spacing + margin + that delay")
	require.InDelta(t, 20.0/30, effs[1].marginCeiling(), 1e-9, "20 ms spacing, default 10 ms margin")
	require.InDelta(t, 20.0/21, effs[2].marginCeiling(), 1e-9)
	require.Contains(t, out, "which alone caps this plan at 0.667")
	for _, r := range rep.Plans {
		if r.Plan == "premium" {
			require.InDelta(t, 0.633, r.Efficiency, 0.001, "plan times use the default margin's efficiency")
		}
	}
}

// TestBesideRunsAreNotTargets: the spaced plan's runs are reported with
// their causes in their own section, not as missed targets.
func TestBesideRunsAreNotTargets(t *testing.T) {
	t.Parallel()
	effs := []Efficiency{
		{Plan: "basic", Rate: 1, For: time.Minute, Made: 59, Allowed: 60, GovernorAlone: 59, Spaced: true},
		{Plan: DefaultFastPlan, Rate: 50, For: time.Minute, Made: 2970, Allowed: 3000, GovernorAlone: 2985},
		{Plan: DefaultSpacedPlan, Rate: 50, For: time.Minute, Made: 1900, Allowed: 3000, GovernorAlone: 1920, Spaced: true, Beside: true},
		{Plan: DefaultSpacedPlan, Margin: time.Millisecond, Rate: 50, For: time.Minute, Made: 2200, Allowed: 3000,
			GovernorAlone: 2950, Violations: 8, Spaced: true, Beside: true},
	}
	rep := &Report{Efficiency: effs, Plans: planTimes(effs, nil)}
	var b bytes.Buffer
	require.NoError(t, rep.Markdown(&b, "syncbench"))
	out := b.String()
	require.Contains(t, out, "| plan efficiency, "+DefaultFastPlan+" | 0.990, 0 violations | ≥ 0.97, 0 violations | met |")
	require.Contains(t, out, "| plan efficiency, "+DefaultSpacedPlan+" | 0.633, 0 violations | none: measured beside the targets | see Plan efficiency |")
	require.NotContains(t, out, "Why targets were missed")
	require.Contains(t, out, "### Beside the targets: requests spaced apart")
	require.Contains(t, out, "- `"+DefaultSpacedPlan+"` reached 0.633 with 0 violation(s). A second governor")
	require.Contains(t, out, "With a margin of 1ms the same plan reached 0.733 (governor alone 0.983) with 8 violation(s).")
	require.NotContains(t, out, "- `"+DefaultSpacedPlan+", margin 1ms`", "the margin run is told of with the default one")
	for _, r := range rep.Plans {
		if r.Plan == "professional" {
			require.Equal(t, DefaultSpacedPlan, r.EfficiencyFrom, "AllTick plans space requests")
		}
	}
}

func TestRedactHidesThePassword(t *testing.T) {
	t.Parallel()
	err := redact(fakeError("dial postgres://u:s3cret@h/db failed"), "postgres://u:s3cret@h/db")
	require.NotContains(t, err.Error(), "s3cret")
}

type fakeError string

func (e fakeError) Error() string { return string(e) }

// BenchmarkGovernorAcquire measures the governor's bookkeeping for one grant
// when the plan does not make the caller wait: the cost every request pays.
func BenchmarkGovernorAcquire(b *testing.B) {
	p, err := plan.Lookup(vendor.AllTick, "custom:per_day=1000000000")
	require.NoError(b, err)
	g, err := quota.New(quota.Config{Plan: p})
	require.NoError(b, err)
	ctx := context.Background()
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sent, err := g.Acquire(ctx, vendor.EndpointHistory, 1)
			if err != nil {
				b.Fatal(err)
			}
			sent()
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sent, err := g.Acquire(ctx, vendor.EndpointHistory, 1)
				if err != nil {
					b.Error(err)
					return
				}
				sent()
			}
		})
	})
}

// BenchmarkPollTick is the live poll tick end to end: 500 crypto series in
// one latest-bars request to the simulator, decoded, validated and upserted
// into PostgreSQL.
func BenchmarkPollTick(b *testing.B) {
	ctx := context.Background()
	db, err := openDB(ctx, pgtest.URL(b))
	require.NoError(b, err)
	defer db.close()
	rig, err := newPollRig(ctx, db, 1, 500)
	require.NoError(b, err)
	defer rig.stop()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rig.poller.Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
