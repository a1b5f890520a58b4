// Package quota is the per-API-key governor every vendor request passes
// through. It enforces all of a plan's dimensions at once (per-endpoint and
// global spacing, sliding per-second and per-minute windows, the daily cap
// persisted in PostgreSQL, items per batch), serves live polling before head
// healing before deep backfill while guaranteeing backfill a minimum share,
// and slows everything down when the vendor pushes back.
//
// The vendor counts arrivals, so spacings and windows are accounted on the
// moment each request actually left (vendor.Sent), not on its grant; a
// small Config.Margin covers what remains, the network trip varying between
// two requests.
package quota

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
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

// Usage persists the daily count (implemented by the store). SetQuotaDay
// records what `syncd status` shows beside the count; the governor calls it
// when it opens a day and when the cap runs out or the pause ends.
type Usage interface {
	ReserveQuota(ctx context.Context, vendor, keyFingerprint string, dayStart time.Time, n int64) (int64, error)
	QuotaReserved(ctx context.Context, vendor, keyFingerprint string, dayStart time.Time) (int64, error)
	SetQuotaDay(ctx context.Context, d Day) error
}

// Day is what the governor records about a key's quota day for `syncd
// status`, which reads the database and not the running daemon.
type Day struct {
	Vendor, KeyFingerprint, Plan string
	DayStart, ResetsAt           time.Time
	// Cap is the plan's daily cap; 0 means none.
	Cap int64
	// ExhaustedUntil is set while the cap is used up; zero otherwise.
	ExhaustedUntil time.Time
}

// DefaultMargin is Config.Margin's default (and SYNCD_QUOTA_MARGIN's).
const DefaultMargin = 10 * time.Millisecond

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
	// Margin pads every spacing and window span. Spacings and windows are
	// accounted on send times (vendor.Sent), so the time between a grant and
	// the request leaving (scheduling, building, connecting) needs no margin;
	// what is left is the vendor measuring arrivals: two requests sent exactly
	// 1 s apart arrive 1 s apart give or take how much the network trip varies
	// between them, and the vendor may stamp arrivals on a coarser clock.
	// Default 10 ms (about 1 % of AllTick basic's 1 s, a fifth of its
	// professional plan's 50 ms history spacing; SYNCD_QUOTA_MARGIN sets it);
	// negative means no margin.
	// It is in Clock's units, so a scaled clock needs a scaled margin.
	Margin time.Duration
	// OnWait, when set, is told how long every granted request waited, for
	// metrics. It is called with the governor's lock held: keep it quick.
	OnWait func(ep vendor.Endpoint, lane Lane, wait time.Duration)
}

// speeder is a clock that runs faster than real time (clock.Scaled), as in
// tests against a time-scaled simulator.
type speeder interface{ Speed() float64 }

