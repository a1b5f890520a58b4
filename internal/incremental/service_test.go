package incremental

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestServiceStartStopStress(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT")
	var mu sync.Mutex
	ticks := 0
	done := make(chan struct{}, 1)
	svc := NewService(b.poller, nil, func(TickResult, error) {
		mu.Lock()
		ticks++
		mu.Unlock()
		select {
		case done <- struct{}{}:
		default:
		}
	})
	ctx := context.Background()
	for range 5 {
		require.NoError(t, svc.Start(ctx))
		require.NoError(t, svc.Start(ctx)) // double start is a no-op
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the first tick never ran")
		}
		svc.Stop()
		svc.Stop() // double stop is safe
	}
	mu.Lock()
	require.GreaterOrEqual(t, ticks, 5)
	mu.Unlock()
}

// panicker panics on its first call, then behaves.
type panicker struct {
	*fakeLatest
	mu       sync.Mutex
	panicked bool
}

func (p *panicker) Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error) {
	p.mu.Lock()
	first := !p.panicked
	p.panicked = true
	p.mu.Unlock()
	if first {
		panic("vendor client bug")
	}
	return p.fakeLatest.Latest(ctx, series)
}

func TestServiceSurvivesPanickingTick(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT")
	b.poller.cfg.Client = &panicker{fakeLatest: b.vendor}
	ok := make(chan struct{}, 1)
	svc := NewService(b.poller, nil, func(r TickResult, err error) {
		if err == nil && r.Requests == 1 {
			select {
			case ok <- struct{}{}:
			default:
			}
		}
	})
	require.NoError(t, svc.Start(context.Background()))
	defer svc.Stop()
	// The panic must neither kill the process nor wedge the job: a later tick runs.
	select {
	case <-ok:
	case <-time.After(30 * time.Second):
		t.Fatal("no tick ran after the panicking one")
	}
}
