package backfill

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/syncd/syncd/internal/barcheck"
	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	testNow = time.Date(2026, 11, 20, 12, 0, 30, 0, time.UTC)
	series  = vendor.Series{Vendor: "fake", Symbol: "BTCUSDT", Timeframe: vendor.TF1m}
)

type bundle struct {
	clk    *clock.Fake
	vendor *fakeVendor
	store  *memStore
	engine *Engine
}

func setup(t *testing.T, horizon time.Duration, mod func(*fakeVendor, *Config)) *bundle {
	t.Helper()
	clk := clock.NewFake(testNow)
	fv := &fakeVendor{now: clk.Now, genesis: testNow.Add(-100 * 24 * time.Hour).Truncate(time.Minute),
		pageSize: 500, bound: vendor.EndInclusive, pagesBack: true, market: vendor.MarketCrypto}
	st := newMemStore()
	cfg := Config{Client: fv, Store: st, Clock: clk, Horizon: testNow.Add(-horizon).Truncate(time.Minute),
		RetryMin: time.Second, RetryMax: 4 * time.Second}
	if mod != nil {
		mod(fv, &cfg)
	}
	e, err := New(cfg)
	require.NoError(t, err)
	return &bundle{clk: clk, vendor: fv, store: st, engine: e}
}

func TestDeepBackfill(t *testing.T) {
	t.Parallel()
	for name, bound := range map[string]vendor.EndBound{"Inclusive": vendor.EndInclusive, "Exclusive": vendor.EndExclusive, "Unknown": vendor.EndUnknown} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 2000*time.Minute, func(f *fakeVendor, _ *Config) { f.bound = bound })
			if bound == vendor.EndUnknown {
				b.vendor.bound = vendor.EndInclusive // the vendor is inclusive; the engine does not know
			}
			r := b.engine.Sync(context.Background(), series)
			require.NoError(t, r.Err)
			head := testNow.Truncate(time.Minute)
			b.store.checkExact(t, b.engine.cfg.Horizon, head, nil)
			require.LessOrEqual(t, r.Requests, 2001/499+2)
			require.False(t, b.store.bars[head].Final, "the newest bar is still forming")
			require.True(t, b.store.bars[head.Add(-time.Minute)].Final)

			// Nothing left to do: a second run makes no request.
			before := b.vendor.requests
			r = b.engine.Sync(context.Background(), series)
			require.NoError(t, r.Err)
			require.Equal(t, before, b.vendor.requests)
		})
	}
}

func TestEndOfVendorHistoryIsRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, 2000*time.Minute, func(f *fakeVendor, _ *Config) { f.genesis = testNow.Add(-700 * time.Minute).Truncate(time.Minute) })
	r := b.engine.Sync(context.Background(), series)
	require.NoError(t, r.Err)
	b.store.checkExact(t, b.vendor.genesis, testNow.Truncate(time.Minute), nil)
	require.True(t, b.store.st.Exhausted)
	require.Len(t, r.Unavailable, 1)
	require.Equal(t, CoverageEmpty, r.Unavailable[0].State)
	require.Equal(t, b.engine.cfg.Horizon, r.Unavailable[0].From)
	require.Equal(t, b.vendor.genesis, r.Unavailable[0].To)

	before := b.vendor.requests
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	require.Equal(t, before, b.vendor.requests, "an exhausted history is never walked again")
}

func TestDepthCapIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, 3000*time.Minute, func(f *fakeVendor, _ *Config) { f.depth = 1000 })
	r := b.engine.Sync(context.Background(), series)
	require.NoError(t, r.Err)
	require.Len(t, b.store.bars, 1000)
	require.Len(t, r.Unavailable, 1)
	require.Equal(t, CoverageUnavailable, r.Unavailable[0].State)
}

func TestNoPagingBackStoresOnePage(t *testing.T) {
	t.Parallel()
	b := setup(t, 3000*time.Minute, func(f *fakeVendor, _ *Config) { f.pagesBack = false; f.market = vendor.MarketUS })
	r := b.engine.Sync(context.Background(), series)
	require.NoError(t, r.Err)
	require.Equal(t, 1, b.vendor.requests)
	require.Len(t, b.store.bars, 500)
	require.Len(t, r.Unavailable, 1)
	require.Equal(t, CoverageUnavailable, r.Unavailable[0].State)
	require.Contains(t, r.Unavailable[0].Error, "cannot page back")
	require.True(t, b.store.st.Exhausted)

	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	require.Equal(t, 1, b.vendor.requests)
}

