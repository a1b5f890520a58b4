package incremental

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
)

// Service runs a Poller's Tick on the plan's cadence with robfig/cron in UTC.
// Runs never overlap: a tick still running when the next is due makes cron
// skip that one. Recover sits inside SkipIfStillRunning so that a panicking
// tick returns its token and is not skipped for ever (robfig/cron #366).
type Service struct {
	poller   *Poller
	log      *zap.Logger
	interval time.Duration
	onTick   func(TickResult, error)

	mu      sync.Mutex
	cron    *cron.Cron
	cancel  context.CancelFunc
	started bool
}

// NewService returns a stopped Service. onTick, if set, receives every tick's
// outcome (metrics); it must not block.
func NewService(p *Poller, log *zap.Logger, onTick func(TickResult, error)) *Service {
	if log == nil {
		log = zap.NewNop()
	}
	return &Service{poller: p, log: log.Named("poller"), interval: p.cfg.Interval, onTick: onTick}
}

// Start loads recent bars, runs a first tick at once and schedules the rest.
// It returns once scheduled; calling it on a started Service does nothing.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if err := s.poller.Init(ctx); err != nil {
		return err
	}
	n, period, slow := s.poller.Plan()
	s.log.Info("live polling planned", zap.Int("requests_per_rotation", n), zap.Duration("interval", s.interval),
		zap.Duration("refresh_period", period))
	if slow {
		s.log.Warn("live polling cannot see every bar close: refresh period exceeds the shortest timeframe; heads are healed through history pages instead",
			zap.Duration("refresh_period", period))
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	logger := cronLogger{s.log.Sugar()}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)))
	entry, err := c.AddFunc(fmt.Sprintf("@every %s", s.interval), func() { s.tick(runCtx) })
	if err != nil {
		cancel()
		return fmt.Errorf("schedule poller: %w", err)
	}
	c.Start()
	// The first tick goes through the same chain as scheduled ones (calling
	// Entry.Job directly would bypass SkipIfStillRunning: robfig/cron #551).
	go c.Entry(entry).WrappedJob.Run()
	s.cron, s.cancel, s.started = c, cancel, true
	return nil
}

func (s *Service) tick(ctx context.Context) {
	res, err := s.poller.Tick(ctx)
	if errors.Is(err, context.Canceled) {
		return
	}
	if err != nil {
		s.log.Warn("poll tick failed", zap.Error(err))
	}
	if s.onTick != nil {
		s.onTick(res, err)
	}
}

// Stop cancels a running tick, waits for it to finish and stops the schedule.
// It is safe to call more than once, and on a Service never started.
func (s *Service) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return
	}
	s.cancel()
	<-s.cron.Stop().Done()
	s.started = false
}

// cronLogger adapts zap to cron's logr-style Logger.
type cronLogger struct{ l *zap.SugaredLogger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debugw(msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.With(zap.Error(err)).Errorw(msg, kv...)
}
