// Package backfill walks a vendor's single-series history endpoint backwards,
// page by page, from now to a configured horizon, and heals gaps at the head
// of a series (after downtime, or when the live poller reports one).
//
// Every page commits together with the frontier, ledger, quarantine and gap
// changes it implies, so a crash at any moment loses nothing and, on restart,
// at most the one page that was in flight is fetched again. A page that fails
// is never skipped: the cursor moves only with a commit.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/failpoint"
	"github.com/syncd/syncd/internal/vendor"
)

// Config sets up an Engine. Zero values take the documented defaults.
type Config struct {
	// Client fetches history pages (required).
	Client Historian
	// Store reads series state and commits pages (required).
	Store Store
	// Horizon is how far back history is wanted (required).
	Horizon time.Time
	// Clock decides finality and "now"; nil means the system clock.
	Clock clock.Clock
	// Logger; nil means no logging.
	Logger *zap.Logger
	// MaxAttempts bounds the failed tries in a row of one page before the
	// series is given up with ErrGaveUp; 0 means retry for ever (the
	// daemon's choice).
	MaxAttempts int
	// RetryMin and RetryMax bound the jittered exponential backoff between tries
	// of one page. Defaults 1 s and 2 min. The quota governor adds its own
	// backoff when the vendor pushes back.
	RetryMin, RetryMax time.Duration
	// Grace is how long after a bar's period ends it is still treated as
	// forming, to absorb vendor lag. Default 5 s.
	Grace time.Duration
	// Concurrency bounds series walked at once; default 64. Fairness between
	// them comes from the governor's FIFO queue.
	Concurrency int
	// Lane marks a request context for the governor: heal is the head-gap lane,
	// otherwise deep backfill. Nil leaves contexts unmarked.
	Lane func(ctx context.Context, heal bool) context.Context
	// Progress, if set, is called after every committed page and when a series
	// finishes. It must not block.
	Progress func(Progress)
	// GroupPages is how many deep-backfill pages of different series Run may
	// commit in one transaction when the Store is a GroupCommitter; default 8,
	// 1 disables grouping.
	GroupPages int
}

// Progress reports one series' advance.
type Progress struct {
	Series   vendor.Series
	Heal     bool      // head-gap healing, else deep backfill
	Pages    int       // pages committed by this run
	Bars     int       // bars inserted or updated by this run
	Oldest   time.Time // oldest stored bar after the page
	Newest   time.Time // newest stored bar
	Horizon  time.Time
	Done     bool  // the series reached its horizon or the vendor's end
	Err      error // set with Done when the series failed
	Requests int   // history requests made, retries included
}

// Result is one series' outcome of Run.
type Result struct {
	Series      vendor.Series
	Pages       int
	Requests    int
	Inserted    int
	Updated     int
	Quarantined int
	// Unavailable lists the ranges recorded as empty or unavailable from the vendor.
	Unavailable []Coverage
	// Oldest is the oldest bar stored by this run's deep walk (zero if none).
	Oldest time.Time
	Err    error
}

// Engine brings series to their horizon and heals their heads.
type Engine struct {
	cfg   Config
	log   *zap.Logger
	clock clock.Clock

	mu    sync.Mutex
	locks map[vendor.Series]*sync.Mutex
	group atomic.Pointer[grouper]
}

// New validates cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Client == nil || cfg.Store == nil {
		return nil, errors.New("new backfill engine: Client and Store are required")
	}
	if cfg.Horizon.IsZero() {
		return nil, errors.New("new backfill engine: Horizon is required")
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 2 * time.Minute
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = cfg.RetryMin
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.GroupPages <= 0 {
		cfg.GroupPages = 8
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, locks: map[vendor.Series]*sync.Mutex{}}
	if e.log == nil {
		e.log = zap.NewNop()
	}
	if e.clock == nil {
		e.clock = clock.System{}
	}
	return e, nil
}

// Run syncs every series, at most Concurrency at once, and returns their
// results in input order. When some fail, the error is a *PartialError naming
// them; the others were brought to their horizon all the same.
func (e *Engine) Run(ctx context.Context, series []vendor.Series) ([]Result, error) {
	if gc, ok := e.cfg.Store.(GroupCommitter); ok && e.cfg.GroupPages > 1 && len(series) > 1 {
		g := newGrouper(gc, e.cfg.GroupPages)
		gctx, stop := context.WithCancel(ctx)
		var gw sync.WaitGroup
		gw.Go(func() { g.run(gctx) })
		if e.group.CompareAndSwap(nil, g) {
			defer e.group.Store(nil)
		}
		defer gw.Wait()
		defer stop()
	}
	results := make([]Result, len(series))
	sem := make(chan struct{}, e.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, s := range series {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = Result{Series: s, Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			results[i] = e.Sync(ctx, s)
		})
	}
	wg.Wait()
	failed := map[vendor.Series]error{}
	for _, r := range results {
		if r.Err != nil {
			failed[r.Series] = r.Err
		}
	}
	if err := ctx.Err(); err != nil {
		return results, err
	}
	if len(failed) > 0 {
		return results, &PartialError{Failed: failed}
	}
	return results, nil
}

