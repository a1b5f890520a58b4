// Package incremental keeps every series current by polling the vendor's batch
// "latest bars" endpoint on the plan's cadence and upserting both bars it
// returns: the one that just closed (final) and the one still forming.
//
// The tick is a plain method, tested without a scheduler; Service runs it with
// robfig/cron, never overlapping itself. Gaps at the head are handed to the
// backfill engine, except across time the market was closed.
package incremental

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/barcheck"
	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/vendor"
)

// Latester is the part of a vendor client the poller uses.
type Latester interface {
	Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error)
}

// Store is the part of the database the poller uses.
type Store interface {
	// RecentBars returns up to n newest stored bars of each series, ascending.
	RecentBars(ctx context.Context, series []vendor.Series, n int) (map[vendor.Series][]Candle, error)
	// WriteLive upserts the bars of many series and quarantines the rest, in one
	// transaction, moving each series' newest frontier.
	WriteLive(ctx context.Context, w Write) (Written, error)
}

// Healer fills a head gap (from, to) of a series through history pages.
type Healer interface {
	RequestHeal(s vendor.Series, from, to time.Time)
}

// Calendar tells market sessions. Nil means every market is always open.
type Calendar interface {
	IsOpen(m vendor.Market, t time.Time) bool
	// ClosedThroughout reports whether the market had no session at all in [from, to).
	ClosedThroughout(m vendor.Market, from, to time.Time) bool
}

// Candle is a bar and whether it is final.
type Candle struct {
	vendor.Bar
	Final bool
}

// Quarantined is a bar or element that failed decoding or validation.
type Quarantined struct {
	Series vendor.Series
	Time   time.Time
	Reason string
	Raw    json.RawMessage
}

// Write is one request's worth of live bars.
type Write struct {
	Bars       map[vendor.Series][]Candle
	Quarantine []Quarantined
	// Gaps are head gaps the bars leave behind them. They are recorded in the
	// same transaction that stores the bars, because the newer bars move the
	// series' head past the gap: a stop before the heal would otherwise
	// forget it.
	Gaps []Gap
}

// Gap is a head gap of a series: no bars stored strictly between From (the
// newest stored bar) and To (the oldest bar just polled).
type Gap struct {
	Series   vendor.Series
	From, To time.Time
}

// Written reports what a write changed in candles.
type Written struct {
	Inserted, Updated, Unchanged int
}

// Config sets up a Poller. Zero values take the documented defaults.
type Config struct {
	Client Latester // required
	Store  Store    // required
	// Series to keep current, with each one's capabilities (required).
	Series []vendor.Series
	Caps   map[vendor.Series]vendor.Capabilities
	// PlanMax is the plan's cap on series per request; 0 means the vendor's own.
	PlanMax int
	// Interval is the plan's minimum spacing of latest-bars requests (required).
	Interval time.Duration
	// Grace is how long after a bar's period ends it may still be reported as
	// forming; default 5 s.
	Grace    time.Duration
	Healer   Healer
	Calendar Calendar
	Clock    clock.Clock
	Logger   *zap.Logger
	// Lane marks request contexts for the governor's live lane.
	Lane func(context.Context) context.Context
}

// TickResult sums up one tick.
type TickResult struct {
	Requests    int
	Polled      int // series asked for
	Skipped     int // series not asked for: market closed and last bar settled
	Missing     int
	Written     Written
	Revisions   int
	Gaps        int
	Quarantined int
}

// Poller polls latest bars. Its methods are safe for concurrent use, but ticks
// are meant to run one at a time (the Service guarantees it).
type Poller struct {
	cfg      Config
	log      *zap.Logger
	clock    clock.Clock
	requests []Request

	mu        sync.Mutex
	heads     map[vendor.Series][]Candle // the newest stored bars, ascending, at most 2
	unsettled map[vendor.Series]bool     // last bar not yet seen final since the market closed
	invalid   map[vendor.Series]error
	fresh     map[vendor.Series]time.Time // when the forming bar was last confirmed
	revisions int
}

