package quota

import (
	"context"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type grant struct {
	at   time.Time
	ep   vendor.Endpoint
	lane Lane
}

// drive runs one goroutine per (endpoint, lane) acquiring in a loop for d of
// fake time and returns every grant in order.
func drive(t *testing.T, g *Governor, d time.Duration, who map[Lane]vendor.Endpoint) []grant {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var out []grant
	var wg sync.WaitGroup
	for lane, ep := range who {
		wg.Go(func() {
			lctx := WithLane(ctx, lane)
			for g.Acquire(lctx, ep, 1) == nil {
				mu.Lock()
				out = append(out, grant{time.Now(), ep, lane})
				mu.Unlock()
				g.Report(ep, nil)
			}
		})
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// maxIn returns the most grants in any window of length span.
func maxIn(gs []grant, span time.Duration) int {
	best, j := 0, 0
	for i := range gs {
		for gs[i].at.Sub(gs[j].at) >= span {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func minGap(gs []grant, ep vendor.Endpoint) time.Duration {
	var last time.Time
	gap := time.Duration(1 << 62)
	for _, g := range gs {
		if g.ep != ep {
			continue
		}
		if !last.IsZero() {
			gap = min(gap, g.at.Sub(last))
		}
		last = g.at
	}
	return gap
}

func lookup(t *testing.T, name string) plan.Plan {
	t.Helper()
	p, err := plan.Lookup(vendor.AllTick, name)
	require.NoError(t, err)
	return p
}

func TestAllTickBasicMixedLoadStaysInsideEveryDimension(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := lookup(t, "basic")
		g, err := New(Config{Plan: p})
		require.NoError(t, err)
		gs := drive(t, g, 10*time.Minute, map[Lane]vendor.Endpoint{LaneLive: vendor.EndpointLatest, LaneBackfill: vendor.EndpointHistory})
		require.GreaterOrEqual(t, minGap(gs, vendor.EndpointLatest), 3*time.Second)
		require.GreaterOrEqual(t, minGap(gs, vendor.EndpointHistory), time.Second)
		require.LessOrEqual(t, maxIn(gs, time.Second), 1)
		require.LessOrEqual(t, maxIn(gs, time.Minute), 60)
		// At least 95 % of what the plan allows (1/s for 10 minutes) is used.
		require.GreaterOrEqual(t, len(gs), 570)
		live := 0
		for _, g := range gs {
			if g.lane == LaneLive {
				live++
			}
		}
		// Live polls keep their 3 s cadence (one missed slot at most per minute).
		require.GreaterOrEqual(t, live, 190)
	})
}

func TestCustomPlanWindowEdgesAndThroughput(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p, err := plan.ParseCustom("custom:per_second=50,per_minute=2400")
		require.NoError(t, err)
		g, err := New(Config{Plan: p})
		require.NoError(t, err)
		gs := drive(t, g, 3*time.Minute, map[Lane]vendor.Endpoint{LaneBackfill: vendor.EndpointHistory, LaneHeal: vendor.EndpointHistory})
		require.LessOrEqual(t, maxIn(gs, time.Second), 50)
		require.LessOrEqual(t, maxIn(gs, time.Minute), 2400, "no 2x burst across a minute boundary")
		require.GreaterOrEqual(t, len(gs), int(0.95*3*2400))
	})
}

func TestBackfillKeepsMinimumShareOnFreePlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, err := New(Config{Plan: lookup(t, "free")})
		require.NoError(t, err)
		gs := drive(t, g, 10*time.Minute, map[Lane]vendor.Endpoint{LaneLive: vendor.EndpointLatest, LaneBackfill: vendor.EndpointHistory})
		require.GreaterOrEqual(t, minGap(gs, vendor.EndpointLatest), 10*time.Second)
		require.LessOrEqual(t, maxIn(gs, 10*time.Second), 1, "free: one request per 10 s across endpoints")
		back := 0
		for _, g := range gs {
			if g.lane == LaneBackfill {
				back++
			}
		}
		require.GreaterOrEqual(t, len(gs), 57)
		require.GreaterOrEqual(t, back, len(gs)/5-1, "backfill gets its minimum share")
		require.Greater(t, len(gs)-back, back, "live still comes first")
	})
}

func TestRestartDoesNotBurst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// A plan whose per-second cap would allow a burst the per-minute cap forbids.
		p, err := plan.ParseCustom("custom:per_second=10,per_minute=60")
		require.NoError(t, err)
		g, err := New(Config{Plan: p})
		require.NoError(t, err)
		before := drive(t, g, time.Minute, map[Lane]vendor.Endpoint{LaneBackfill: vendor.EndpointHistory})
		// The process restarts at once. Counting both processes, no minute may
		// hold more than 60: the new one must not assume an empty window.
		g2, err := New(Config{Plan: p})
		require.NoError(t, err)
		after := drive(t, g2, time.Minute, map[Lane]vendor.Endpoint{LaneBackfill: vendor.EndpointHistory})
		all := append(append([]grant{}, before...), after...)
		require.LessOrEqual(t, maxIn(all, time.Minute), 60)
		require.LessOrEqual(t, maxIn(all, time.Second), 10)
		require.GreaterOrEqual(t, len(after), 57, "and it still uses the plan")
	})
}