func TestNoPagingBackHealsARecentGapFromTheLatestPage(t *testing.T) {
	t.Parallel()
	b := setup(t, 3000*time.Minute, func(f *fakeVendor, _ *Config) { f.pagesBack = false })
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	head := testNow.Truncate(time.Minute)
	// Ten minutes pass unseen; the poller then reports the gap between the
	// stored head and the bar it just got.
	b.clk.Advance(10 * time.Minute)
	to := b.clk.Now().Truncate(time.Minute).Add(-time.Minute)
	b.store.recordGap(head, to)
	r := b.engine.Heal(context.Background(), series, head, to)
	require.NoError(t, r.Err)
	require.Empty(t, r.Unavailable, "the latest page covers a ten-minute gap")
	require.Empty(t, b.store.st.Gaps)
	for m := head; !m.After(to); m = m.Add(time.Minute) {
		_, ok := b.store.bars[m]
		require.True(t, ok, "bar %s healed", m)
	}
	require.True(t, b.vendor.ends[len(b.vendor.ends)-1].IsZero(), "asked for the latest page, not one it cannot serve")
}

func TestNoPagingBackOldGapIsUnavailableOnlyAcrossItself(t *testing.T) {
	t.Parallel()
	b := setup(t, 3000*time.Minute, func(f *fakeVendor, _ *Config) { f.pagesBack = false })
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	head := testNow.Truncate(time.Minute)
	from, to := head.Add(-2000*time.Minute), head.Add(-1500*time.Minute)
	before := b.vendor.requests
	b.store.recordGap(from, to)
	r := b.engine.Heal(context.Background(), series, from, to)
	require.NoError(t, r.Err)
	require.Equal(t, before+1, b.vendor.requests, "one look at the latest page")
	require.Len(t, r.Unavailable, 1)
	require.Equal(t, from, r.Unavailable[0].From)
	require.Equal(t, to, r.Unavailable[0].To, "not stretched to the page's oldest bar")
	require.Empty(t, b.store.st.Gaps)
}

func TestHeadGapHealedAfterStopAndCrash(t *testing.T) {
	t.Parallel()
	b := setup(t, 600*time.Minute, nil)
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)

	// Twenty hours of downtime, then a crash in the middle of healing.
	b.clk.Advance(20 * time.Hour)
	b.store.failAt = b.store.commits + 2
	r := b.engine.Sync(context.Background(), series)
	require.Error(t, r.Err)
	require.Len(t, b.store.st.Gaps, 1, "the open gap is recorded with the first healed page")

	r = b.engine.Sync(context.Background(), series)
	require.NoError(t, r.Err)
	require.Empty(t, b.store.st.Gaps)
	b.store.checkExact(t, b.engine.cfg.Horizon, b.clk.Now().Truncate(time.Minute), nil)
}

func TestCrashMidDeepRefetchesAtMostOnePage(t *testing.T) {
	t.Parallel()
	clean := setup(t, 3000*time.Minute, nil)
	require.NoError(t, clean.engine.Sync(context.Background(), series).Err)

	b := setup(t, 3000*time.Minute, nil)
	b.store.failAt = 3
	require.Error(t, b.engine.Sync(context.Background(), series).Err)
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
	require.LessOrEqual(t, b.vendor.requests, clean.vendor.requests+1)
}

func TestBadBarQuarantinedRestStored(t *testing.T) {
	t.Parallel()
	badAt := testNow.Truncate(time.Minute).Add(-700 * time.Minute)
	b := setup(t, 1000*time.Minute, func(f *fakeVendor, _ *Config) { f.badAt = map[time.Time]bool{badAt: true} })
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), b.vendor.badAt)
	// Received once per try: the page is fetched again spoiledRefetches times,
	// and the gap left for the bar is asked for once more in the same pass,
	// with its own refetches; still bad, the gap stays for the next pass.
	require.Len(t, b.store.quarantine, 2*(1+spoiledRefetches))
	for _, q := range b.store.quarantine {
		require.Contains(t, q.Reason, barcheck.ReasonOHLC)
		require.Equal(t, badAt, q.Time)
	}
	st, err := b.store.SeriesState(context.Background(), series)
	require.NoError(t, err)
	require.Equal(t, []Gap{{From: badAt.Add(-time.Minute), To: badAt.Add(time.Minute)}}, st.Gaps)
}

