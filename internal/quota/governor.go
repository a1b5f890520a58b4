// Package quota is the per-API-key governor every vendor request passes
// through. It enforces all of a plan's dimensions at once (per-endpoint and
// global spacing, sliding per-second and per-minute windows, the daily cap
// persisted in PostgreSQL, items per batch), serves live polling before head
// healing before deep backfill while guaranteeing backfill a minimum share,
// and slows everything down when the vendor pushes back.
package quota

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// Lane is a request's priority class.
type Lane int

// Lanes, highest priority first.
const (
	LaneLive     Lane = iota // latest-bars polling
	LaneHeal                 // head-gap healing
	LaneBackfill             // deep history
	numLanes
)

func (l Lane) String() string { return [...]string{"live", "heal", "backfill"}[l] }

type laneKey struct{}

// WithLane marks ctx's requests with lane.
func WithLane(ctx context.Context, l Lane) context.Context {
	return context.WithValue(ctx, laneKey{}, l)
}

// LaneFrom returns ctx's lane; unmarked contexts are backfill.
func LaneFrom(ctx context.Context) Lane {
	if l, ok := ctx.Value(laneKey{}).(Lane); ok && l >= 0 && l < numLanes {
		return l
	}
	return LaneBackfill
}

// ErrUsageStore wraps a failure to persist the daily count: the governor fails
// closed rather than let requests through uncounted.
var ErrUsageStore = errors.New("quota usage store failed")

// Usage persists the daily count (implemented by the store).
type Usage interface {
	ReserveQuota(ctx context.Context, vendor, keyFingerprint string, dayStart time.Time, n int64) (int64, error)
	QuotaReserved(ctx context.Context, vendor, keyFingerprint string, dayStart time.Time) (int64, error)
}

// Config sets up a Governor. Zero values take the documented defaults.
type Config struct {
	Plan           plan.Plan // required
	KeyFingerprint string    // required with Usage
	// Usage persists the daily count; nil keeps it in memory only.
	Usage  Usage
	Clock  clock.Clock
	Logger *zap.Logger
	// MinShare: when lower lanes are waiting, at least one grant in MinShare
	// goes to the lowest waiting lane, so backfill progresses even when live
	// polling could take the whole budget. Default 5 (20 %).
	MinShare int
	// Block is how many daily requests are reserved in the database at once;
	// default 1 % of the cap, between 1 and 50.
	Block int64
	// BackoffMin and BackoffMax bound the pause after vendor pushback;
	// defaults 2 s and 5 min.
	BackoffMin, BackoffMax time.Duration
	// MarginPercent pads every spacing and window span, because the vendor
	// measures arrivals, not grants: two requests granted exactly 1 s apart
	// can arrive 999 ms apart after scheduling and send jitter. Default 2 (%),
	// never less than 50 ms; a negative value means no margin.
	MarginPercent int
}

// Governor enforces one key's plan. Safe for concurrent use.
type Governor struct {
	cfg   Config
	plan  plan.Plan
	clock clock.Clock
	log   *zap.Logger

	mu         sync.Mutex
	wake       chan struct{}
	queues     [numLanes][]*waiter
	sinceLow   int
	lastGlobal time.Time
	lastEp     map[vendor.Endpoint]time.Time
	sec, min   *window

	day            time.Time
	used, reserved int64
	exhaustedUntil time.Time
	dayLoaded      bool

	backoff      time.Duration
	backoffUntil time.Time
	inEpisode    bool
	episodes     []time.Time

	stats Stats
}

type waiter struct {
	ep    vendor.Endpoint
	lane  Lane
	items int
}