// Governor enforces one key's plan. Safe for concurrent use.
type Governor struct {
	cfg   Config
	plan  plan.Plan
	clock clock.Clock
	log   *zap.Logger

	mu       sync.Mutex
	wake     chan struct{}
	queues   [numLanes][]*waiter
	sinceLow int
	// lastGlobal and lastEp are the latest send times; pendingAll and
	// pendingEp count grants not yet reported sent, which hold back what
	// their send time decides.
	lastGlobal time.Time
	lastEp     map[vendor.Endpoint]time.Time
	pendingAll int
	pendingEp  map[vendor.Endpoint]int
	sec, min   *window

	day            time.Time
	used, reserved int64
	exhaustedUntil time.Time
	dayLoaded      bool
	dayDirty       bool // the day's record for `syncd status` is stale

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
	switch {
	case cfg.Margin == 0:
		cfg.Margin = DefaultMargin
	case cfg.Margin < 0:
		cfg.Margin = 0
	}
	now := cfg.Clock.Now()
	g := &Governor{cfg: cfg, plan: cfg.Plan, clock: cfg.Clock, log: cfg.Logger.Named("quota"), wake: make(chan struct{}),
		lastEp: map[vendor.Endpoint]time.Time{}, pendingEp: map[vendor.Endpoint]int{}, lastGlobal: now,
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
// when the daily count cannot be persisted. The caller calls the returned
// Sent when the request has left (see vendor.Gate); until then, requests
// whose turn depends on that moment wait.
func (g *Governor) Acquire(ctx context.Context, ep vendor.Endpoint, items int) (vendor.Sent, error) {
	if max := g.itemCap(ep); max > 0 && items > max {
		return nil, &vendor.APIError{Vendor: g.plan.Vendor, Endpoint: ep, Kind: vendor.ErrUnsupported,
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
			return nil, err
		}
		at, held := g.earliest(w, now)
		if !held && !at.After(now) && g.turn(w, now) {
			ok, err := g.count(ctx, now)
			if err != nil {
				g.remove(w)
				g.mu.Unlock()
				return nil, err
			}
			if ok {
				// count may have waited on the database to reserve a block; the
				// slot is provisional until the request is sent anyway.
				sent := g.grant(w, g.clock.Now(), start)
				g.saveDay(ctx)
				g.mu.Unlock()
				return sent, nil
			}
			at = g.exhaustedUntil
		}
		g.saveDay(ctx)
		wake := g.wake
		g.mu.Unlock()
		if err := g.sleep(ctx, wake, at.Sub(now), held); err != nil {
			g.mu.Lock()
			g.remove(w)
			g.broadcast()
			g.mu.Unlock()
			return nil, err
		}
	}
}

// sleep waits for wake, for d, or for ctx to end. A held waiter waits for
// wake alone: the send report it depends on broadcasts.
func (g *Governor) sleep(ctx context.Context, wake <-chan struct{}, d time.Duration, held bool) error {
	var timeout <-chan time.Time
	if !held {
		if d <= 0 {
			d = time.Millisecond // someone ahead is about to go; look again soon
		}
		if sc, ok := g.clock.(speeder); ok && sc.Speed() > 0 {
			d = time.Duration(float64(d) / sc.Speed()) // timers run in real time
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-timeout:
	}
	return nil
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

// earliest is when w may go as far as the plan and pushback are concerned;
// held means that depends on a granted request not yet reported sent.
func (g *Governor) earliest(w *waiter, now time.Time) (at time.Time, held bool) {
	at = now
	later := func(t time.Time) {
		if t.After(at) {
			at = t
		}
	}
	m := g.cfg.Margin
	if d := g.plan.GlobalSpacing; d > 0 {
		held = held || g.pendingAll > 0
		later(g.lastGlobal.Add(d + m))
	}
	if d := g.plan.Spacing[w.ep]; d > 0 {
		held = held || g.pendingEp[w.ep] > 0
		later(g.lastEp[w.ep].Add(d + m))
	}
	for _, win := range []*window{g.sec, g.min} {
		free, h := win.nextFree()
		held = held || h
		if !h && win.n > 0 {
			later(free.Add(m))
		}
	}
	later(g.backoffUntil)
	later(g.exhaustedUntil)
	return at, held
}

// turn decides whether w goes before the other waiters that could go now: the
// highest lane first, FIFO within a lane, except that every MinShare-th grant
// goes to the lowest lane with an eligible waiter.
func (g *Governor) turn(w *waiter, now time.Time) bool {
	var first [numLanes]*waiter
	for l := range numLanes {
		for _, o := range g.queues[l] {
			if at, held := g.earliest(o, now); !held && !at.After(now) {
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

// grant gives w its slot and returns the Sent that resolves it.
func (g *Governor) grant(w *waiter, now, start time.Time) vendor.Sent {
	g.remove(w)
	s := &slot{at: now, pending: true}
	g.pendingAll++
	g.pendingEp[w.ep]++
	g.sec.add(s)
	g.min.add(s)
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
	if g.cfg.OnWait != nil {
		g.cfg.OnWait(w.ep, w.lane, now.Sub(start))
	}
	g.broadcast()
	var once sync.Once
	return func() { once.Do(func() { g.sent(w.ep, s) }) }
}

// sent resolves a granted request at its send time: from now on spacings and
// windows count it as sent now.
func (g *Governor) sent(ep vendor.Endpoint, s *slot) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	s.at, s.pending = now, false
	g.pendingAll--
	g.pendingEp[ep]--
	if now.After(g.lastGlobal) {
		g.lastGlobal = now
	}
	if now.After(g.lastEp[ep]) {
		g.lastEp[ep] = now
	}
	g.sec.resolved()
	g.min.resolved()
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
			g.stats.Episodes++
			g.episodes = append(g.episodes, now)
			g.log.Warn("vendor pushed back; pausing every lane", zap.String("endpoint", string(ep)), zap.Duration("pause", pause), zap.Error(err))
			g.episodes = slices.DeleteFunc(g.episodes, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
			recent := len(g.episodes)
			if recent >= 3 {
				g.log.Warn("the vendor keeps refusing requests that are within the configured plan; the configured plan may be wrong (check SYNCD_PLAN)",
					zap.String("plan", g.plan.Name), zap.Int("episodes_last_hour", recent))
			}
		}
	case errors.Is(err, vendor.ErrQuotaExhausted):
		g.exhaust(now)
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
	g.day, g.used, g.reserved, g.dayLoaded, g.dayDirty = day, used, used, true, true
	if !g.exhaustedUntil.IsZero() && !now.Before(g.exhaustedUntil) {
		g.exhaustedUntil = time.Time{}
	}
	return nil
}

// exhaust pauses every request until the next reset.
func (g *Governor) exhaust(now time.Time) {
	if until := g.plan.NextReset(now); !until.Equal(g.exhaustedUntil) {
		g.exhaustedUntil, g.dayDirty = until, true
	}
}

// saveDay records the day's plan, cap, reset and exhaustion for `syncd
// status` when they changed. Failing only makes the status stale, so it is
// logged, not returned; the next change tries again.
func (g *Governor) saveDay(ctx context.Context) {
	if !g.dayDirty || g.cfg.Usage == nil || g.plan.PerDay <= 0 {
		return
	}
	g.dayDirty = false
	d := Day{Vendor: g.plan.Vendor, KeyFingerprint: g.cfg.KeyFingerprint, Plan: g.plan.Name, DayStart: g.day,
		ResetsAt: g.plan.NextReset(g.day), Cap: int64(g.plan.PerDay), ExhaustedUntil: g.exhaustedUntil}
	if err := g.cfg.Usage.SetQuotaDay(ctx, d); err != nil && ctx.Err() == nil {
		g.log.Warn("could not record the quota day for syncd status", zap.Error(err))
	}
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
		g.exhaust(now)
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
			g.exhaust(now)
			return false, nil
		}
	}
	g.used++
	if g.used >= int64(g.plan.PerDay) {
		g.exhaust(now)
		g.log.Warn("daily quota used up; pausing until the reset", zap.Int("cap", g.plan.PerDay), zap.Time("resets_at", g.exhaustedUntil))
	}
	return true, nil
}

// Stats is a snapshot for metrics and `syncd status`.
type Stats struct {
	Granted        map[string]int64 // by "endpoint/lane"
	WaitSeconds    float64
	Pushbacks      int64 // rate-limit answers
	Episodes       int64 // pushback episodes (logged once each)
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
	if !s.ExhaustedUntil.After(g.clock.Now()) {
		s.ExhaustedUntil = time.Time{} // the reset has passed
	}
	return s
}