// New packs the series into requests and reports the resulting refresh period.
func New(cfg Config) (*Poller, error) {
	if cfg.Client == nil || cfg.Store == nil {
		return nil, errors.New("new poller: Client and Store are required")
	}
	if cfg.Interval <= 0 {
		return nil, errors.New("new poller: Interval is required")
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	p := &Poller{cfg: cfg, log: cfg.Logger, clock: cfg.Clock,
		heads: map[vendor.Series][]Candle{}, unsettled: map[vendor.Series]bool{},
		invalid: map[vendor.Series]error{}, fresh: map[vendor.Series]time.Time{}}
	if p.log == nil {
		p.log = zap.NewNop()
	}
	if p.clock == nil {
		p.clock = clock.System{}
	}
	reqs, err := Pack(cfg.Series, cfg.Caps, cfg.PlanMax)
	if err != nil {
		return nil, err
	}
	p.requests = reqs
	for _, s := range cfg.Series {
		p.unsettled[s] = true // poll every series at least once, open or not
	}
	return p, nil
}

// Plan reports the packing: requests per rotation, the refresh period of each
// series, and whether that is longer than the shortest timeframe (then live
// polling alone cannot see every bar close, and heads are healed through
// history pages instead).
func (p *Poller) Plan() (requests int, period time.Duration, tooSlow bool) {
	period = RefreshPeriod(p.requests, p.cfg.Interval)
	for _, s := range p.cfg.Series {
		if period > s.Timeframe.Duration() {
			tooSlow = true
		}
	}
	return len(p.requests), period, tooSlow
}

// Init loads the newest stored bars, so the first tick can tell gaps and
// revisions.
func (p *Poller) Init(ctx context.Context) error {
	recent, err := p.cfg.Store.RecentBars(ctx, p.cfg.Series, 2)
	if err != nil {
		return fmt.Errorf("load recent bars: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	maps.Copy(p.heads, recent)
	return nil
}

// Freshness returns, per series, when its forming bar was last confirmed.
func (p *Poller) Freshness() map[vendor.Series]time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.fresh)
}

// Revisions returns how many stored bars the vendor has revised so far.
func (p *Poller) Revisions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.revisions
}

// Invalid returns the series the vendor refused and why; they are no longer polled.
func (p *Poller) Invalid() map[vendor.Series]error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.invalid)
}

// Tick polls every request once, in order, each through the governor, and
// writes what came back. A failed request does not stop the others; the first
// error is returned after all were tried.
func (p *Poller) Tick(ctx context.Context) (TickResult, error) {
	var res TickResult
	var firstErr error
	rctx := ctx
	if p.cfg.Lane != nil {
		rctx = p.cfg.Lane(ctx)
	}
	for _, req := range p.requests {
		batch := p.due(req, p.clock.Now(), &res)
		if len(batch) == 0 {
			continue
		}
		res.Requests++
		res.Polled += len(batch)
		latest, err := p.cfg.Client.Latest(rctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			p.log.Warn("latest bars request failed", zap.Int("series", len(batch)), zap.Error(err))
			if firstErr == nil {
				firstErr = fmt.Errorf("poll latest bars: %w", err)
			}
			// A failed sub-request (bisection, a second market) still leaves
			// what the others paid for: bars and invalid-code verdicts.
			if partialEmpty(latest) {
				continue
			}
		}
		if err := p.apply(ctx, latest, &res); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return res, firstErr
}

// due filters a request to the series worth asking for now: not refused by the
// vendor, and either in session or with their last bar not yet settled.
func (p *Poller) due(req Request, now time.Time, res *TickResult) []vendor.Series {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]vendor.Series, 0, len(req))
	for _, s := range req {
		if _, bad := p.invalid[s]; bad {
			continue
		}
		open := p.cfg.Calendar == nil || p.cfg.Calendar.IsOpen(p.cfg.Caps[s].Market, now)
		if open {
			p.unsettled[s] = true
		}
		if !open && !p.unsettled[s] {
			res.Skipped++
			continue
		}
		out = append(out, s)
	}
	return out
}