func TestBadBarRefetched(t *testing.T) {
	t.Parallel()
	badAt := testNow.Truncate(time.Minute).Add(-700 * time.Minute)
	b := setup(t, 1000*time.Minute, func(f *fakeVendor, _ *Config) {
		f.badAt, f.badOnce = map[time.Time]bool{badAt: true}, true
	})
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	// The vendor garbled one answer: the bar is in quarantine once and, fetched
	// again, in the table.
	b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
	require.Len(t, b.store.quarantine, 1)
	st, err := b.store.SeriesState(context.Background(), series)
	require.NoError(t, err)
	require.Empty(t, st.Gaps)
}

func TestBeyondRangeIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, 3000*time.Minute, func(f *fakeVendor, _ *Config) {
		f.fail = func(n int, _ time.Time) error {
			if n >= 3 {
				return &vendor.APIError{Vendor: "fake", Code: "513", Kind: vendor.ErrBeyondRange}
			}
			return nil
		}
	})
	r := b.engine.Sync(context.Background(), series)
	require.NoError(t, r.Err)
	require.Len(t, r.Unavailable, 1)
	require.Equal(t, CoverageUnavailable, r.Unavailable[0].State)
	require.True(t, b.store.st.Exhausted)
	require.Equal(t, 3, b.vendor.requests)
}

func TestTransientFailuresRetriedThroughBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, 1200*time.Minute, func(f *fakeVendor, _ *Config) {
			f.fail = func(n int, _ time.Time) error {
				if n == 2 || n == 3 {
					return &vendor.APIError{Vendor: "fake", HTTPStatus: 503, Kind: vendor.ErrTransient}
				}
				return nil
			}
		})
		r := b.engine.Sync(context.Background(), series)
		require.NoError(t, r.Err)
		b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
		// The failed page was asked for again with the same end: never skipped.
		require.Equal(t, b.vendor.ends[1], b.vendor.ends[2])
		require.Equal(t, b.vendor.ends[1], b.vendor.ends[3])
	})
}

func TestGiveUpIsPartialFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, 1200*time.Minute, func(f *fakeVendor, c *Config) {
			c.MaxAttempts = 3
			f.fail = func(_ int, end time.Time) error {
				if !end.IsZero() {
					return &vendor.APIError{Vendor: "fake", Kind: vendor.ErrProtocol}
				}
				return nil
			}
		})
		other := vendor.Series{Vendor: "fake", Symbol: "ETHUSDT", Timeframe: vendor.TF1m}
		_, err := b.engine.Run(context.Background(), []vendor.Series{series, other})
		var pe *PartialError
		require.ErrorAs(t, err, &pe)
		require.Len(t, pe.Failed, 2)
		require.ErrorIs(t, err, ErrGaveUp)
		require.ErrorIs(t, err, vendor.ErrProtocol)
		require.Contains(t, err.Error(), "fake:BTCUSDT:1m")
		var failed int
		for _, c := range b.store.coverage {
			if c.State == CoverageFailed {
				failed++
			}
		}
		require.Equal(t, 2, failed)
	})
}

func TestAuthFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, 100*time.Minute, func(f *fakeVendor, _ *Config) {
		f.fail = func(int, time.Time) error {
			return &vendor.APIError{Vendor: "fake", HTTPStatus: 401, Kind: vendor.ErrAuth}
		}
	})
	r := b.engine.Sync(context.Background(), series)
	require.ErrorIs(t, r.Err, vendor.ErrAuth)
	require.Equal(t, 1, b.vendor.requests)
	require.NotErrorIs(t, r.Err, ErrGaveUp)
}

func TestRunGroupsFastPathPagesOfManySeries(t *testing.T) {
	t.Parallel()
	// Pages group only when they arrive while a transaction runs; the bubble
	// makes that independent of the machine's load (it once failed under
	// load with one page per transaction).
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, 5000*time.Minute, nil)
		gs := &groupStore{per: map[vendor.Series]*memStore{}, delay: 5 * time.Millisecond}
		e, err := New(Config{Client: b.vendor, Store: gs, Clock: b.clk, Horizon: b.engine.cfg.Horizon})
		require.NoError(t, err)
		series := make([]vendor.Series, 0, 4)
		for _, sym := range []string{"A", "B", "C", "D"} {
			series = append(series, vendor.Series{Vendor: "fake", Symbol: sym, Timeframe: vendor.TF1m})
		}
		_, err = e.Run(context.Background(), series)
		require.NoError(t, err)
		require.Positive(t, gs.grouped, "deep pages went through the group commit")
		require.Less(t, gs.groups, gs.grouped, "some transactions carried more than one page")
		for _, s := range series {
			gs.of(s).checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
		}
	})
}

