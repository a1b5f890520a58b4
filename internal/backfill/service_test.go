package backfill

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestServiceSyncsRetriesAndHeals(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, 600*time.Minute, nil)
		b.store.failAt = 1 // the first commit fails: the series must be retried
		svc := NewService(b.engine, []vendor.Series{series}, time.Minute)
		ctx := context.Background()
		require.NoError(t, svc.Start(ctx))
		require.NoError(t, svc.Start(ctx))
		// Let the first attempt fail and the retry run, in the bubble's fake time.
		<-time.After(2 * time.Minute)
		synctest.Wait()
		require.True(t, svc.Synced())
		b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)

		// A gap reported by the poller is healed.
		gapFrom := testNow.Truncate(time.Minute).Add(-30 * time.Minute)
		gapTo := testNow.Truncate(time.Minute).Add(-10 * time.Minute)
		b.store.mu.Lock()
		for ts := gapFrom.Add(time.Minute); ts.Before(gapTo); ts = ts.Add(time.Minute) {
			delete(b.store.bars, ts)
		}
		b.store.mu.Unlock()
		b.store.recordGap(gapFrom, gapTo)
		svc.RequestHeal(series, gapFrom, gapTo)
		synctest.Wait()
		b.store.checkExact(t, b.engine.cfg.Horizon, testNow.Truncate(time.Minute), nil)
		svc.Stop()
		svc.Stop()
	})
}