func (p *Poller) apply(ctx context.Context, latest vendor.Latest, res *TickResult) error {
	now := p.clock.Now()
	w := Write{Bars: map[vendor.Series][]Candle{}}
	type gap struct {
		s        vendor.Series
		from, to time.Time
	}
	var gaps []gap

	p.mu.Lock()
	for s, err := range latest.Invalid {
		p.invalid[s] = err
		p.log.Warn("series refused by vendor, no longer polled", zap.Stringer("series", s), zap.Error(err))
	}
	res.Missing += len(latest.Missing)
	for _, rj := range latest.Rejects {
		w.Quarantine = append(w.Quarantine, Quarantined{Series: rj.Series, Reason: "decode: " + rj.Reason, Raw: rj.Raw})
	}
	for s, bars := range latest.Bars {
		caps := p.cfg.Caps[s]
		good, bad := barcheck.Check(bars, barcheck.Rules{Timeframe: s.Timeframe, Market: caps.Market, Now: now})
		for _, b := range bad {
			w.Quarantine = append(w.Quarantine, Quarantined{Series: s, Time: b.Bar.Time, Reason: b.Reason, Raw: b.Raw()})
		}
		if len(good) == 0 {
			continue
		}
		candles := make([]Candle, len(good))
		for i, b := range good {
			candles[i] = Candle{Bar: b, Final: i < len(good)-1 || !now.Before(s.Timeframe.Next(b.Time).Add(p.cfg.Grace))}
		}
		head := p.heads[s]
		for _, c := range candles {
			if old, ok := find(head, c.Time); ok && isRevision(old, c) {
				res.Revisions++
				p.revisions++
				p.log.Info("bar revised by vendor", zap.Stringer("series", s), zap.Time("ts", c.Time),
					zap.Bool("was_final", old.Final), zap.Stringer("old_close", old.Close), zap.Stringer("new_close", c.Close))
			}
		}
		// A gap: the oldest returned bar is past the bar after the newest final
		// stored one (a stored forming bar whose final values we never saw counts
		// as missing too), unless the market was closed all that time.
		if lf, ok := lastFinal(head, s.Timeframe); ok {
			next := s.Timeframe.Next(lf)
			oldest := candles[0].Time
			if oldest.After(next) && (p.cfg.Calendar == nil || !p.cfg.Calendar.ClosedThroughout(caps.Market, next, oldest)) {
				gaps = append(gaps, gap{s: s, from: lf, to: oldest})
			}
		}
		w.Bars[s] = unwritten(head, candles, res)
		p.heads[s] = mergeHead(head, candles)
		if candles[len(candles)-1].Final {
			p.unsettled[s] = false
		}
		p.fresh[s] = now
	}
	p.mu.Unlock()
	for _, g := range gaps {
		w.Gaps = append(w.Gaps, Gap{Series: g.s, From: g.from, To: g.to})
	}

	written, err := p.cfg.Store.WriteLive(ctx, w)
	if err != nil {
		// The heads above describe bars that were not stored; forget them so the
		// next tick compares against the database's truth.
		p.mu.Lock()
		for s := range w.Bars {
			delete(p.heads, s)
		}
		p.mu.Unlock()
		return fmt.Errorf("write live bars: %w", err)
	}
	res.Written.Inserted += written.Inserted
	res.Written.Updated += written.Updated
	res.Written.Unchanged += written.Unchanged
	res.Quarantined += len(w.Quarantine)
	for _, g := range gaps {
		res.Gaps++
		p.log.Info("head gap handed to backfill", zap.Stringer("series", g.s), zap.Time("from", g.from), zap.Time("to", g.to))
		if p.cfg.Healer != nil {
			p.cfg.Healer.RequestHeal(g.s, g.from, g.to)
		}
	}
	return nil
}

// partialEmpty reports whether a failed Latest call brought nothing worth
// applying.
func partialEmpty(l vendor.Latest) bool {
	return len(l.Bars) == 0 && len(l.Invalid) == 0 && len(l.Rejects) == 0
}

func find(bars []Candle, t time.Time) (Candle, bool) {
	for _, b := range bars {
		if b.Time.Equal(t) {
			return b, true
		}
	}
	return Candle{}, false
}

// unwritten drops the bars head already holds final with the same values:
// the closed bar comes back on every tick until the next one closes, and
// upserting it again would only find it unchanged, at half a tick's database
// work. head is what the database holds (read at start, then only moved by
// committed writes), so nothing is lost. The newest bar always stays, so
// the write still confirms the series live.
func unwritten(head, candles []Candle, res *TickResult) []Candle {
	out := candles[:0:0]
	for i, c := range candles {
		if old, ok := find(head, c.Time); ok && i < len(candles)-1 && old.Final && c.Final && old.SameValues(c.Bar) {
			res.Written.Unchanged++
			continue
		}
		out = append(out, c)
	}
	return out
}

// lastFinal returns the newest stored bar known final. When only a forming bar
// is stored, the bar before it stands in, so the forming bar is refetched.
func lastFinal(bars []Candle, tf vendor.Timeframe) (time.Time, bool) {
	for _, b := range slices.Backward(bars) {
		if b.Final {
			return b.Time, true
		}
	}
	if len(bars) > 0 {
		return bars[0].Time.Add(-tf.Duration()), true
	}
	return time.Time{}, false
}

// isRevision reports whether c changes a stored bar in a way a live bar does
// not move: any change to a final bar, or a forming bar whose open changed,
// high fell, low rose or volume shrank.
func isRevision(old, c Candle) bool {
	if old.SameValues(c.Bar) {
		return false
	}
	if old.Final {
		return true
	}
	return !old.Open.Equal(c.Open) || c.High.Cmp(old.High) < 0 || c.Low.Cmp(old.Low) > 0 || c.Volume.Cmp(old.Volume) < 0
}

// mergeHead keeps the two newest bars of old and new, new values winning.
func mergeHead(old, fresh []Candle) []Candle {
	m := map[time.Time]Candle{}
	for _, c := range old {
		m[c.Time] = c
	}
	for _, c := range fresh {
		if prev, ok := m[c.Time]; ok && prev.Final {
			c.Final = true
		}
		m[c.Time] = c
	}
	out := make([]Candle, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	sortCandles(out)
	if len(out) > 2 {
		out = out[len(out)-2:]
	}
	return out
}