func TestBarSpoiledInTransitFetchedAgain(t *testing.T) {
	t.Parallel()
	badAt := testNow.Truncate(time.Minute).Add(-700 * time.Minute)
	b := setup(t, 1000*time.Minute, func(f *fakeVendor, _ *Config) {
		f.badAt = map[time.Time]bool{badAt: true}
		f.fail = func(n int, _ time.Time) error {
			if n == 3 { // the refetch of the page holding badAt: served right this time
				f.badAt = nil
			}
			return nil
		}
	})
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
	require.Len(t, b.store.quarantine, 1, "the spoiled bar as received")
	require.Equal(t, badAt, b.store.quarantine[0].Time)
	require.Equal(t, b.vendor.ends[1], b.vendor.ends[2], "the spoiled page was asked for again with the same end")
}

// setupSpoiledThenFailing: MaxAttempts 2, the page 700 minutes back spoiled
// (one bar high < low) until the last of the requests numbered failAt, each
// of which fails with a 503; the try after it is served right.
func setupSpoiledThenFailing(t *testing.T, failAt ...int) *bundle {
	t.Helper()
	badAt := testNow.Truncate(time.Minute).Add(-700 * time.Minute)
	return setup(t, 1000*time.Minute, func(f *fakeVendor, c *Config) {
		c.MaxAttempts = 2
		f.badAt = map[time.Time]bool{badAt: true}
		f.fail = func(n int, _ time.Time) error {
			if !slices.Contains(failAt, n) {
				return nil
			}
			if n == failAt[len(failAt)-1] {
				f.badAt = nil
			}
			return &vendor.APIError{Vendor: "fake", HTTPStatus: 503, Kind: vendor.ErrTransient}
		}
	})
}

func TestRefetchOfSpoiledPageIsNotAFailedTry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Request 2 is the page holding the spoiled bar; 3 and 4 refetch it.
		b := setupSpoiledThenFailing(t, 4)
		r := b.engine.Sync(context.Background(), series)
		require.NoError(t, r.Err, "two refetches and one failure are within two failed tries")
		require.Len(t, b.store.quarantine, 2, "the page and its first refetch were spoiled")
	})
}

// TestFailedTriesCountInARow: an answer between two failures, even a spoiled
// one, shows the vendor up; the failures do not add up to a give-up.
func TestFailedTriesCountInARow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// Request 2 fails, 3 is a spoiled answer, 4 fails again.
		b := setupSpoiledThenFailing(t, 2, 4)
		r := b.engine.Sync(context.Background(), series)
		require.NoError(t, r.Err, "two failures with an answer between them are not two failed tries in a row")
		require.Len(t, b.store.quarantine, 1, "the spoiled answer")
		b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
	})
}

func TestHealOfAGapNoLongerRecordedAsksNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, 600*time.Minute, nil)
	require.NoError(t, b.engine.Sync(context.Background(), series).Err)
	head := testNow.Truncate(time.Minute)
	from, to := head.Add(-30*time.Minute), head.Add(-10*time.Minute)
	before := b.vendor.requests
	// A sync pass healed the gap between the poller's report and the heal.
	r := b.engine.Heal(context.Background(), series, from, to)
	require.NoError(t, r.Err)
	require.Equal(t, before, b.vendor.requests)

	// Still recorded, in part: that part is healed.
	b.store.mu.Lock()
	for ts := from.Add(time.Minute); ts.Before(to); ts = ts.Add(time.Minute) {
		delete(b.store.bars, ts)
	}
	b.store.mu.Unlock()
	b.store.recordGap(from, to)
	r = b.engine.Heal(context.Background(), series, from.Add(5*time.Minute), to.Add(5*time.Minute))
	require.NoError(t, r.Err)
	require.Equal(t, before+1, b.vendor.requests)
	require.Empty(t, b.store.st.Gaps)
	b.store.checkExact(t, b.engine.cfg.Horizon, head, nil)
}