// seriesLock serialises walks of one series (start-up sync and heal requests).
func (e *Engine) seriesLock(s vendor.Series) *sync.Mutex {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.locks[s]
	if !ok {
		m = &sync.Mutex{}
		e.locks[s] = m
	}
	return m
}

// Sync brings one series up to date: it heals the head and any open gaps, then
// walks history back to the horizon (or to where the vendor's history ends).
func (e *Engine) Sync(ctx context.Context, s vendor.Series) Result {
	lock := e.seriesLock(s)
	lock.Lock()
	defer lock.Unlock()
	r := Result{Series: s}
	r.Err = e.sync(ctx, s, &r)
	e.report(s, false, &r, State{Oldest: r.Oldest}, true)
	if r.Err != nil && ctx.Err() == nil {
		e.log.Warn("backfill series failed", zap.Stringer("series", s), zap.Error(r.Err))
	}
	return r
}

// Heal fills the gap (from, to) of a series, where from is the newest stored
// bar below it and to the oldest stored above it (zero: up to now). The live
// poller calls it when it sees bars jump, having recorded the gap in
// sync_gaps with the bars that opened it.
func (e *Engine) Heal(ctx context.Context, s vendor.Series, from, to time.Time) Result {
	lock := e.seriesLock(s)
	lock.Lock()
	defer lock.Unlock()
	r := Result{Series: s}
	caps, err := e.caps(s)
	if err == nil {
		err = e.healRecorded(ctx, s, caps, from, to, &r)
	}
	r.Err = err
	e.report(s, true, &r, State{}, true)
	return r
}