type memUsage struct {
	mu sync.Mutex
	n  map[time.Time]int64
}

func (m *memUsage) ReserveQuota(_ context.Context, _, _ string, day time.Time, n int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n[day] += n
	return m.n[day], nil
}

func (m *memUsage) QuotaReserved(_ context.Context, _, _ string, day time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[day], nil
}

func TestDailyCapPersistsAcrossRestartAndResets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Start at 12:00 UTC+8 on a fake-time day.
		now := time.Now()
		p, err := plan.ParseCustom("custom:per_day=25")
		require.NoError(t, err)
		p.ResetZone = time.FixedZone("UTC+8", 8*3600)
		usage := &memUsage{n: map[time.Time]int64{}}
		g, err := New(Config{Plan: p, Usage: usage, KeyFingerprint: "fp", Block: 4})
		require.NoError(t, err)
		ctx := context.Background()
		for range 10 {
			require.NoError(t, g.Acquire(ctx, vendor.EndpointHistory, 1))
		}
		require.EqualValues(t, 12, usage.n[p.DayStart(now)], "reserved in blocks of 4, never under the count")

		// Restart mid-day: the new process counts the old one's reservations.
		g2, err := New(Config{Plan: p, Usage: usage, KeyFingerprint: "fp", Block: 4})
		require.NoError(t, err)
		granted := 0
		dctx, cancel := context.WithTimeout(ctx, time.Until(p.NextReset(now))-time.Second)
		for g2.Acquire(dctx, vendor.EndpointHistory, 1) == nil {
			granted++
		}
		cancel()
		require.Equal(t, 25-12, granted, "the day's cap holds across the restart")
		require.False(t, g2.Stats().ExhaustedUntil.IsZero())

		// After the reset the next request goes through.
		require.NoError(t, g2.Acquire(ctx, vendor.EndpointHistory, 1))
		require.False(t, time.Now().Before(p.NextReset(now)))
	})
}

func TestPushbackPausesAllLanesAndLogsOncePerEpisode(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		p, err := plan.ParseCustom("custom:unlimited")
		require.NoError(t, err)
		g, err := New(Config{Plan: p, Logger: zap.New(core), BackoffMin: 10 * time.Second, BackoffMax: time.Minute})
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, g.Acquire(ctx, vendor.EndpointHistory, 1))
		limited := &vendor.APIError{Vendor: "alltick", Code: "605", Kind: vendor.ErrRateLimited}
		g.Report(vendor.EndpointHistory, limited)
		g.Report(vendor.EndpointHistory, limited)
		start := time.Now()
		require.NoError(t, g.Acquire(WithLane(ctx, LaneLive), vendor.EndpointLatest, 1))
		require.GreaterOrEqual(t, time.Since(start), 10*time.Second, "every lane waits out the backoff")
		require.Equal(t, 1, logs.FilterMessage("vendor pushed back; pausing every lane").Len())
		g.Report(vendor.EndpointLatest, nil)
		require.Equal(t, 1, logs.FilterMessage("vendor accepts requests again; pushback episode over").Len())
		for range 2 {
			g.Report(vendor.EndpointHistory, limited)
			g.Report(vendor.EndpointHistory, nil)
		}
		require.Equal(t, 1, logs.FilterMessageSnippet("the configured plan may be wrong").Len())
		require.EqualValues(t, 4, g.Stats().Pushbacks)
	})
}

func TestBatchCapIsAnErrorNotAWait(t *testing.T) {
	t.Parallel()
	g, err := New(Config{Plan: lookup(t, "free")})
	require.NoError(t, err)
	err = g.Acquire(context.Background(), vendor.EndpointLatest, 6)
	require.ErrorIs(t, err, vendor.ErrUnsupported)
}

func TestCancelledWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g, err := New(Config{Plan: lookup(t, "free")})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		require.ErrorIs(t, g.Acquire(ctx, vendor.EndpointHistory, 1), context.DeadlineExceeded)
	})
}

// slowUsage takes delay to reserve a block, as a loaded database does.
type slowUsage struct {
	memUsage
	delay time.Duration
}

func (s *slowUsage) ReserveQuota(ctx context.Context, v, fp string, day time.Time, n int64) (int64, error) {
	time.Sleep(s.delay)
	return s.memUsage.ReserveQuota(ctx, v, fp, day, n)
}

func TestSpacingStartsAfterASlowReservation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := lookup(t, "premium") // history: 100 ms apart
		usage := &slowUsage{memUsage: memUsage{n: map[time.Time]int64{}}, delay: 80 * time.Millisecond}
		g, err := New(Config{Plan: p, Usage: usage, KeyFingerprint: "fp", Block: 2})
		require.NoError(t, err)
		ctx := context.Background()
		var sent []time.Time
		for range 6 {
			require.NoError(t, g.Acquire(ctx, vendor.EndpointHistory, 1))
			sent = append(sent, time.Now()) // the request leaves when Acquire returns
			g.Report(vendor.EndpointHistory, nil)
		}
		for i := 1; i < len(sent); i++ {
			require.GreaterOrEqual(t, sent[i].Sub(sent[i-1]), p.MinInterval(vendor.EndpointHistory),
				"request %d left %s after the one before", i, sent[i].Sub(sent[i-1]))
		}
	})
}