// New returns a Governor. Its windows start full, as if the previous process
// had just used the whole plan, so a restart never bursts.
func New(cfg Config) (*Governor, error) {
	if err := cfg.Plan.Validate(); err != nil {
		return nil, err
	}
	if cfg.Usage != nil && cfg.KeyFingerprint == "" {
		return nil, errors.New("new governor: KeyFingerprint is required with Usage")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.MinShare <= 0 {
		cfg.MinShare = 5
	}
	if cfg.Block <= 0 {
		cfg.Block = min(max(int64(cfg.Plan.PerDay)/100, 1), 50)
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 2 * time.Second
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(5*time.Minute, cfg.BackoffMin)
	}
	if cfg.MarginPercent == 0 {
		cfg.MarginPercent = 2
	}
	now := cfg.Clock.Now()
	g := &Governor{cfg: cfg, plan: cfg.Plan, clock: cfg.Clock, log: cfg.Logger.Named("quota"), wake: make(chan struct{}),
		lastEp: map[vendor.Endpoint]time.Time{}, lastGlobal: now,
		sec: newWindow(cfg.Plan.PerSecond, time.Second, now), min: newWindow(cfg.Plan.PerMinute, time.Minute, now)}
	for ep := range cfg.Plan.Spacing {
		g.lastEp[ep] = now
	}
	g.stats.Granted = map[string]int64{}
	return g, nil
}

// Plan returns the plan being enforced.
func (g *Governor) Plan() plan.Plan { return g.plan }

// Live marks ctx for the live lane.
func (g *Governor) Live(ctx context.Context) context.Context { return WithLane(ctx, LaneLive) }

// Lane marks ctx for healing (heal) or deep backfill.
func (g *Governor) Lane(ctx context.Context, heal bool) context.Context {
	if heal {
		return WithLane(ctx, LaneHeal)
	}
	return WithLane(ctx, LaneBackfill)
}

// Acquire blocks until the plan allows one request to ep carrying items, then
// counts it. It fails at once for a batch larger than the plan allows, and
// when the daily count cannot be persisted.
func (g *Governor) Acquire(ctx context.Context, ep vendor.Endpoint, items int) error {
	if max := g.itemCap(ep); max > 0 && items > max {
		return &vendor.APIError{Vendor: g.plan.Vendor, Endpoint: ep, Kind: vendor.ErrUnsupported,
			Message: fmt.Sprintf("%d items exceed the %s plan's %d per request", items, g.plan.Name, max)}
	}
	w := &waiter{ep: ep, lane: LaneFrom(ctx), items: items}
	start := g.clock.Now()
	g.mu.Lock()
	g.queues[w.lane] = append(g.queues[w.lane], w)
	g.mu.Unlock()
	for {
		g.mu.Lock()
		now := g.clock.Now()
		if err := g.rollDay(ctx, now); err != nil {
			g.remove(w)
			g.mu.Unlock()
			return err
		}
		at := g.earliest(w, now)
		if !at.After(now) && g.turn(w, now) {
			ok, err := g.count(ctx, now)
			if err != nil {
				g.remove(w)
				g.mu.Unlock()
				return err
			}
			if ok {
				// count may have waited on the database to reserve a block:
				// the request goes out after that, so the spacing starts then.
				g.grant(w, g.clock.Now(), start)
				g.mu.Unlock()
				return nil
			}
			at = g.exhaustedUntil
		}
		wake := g.wake
		g.mu.Unlock()
		wait := at.Sub(now)
		if wait <= 0 {
			wait = time.Millisecond // someone ahead is about to go; look again soon
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			g.mu.Lock()
			g.remove(w)
			g.broadcast()
			g.mu.Unlock()
			return ctx.Err()
		case <-wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (g *Governor) itemCap(ep vendor.Endpoint) int {
	switch ep {
	case vendor.EndpointLatest:
		return g.plan.BatchMax
	case vendor.EndpointTrades:
		return g.plan.TradeCodesMax
	}
	return 0
}

// earliest is when w may go as far as the plan and pushback are concerned.
func (g *Governor) earliest(w *waiter, now time.Time) time.Time {
	at := now
	later := func(t time.Time) {
		if t.After(at) {
			at = t
		}
	}
	if d := g.plan.GlobalSpacing; d > 0 {
		later(g.lastGlobal.Add(d + g.margin(d)))
	}
	if d := g.plan.Spacing[w.ep]; d > 0 {
		later(g.lastEp[w.ep].Add(d + g.margin(d)))
	}
	if g.sec.n > 0 {
		later(g.sec.nextFree(now).Add(g.margin(time.Second)))
	}
	if g.min.n > 0 {
		later(g.min.nextFree(now).Add(g.margin(time.Minute)))
	}
	later(g.backoffUntil)
	later(g.exhaustedUntil)
	return at
}

// margin is the padding added to an interval d (see Config.MarginPercent).
func (g *Governor) margin(d time.Duration) time.Duration {
	if g.cfg.MarginPercent < 0 {
		return 0
	}
	return max(d*time.Duration(g.cfg.MarginPercent)/100, 50*time.Millisecond)
}

// turn decides whether w goes before the other waiters that could go now: the
// highest lane first, FIFO within a lane, except that every MinShare-th grant
// goes to the lowest lane with an eligible waiter.
func (g *Governor) turn(w *waiter, now time.Time) bool {
	var first [numLanes]*waiter
	for l := range numLanes {
		for _, o := range g.queues[l] {
			if !g.earliest(o, now).After(now) {
				first[l] = o
				break
			}
		}
	}
	lowest, highest := Lane(-1), Lane(-1)
	for l := range numLanes {
		if first[l] != nil {
			if highest < 0 {
				highest = l
			}
			lowest = l
		}
	}
	pick := highest
	if lowest != highest && g.sinceLow >= g.cfg.MinShare-1 {
		pick = lowest
	}
	return pick >= 0 && first[pick] == w
}

func (g *Governor) grant(w *waiter, now, start time.Time) {
	g.remove(w)
	g.lastGlobal, g.lastEp[w.ep] = now, now
	g.sec.add(now)
	g.min.add(now)
	lowerWaiting := false
	for l := w.lane + 1; l < numLanes; l++ {
		lowerWaiting = lowerWaiting || len(g.queues[l]) > 0
	}
	if lowerWaiting {
		g.sinceLow++
	} else {
		g.sinceLow = 0
	}
	g.stats.Granted[string(w.ep)+"/"+w.lane.String()]++
	g.stats.WaitSeconds += now.Sub(start).Seconds()
	g.broadcast()
}

func (g *Governor) remove(w *waiter) {
	q := g.queues[w.lane]
	for i, o := range q {
		if o == w {
			g.queues[w.lane] = append(q[:i], q[i+1:]...)
			return
		}
	}
}

// broadcast wakes every waiter to look again.
func (g *Governor) broadcast() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// Report takes a request's outcome. A rate-limit answer pauses every lane
// with exponential backoff and jitter; an exhausted daily quota pauses until
// the reset; a success ends a pushback episode.
func (g *Governor) Report(ep vendor.Endpoint, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	switch {
	case errors.Is(err, vendor.ErrRateLimited):
		g.stats.Pushbacks++
		g.backoff = min(max(g.backoff*2, g.cfg.BackoffMin), g.cfg.BackoffMax)
		pause := g.backoff/2 + rand.N(g.backoff/2+1) //nolint:gosec // jitter, not a secret
		var ae *vendor.APIError
		if errors.As(err, &ae) && ae.RetryAfter > pause {
			pause = ae.RetryAfter
		}
		g.backoffUntil = now.Add(pause)
		if !g.inEpisode {
			g.inEpisode = true
			g.episodes = append(g.episodes, now)
			g.log.Warn("vendor pushed back; pausing every lane", zap.String("endpoint", string(ep)), zap.Duration("pause", pause), zap.Error(err))
			recent := 0
			for _, t := range g.episodes {
				if now.Sub(t) < time.Hour {
					recent++
				}
			}
			if recent >= 3 {
				g.log.Warn("the vendor keeps refusing requests that are within the configured plan; the configured plan may be wrong (check SYNCD_PLAN)",
					zap.String("plan", g.plan.Name), zap.Int("episodes_last_hour", recent))
			}
		}
	case errors.Is(err, vendor.ErrQuotaExhausted):
		g.exhaustedUntil = g.plan.NextReset(now)
		g.log.Warn("vendor says the daily quota is exhausted; pausing until the reset", zap.Time("resets_at", g.exhaustedUntil))
	case err == nil:
		if g.inEpisode {
			g.log.Info("vendor accepts requests again; pushback episode over")
		}
		g.inEpisode, g.backoff = false, 0
	}
	g.broadcast()
}

// rollDay moves to a new quota day when the reset has passed, loading the
// persisted count.
func (g *Governor) rollDay(ctx context.Context, now time.Time) error {
	day := g.plan.DayStart(now)
	if g.dayLoaded && day.Equal(g.day) {
		return nil
	}
	var used int64
	if g.cfg.Usage != nil && g.plan.PerDay > 0 {
		n, err := g.cfg.Usage.QuotaReserved(ctx, g.plan.Vendor, g.cfg.KeyFingerprint, day)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUsageStore, err)
		}
		// Reservations of earlier processes today count as used: over-counting
		// wastes at most a block per restart; under-counting could exceed the cap.
		used = n
	}
	g.day, g.used, g.reserved, g.dayLoaded = day, used, used, true
	if !g.exhaustedUntil.IsZero() && !now.Before(g.exhaustedUntil) {
		g.exhaustedUntil = time.Time{}
	}
	return nil
}

// count spends one request of today's cap, reserving a block in the database
// first when the reserved ones are used up. It reports false when the cap is
// used up (the caller waits for the reset).
func (g *Governor) count(ctx context.Context, now time.Time) (bool, error) {
	if g.plan.PerDay <= 0 {
		g.used++
		return true, nil
	}
	if g.used >= int64(g.plan.PerDay) {
		g.exhaustedUntil = g.plan.NextReset(now)
		return false, nil
	}
	if g.cfg.Usage != nil && g.used >= g.reserved {
		n := min(g.cfg.Block, int64(g.plan.PerDay)-g.used)
		total, err := g.cfg.Usage.ReserveQuota(ctx, g.plan.Vendor, g.cfg.KeyFingerprint, g.day, n)
		if err != nil {
			return false, fmt.Errorf("%w: %w", ErrUsageStore, err)
		}
		g.used, g.reserved = max(g.used, total-n), total
		if g.used >= int64(g.plan.PerDay) {
			g.exhaustedUntil = g.plan.NextReset(now)
			return false, nil
		}
	}
	g.used++
	if g.used >= int64(g.plan.PerDay) {
		g.exhaustedUntil = g.plan.NextReset(now)
		g.log.Warn("daily quota used up; pausing until the reset", zap.Int("cap", g.plan.PerDay), zap.Time("resets_at", g.exhaustedUntil))
	}
	return true, nil
}

// Stats is a snapshot for metrics and `syncd status`.
type Stats struct {
	Granted        map[string]int64 // by "endpoint/lane"
	WaitSeconds    float64
	Pushbacks      int64
	BackoffUntil   time.Time
	UsedToday      int64
	CapToday       int64 // 0: no daily cap
	ExhaustedUntil time.Time
}

// Stats returns a snapshot.
func (g *Governor) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.Granted = maps.Clone(g.stats.Granted)
	s.BackoffUntil, s.UsedToday, s.CapToday, s.ExhaustedUntil = g.backoffUntil, g.used, int64(g.plan.PerDay), g.exhaustedUntil
	return s
}