// healRecorded heals what is still recorded of the gap (from, to). The poller
// records a gap with the bars that open it, then asks for the heal; by the
// time the series lock is ours a sync pass may have healed it already, and
// asking the vendor again would spend quota on bars that are stored.
func (e *Engine) healRecorded(ctx context.Context, s vendor.Series, caps vendor.Capabilities, from, to time.Time, r *Result) error {
	st, err := e.cfg.Store.SeriesState(ctx, s)
	if err != nil {
		return fmt.Errorf("read series state: %w", err)
	}
	for _, g := range st.Gaps {
		if !g.overlaps(from, to) {
			continue
		}
		if err := e.walk(ctx, s, caps, &walk{heal: true, end: g.To, stop: g.From}, r); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) caps(s vendor.Series) (vendor.Capabilities, error) {
	caps, err := e.cfg.Client.Capabilities(s.Symbol)
	if err != nil {
		return caps, fmt.Errorf("read capabilities: %w", err)
	}
	if err := caps.CheckTimeframe(s.Symbol, s.Timeframe); err != nil {
		return caps, err
	}
	if caps.PageSize <= 0 {
		return caps, fmt.Errorf("read capabilities: %s reports page size %d", caps.Vendor, caps.PageSize)
	}
	return caps, nil
}

func (e *Engine) sync(ctx context.Context, s vendor.Series, r *Result) error {
	caps, err := e.caps(s)
	if err != nil {
		return err
	}
	st, err := e.cfg.Store.SeriesState(ctx, s)
	if err != nil {
		return fmt.Errorf("read series state: %w", err)
	}
	if err := e.bringUp(ctx, s, caps, st, r); err != nil {
		return err
	}
	return e.refetch(ctx, s, caps, st.Gaps, r)
}

// bringUp heals the head and the open gaps of st, then walks down to the horizon.
func (e *Engine) bringUp(ctx context.Context, s vendor.Series, caps vendor.Capabilities, st State, r *Result) error {
	if !st.HasData() {
		// The first page is the latest one; the walk then carries on down.
		return e.walk(ctx, s, caps, &walk{stop: e.cfg.Horizon}, r)
	}
	now := e.clock.Now()
	// The head: anything newer than the newest stored bar's period is missing.
	if now.Sub(s.Timeframe.Next(st.Newest)) > e.cfg.Grace {
		if err := e.walk(ctx, s, caps, &walk{heal: true, stop: st.Newest, gapNew: true}, r); err != nil {
			return err
		}
	}
	gaps := st.Gaps
	if now.Sub(s.Timeframe.Next(st.Newest)) > e.cfg.Grace && len(gaps) > 0 {
		// The head page may have covered gaps the poller recorded meanwhile.
		cur, err := e.cfg.Store.SeriesState(ctx, s)
		if err != nil {
			return fmt.Errorf("read series state: %w", err)
		}
		gaps = cur.Gaps
	}
	for _, g := range gaps {
		if err := e.walk(ctx, s, caps, &walk{heal: true, end: g.To, stop: g.From}, r); err != nil {
			return err
		}
	}
	if st.Exhausted || !st.Oldest.After(e.cfg.Horizon) {
		return nil
	}
	return e.walk(ctx, s, caps, &walk{end: st.Oldest, stop: e.cfg.Horizon, oldest: st.Oldest}, r)
}

// refetch heals, once, the gaps that bars quarantined for their values left
// during this pass (those not among tried, the gaps open at its start). What
// comes back bad again stays recorded for the next pass.
func (e *Engine) refetch(ctx context.Context, s vendor.Series, caps vendor.Capabilities, tried []Gap, r *Result) error {
	if r.Quarantined == 0 {
		return nil
	}
	st, err := e.cfg.Store.SeriesState(ctx, s)
	if err != nil {
		return fmt.Errorf("read series state: %w", err)
	}
	for _, g := range st.Gaps {
		if slices.ContainsFunc(tried, func(o Gap) bool { return o.From.Equal(g.From) }) {
			continue
		}
		if err := e.walk(ctx, s, caps, &walk{heal: true, end: g.To, stop: g.From}, r); err != nil {
			return err
		}
	}
	return nil
}

// walk is one backwards walk: from end (zero: the latest bar) down to stop.
type walk struct {
	heal bool
	end  time.Time
	stop time.Time
	// gapNew: the gap (stop, end) is not recorded yet; the first commit that
	// leaves part of it open records it in the same transaction.
	gapNew bool
	// oldest is the stored oldest bar; pages strictly below it use the fast path.
	oldest time.Time
	// gapEnd is the end of a heal's gap when the walk asks for the latest page
	// instead (a vendor that cannot page back): what the page does not reach
	// is unavailable only up to there.
	gapEnd time.Time
	// done is set when the walk has nothing left to do.
	done bool
}

func (e *Engine) walk(ctx context.Context, s vendor.Series, caps vendor.Capabilities, w *walk, r *Result) error {
	if w.heal && !caps.PagesBack {
		// The latest page is all such a vendor serves, and it covers a recent
		// gap (a stop of minutes, a bar quarantined and due again): ask for it
		// rather than give the gap up unasked. What it does not reach is
		// recorded unavailable below, up to the gap's own end.
		w.gapEnd, w.end = w.end, time.Time{}
	}
	for {
		if !w.end.IsZero() && !w.end.After(w.stop) {
			return nil
		}
		if !caps.PagesBack && !w.end.IsZero() {
			// The vendor serves only the latest page for this symbol: say so once.
			return e.finish(ctx, s, w, r, w.end, CoverageUnavailable,
				fmt.Sprintf("%s cannot page back for %s", caps.Vendor, s.Symbol))
		}
		page, err := e.fetch(ctx, s, w, caps, r)
		switch {
		case errors.Is(err, vendor.ErrBeyondRange), errors.Is(err, vendor.ErrUnsupported):
			return e.finish(ctx, s, w, r, e.endOrNow(w), CoverageUnavailable, err.Error())
		case err != nil:
			return err
		}
		failpoint.Hit(failpoint.AfterResponse)
		if err := e.commitPage(ctx, s, caps, w, page, r); err != nil {
			return err
		}
		if w.done {
			return nil
		}
	}
}

func (e *Engine) endOrNow(w *walk) time.Time {
	if w.end.IsZero() {
		return e.clock.Now()
	}
	return w.end
}

// finish records [stop, upTo) as state and ends the walk: a deep walk marks
// history exhausted, a heal closes its gap.
func (e *Engine) finish(ctx context.Context, s vendor.Series, w *walk, r *Result, upTo time.Time, state, reason string) error {
	c := Commit{Series: s}
	if upTo.After(w.stop) {
		cov := Coverage{From: w.stop, To: upTo, State: state, Error: reason}
		c.Coverage = append(c.Coverage, cov)
		r.Unavailable = append(r.Unavailable, cov)
	}
	if w.heal {
		if !w.gapNew {
			c.GapFrom, c.CloseGap = w.stop, true
		}
	} else {
		c.Exhausted, c.ExhaustedAt = true, upTo
	}
	if _, err := e.cfg.Store.Commit(ctx, c); err != nil {
		return fmt.Errorf("record %s range: %w", state, err)
	}
	e.log.Info("backfill range recorded", zap.Stringer("series", s), zap.String("state", state),
		zap.Time("from", w.stop), zap.Time("to", upTo), zap.String("reason", reason))
	w.done = true
	return nil
}
