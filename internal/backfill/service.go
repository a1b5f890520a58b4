package backfill

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/vendor"
)

// Service runs the engine inside the daemon: it syncs every series at start,
// retries series that failed (a database outage, a vendor refusing for a while)
// every RetryEvery, and heals the gaps the live poller reports.
type Service struct {
	engine     *Engine
	series     []vendor.Series
	retryEvery time.Duration
	log        *zap.Logger

	mu      sync.Mutex
	pending map[vendor.Series]Gap
	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	synced  map[vendor.Series]bool
}

// NewService returns a stopped Service. retryEvery ≤ 0 means one minute.
func NewService(e *Engine, series []vendor.Series, retryEvery time.Duration) *Service {
	if retryEvery <= 0 {
		retryEvery = time.Minute
	}
	return &Service{engine: e, series: series, retryEvery: retryEvery, log: e.log.Named("backfill"),
		pending: map[vendor.Series]Gap{}, wake: make(chan struct{}, 1), synced: map[vendor.Series]bool{}}
}

// RequestHeal queues the gap (from, to) of s for healing; overlapping requests
// for one series merge. It never blocks.
func (s *Service) RequestHeal(ser vendor.Series, from, to time.Time) {
	s.mu.Lock()
	g, ok := s.pending[ser]
	if !ok || from.Before(g.From) {
		g.From = from
	}
	if !ok || to.After(g.To) {
		g.To = to
	}
	s.pending[ser] = g
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Synced reports whether every series has completed its start-up sync.
func (s *Service) Synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.synced) == len(s.series)
}

// Start launches the service and returns at once. Calling it twice does nothing.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return nil
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(runCtx)
	return nil
}

// Stop cancels in-flight work, waits for it to end, and may be called twice.
func (s *Service) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (s *Service) run(ctx context.Context) {
	defer close(s.done)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.syncLoop(ctx) })
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.pending
		s.pending = map[vendor.Series]Gap{}
		s.mu.Unlock()
		for ser, g := range batch {
			wg.Go(func() {
				if r := s.engine.Heal(ctx, ser, g.From, g.To); r.Err != nil && ctx.Err() == nil {
					s.log.Warn("heal failed, will retry", zap.Stringer("series", ser), zap.Error(r.Err))
					s.retryHeal(ctx, ser, g)
				}
			})
		}
	}
}

func (s *Service) retryHeal(ctx context.Context, ser vendor.Series, g Gap) {
	t := time.NewTimer(s.retryEvery)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		s.RequestHeal(ser, g.From, g.To)
	}
}

// syncLoop brings every series to its horizon, retrying failed ones.
func (s *Service) syncLoop(ctx context.Context) {
	todo := s.series
	for len(todo) > 0 {
		results, _ := s.engine.Run(ctx, todo)
		if ctx.Err() != nil {
			return
		}
		var failed []vendor.Series
		s.mu.Lock()
		for _, r := range results {
			if r.Err != nil {
				failed = append(failed, r.Series)
				continue
			}
			s.synced[r.Series] = true
		}
		s.mu.Unlock()
		if len(failed) == 0 {
			s.log.Info("all series synced to their horizon", zap.Int("series", len(s.series)))
			return
		}
		s.log.Warn("series not synced, will retry", zap.Int("failed", len(failed)), zap.Duration("retry_in", s.retryEvery))
		t := time.NewTimer(s.retryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		todo = failed
	}
}
