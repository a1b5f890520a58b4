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
	poller *Poller
	onTick func(TickResult, error)
	sched  schedule
}

// NewService returns a stopped Service. onTick, if set, receives every tick's
// outcome (metrics); it must not block.
func NewService(p *Poller, log *zap.Logger, onTick func(TickResult, error)) *Service {
	if log == nil {
		log = zap.NewNop()
	}
	return &Service{poller: p, onTick: onTick, sched: schedule{log: log.Named("poller"), interval: p.cfg.Interval}}
}

// Start loads recent bars, runs a first tick at once and schedules the rest.
// It returns once scheduled; calling it on a started Service does nothing.
func (s *Service) Start(ctx context.Context) error {
	return s.sched.start(ctx, func(ctx context.Context) error {
		if err := s.poller.Init(ctx); err != nil {
			return err
		}
		n, period, slow := s.poller.Plan()
		s.sched.log.Info("live polling planned", zap.Int("requests_per_rotation", n), zap.Duration("interval", s.sched.interval),
			zap.Duration("refresh_period", period))
		if slow {
			s.sched.log.Warn("live polling cannot see every bar close: refresh period exceeds the shortest timeframe; heads are healed through history pages instead",
				zap.Duration("refresh_period", period))
		}
		return nil
	}, func(ctx context.Context) {
		res, err := s.poller.Tick(ctx)
		if errors.Is(err, context.Canceled) {
			return
		}
		if err != nil {
			s.sched.log.Warn("poll tick failed", zap.Error(err))
		}
		if s.onTick != nil {
			s.onTick(res, err)
		}
	})
}

// Stop cancels a running tick, waits for it to finish and stops the schedule.
// It is safe to call more than once, and on a Service never started.
func (s *Service) Stop() { s.sched.stop() }

// schedule runs a job every interval with robfig/cron in UTC, never
// overlapping itself, with a first run at once.
type schedule struct {
	log      *zap.Logger
	interval time.Duration

	mu      sync.Mutex
	cron    *cron.Cron
	cancel  context.CancelFunc
	started bool
}

// start runs init, then schedules job; it does nothing when started already.
func (s *schedule) start(ctx context.Context, init func(context.Context) error, job func(context.Context)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return nil
	}
	if init != nil {
		if err := init(ctx); err != nil {
			return err
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	logger := cronLogger{s.log.Sugar()}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)))
	entry, err := c.AddFunc(fmt.Sprintf("@every %s", s.interval), func() { job(runCtx) })
	if err != nil {
		cancel()
		return fmt.Errorf("schedule %s: %w", s.log.Name(), err)
	}
	c.Start()
	// The first run goes through the same chain as scheduled ones (calling
	// Entry.Job directly would bypass SkipIfStillRunning: robfig/cron #551).
	go c.Entry(entry).WrappedJob.Run()
	s.cron, s.cancel, s.started = c, cancel, true
	return nil
}

// stop cancels a running job, waits for it and stops the schedule.
func (s *schedule) stop() {
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
