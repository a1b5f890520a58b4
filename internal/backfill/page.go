package backfill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/barcheck"
	"github.com/syncd/syncd/internal/failpoint"
	"github.com/syncd/syncd/internal/vendor"
)

// fetch gets one page, retrying retryable failures with jittered exponential
// backoff. Every try passes through the client and so through the governor.
//
// A page holding bars that fail validation is fetched again, up to
// spoiledRefetches times, its bad bars quarantined each time: the cursor
// moves past them, so a bar spoiled in transit would otherwise never be
// stored.
func (e *Engine) fetch(ctx context.Context, s vendor.Series, w *walk, caps vendor.Capabilities, r *Result) (vendor.Page, error) {
	rctx := ctx
	if e.cfg.Lane != nil {
		rctx = e.cfg.Lane(ctx, w.heal)
	}
	delay := e.cfg.RetryMin
	refetched := 0
	// Only failed tries in a row count towards MaxAttempts: a refetch of a
	// spoiled page is bounded on its own, and an answer, spoiled or not,
	// shows the vendor is up, so it starts the count and the backoff anew.
	// Otherwise failures spread over refetches would add up to a give-up and
	// to minutes of backoff that no run of failures justified.
	attempt := 0
	for {
		r.Requests++
		page, err := e.cfg.Client.History(rctx, s.Symbol, s.Timeframe, w.end, caps.PageSize)
		if err == nil {
			if q := e.invalid(s, caps, w, page); len(q) > 0 && refetched < spoiledRefetches {
				refetched++
				attempt, delay = 0, e.cfg.RetryMin
				e.log.Info("history page holds invalid bars; quarantined them, fetching it again", zap.Stringer("series", s),
					zap.Int("invalid", len(q)))
				if _, err := e.cfg.Store.Commit(ctx, Commit{Series: s, Quarantine: q}); err != nil {
					e.log.Warn("quarantine invalid bars", zap.Stringer("series", s), zap.Error(err))
				}
				continue
			}
			return page, nil
		}
		if ctx.Err() != nil {
			return vendor.Page{}, ctx.Err()
		}
		if !retryable(err) {
			return vendor.Page{}, fmt.Errorf("fetch history page: %w", err)
		}
		attempt++
		if e.cfg.MaxAttempts > 0 && attempt >= e.cfg.MaxAttempts {
			e.recordFailure(ctx, s, w, err)
			return vendor.Page{}, fmt.Errorf("fetch history page ending %s: %w (%d tries): %w", fmtEnd(w.end), ErrGaveUp, attempt, err)
		}
		e.log.Info("history page failed, retrying", zap.Stringer("series", s), zap.Int("attempt", attempt),
			zap.Duration("backoff", delay), zap.Error(err))
		// Full jitter keeps many series that failed together from retrying together.
		wait := delay/2 + rand.N(delay/2+1) //nolint:gosec // jitter, not a secret
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return vendor.Page{}, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, e.cfg.RetryMax)
	}
}

// spoiledRefetches bounds how often a page with invalid bars is fetched
// again before they are quarantined.
const spoiledRefetches = 2

// invalid returns what of the page would go to quarantine.
func (e *Engine) invalid(s vendor.Series, caps vendor.Capabilities, w *walk, page vendor.Page) []Quarantined {
	_, bad := barcheck.Check(page.Bars, barcheck.Rules{Timeframe: s.Timeframe, Market: caps.Market, Now: e.clock.Now(), End: w.end})
	return quarantine(page, bad)
}

// quarantine lists a page's undecodable entries and invalid bars.
func quarantine(page vendor.Page, bad []barcheck.Problem) []Quarantined {
	q := make([]Quarantined, 0, len(page.Rejects)+len(bad))
	for _, rj := range page.Rejects {
		q = append(q, Quarantined{Reason: "decode: " + rj.Reason, Raw: rj.Raw})
	}
	for _, p := range bad {
		q = append(q, Quarantined{Time: p.Bar.Time, Reason: p.Reason, Raw: p.Raw()})
	}
	return q
}

func retryable(err error) bool {
	return vendor.Retryable(err) || errors.Is(err, vendor.ErrQuotaExhausted)
}

func fmtEnd(t time.Time) string {
	if t.IsZero() {
		return "now"
	}
	return t.UTC().Format(time.RFC3339)
}

// recordFailure notes in the ledger that the range below w.end could not be
// fetched, so `syncd status` can say so. Best effort: the error that matters is
// the fetch error the caller returns.
func (e *Engine) recordFailure(ctx context.Context, s vendor.Series, w *walk, cause error) {
	c := Commit{Series: s, Coverage: []Coverage{{From: w.stop, To: e.endOrNow(w), State: CoverageFailed, Error: cause.Error()}}}
	if _, err := e.cfg.Store.Commit(ctx, c); err != nil {
		e.log.Warn("record failed range", zap.Stringer("series", s), zap.Error(err))
	}
}

// commitPage validates a page and commits it with everything it implies, then
// moves the walk's cursor.
func (e *Engine) commitPage(ctx context.Context, s vendor.Series, caps vendor.Capabilities, w *walk, page vendor.Page, r *Result) error {
	now := e.clock.Now()
	rules := barcheck.Rules{Timeframe: s.Timeframe, Market: caps.Market, Now: now, End: w.end}
	good, bad := barcheck.Check(page.Bars, rules)

	// The cursor moves past every bar the vendor placed in the requested window,
	// good or bad, so one impossible bar cannot pin the walk; the bad ones are in
	// quarantine. Bars outside the window say nothing about progress.
	pageOldest := time.Time{}
	for _, b := range page.Bars {
		if !plausible(b.Time, w.end, now) {
			continue
		}
		if pageOldest.IsZero() || b.Time.Before(pageOldest) {
			pageOldest = b.Time
		}
	}
	progressed := !pageOldest.IsZero() && (w.end.IsZero() || pageOldest.Before(w.end))
	short := page.Requested > 0 && len(page.Bars)+len(page.Rejects) < page.Requested

	c := Commit{Series: s, Quarantine: quarantine(page, bad)}
	for _, p := range bad {
		if strings.HasPrefix(p.Reason, barcheck.ReasonOHLC+":") && plausible(p.Bar.Time, w.end, now) {
			// Still bad after the page was fetched again: the gap makes a later
			// pass ask for it once more.
			c.Refetch = append(c.Refetch, Gap{From: p.Bar.Time.Add(-s.Timeframe.Duration()), To: s.Timeframe.Next(p.Bar.Time)})
		}
	}
	// A deep walk keeps only bars strictly below the stored oldest: the boundary
	// bar an inclusive end repeats is stored already, and what remains cannot
	// conflict, so the store may take its fast path.
	fastPath := !w.heal && !w.oldest.IsZero()
	for i, b := range good {
		if fastPath && !b.Time.Before(w.oldest) {
			continue
		}
		final := i < len(good)-1 || !now.Before(s.Timeframe.Next(b.Time).Add(e.cfg.Grace))
		c.Bars = append(c.Bars, Candle{Bar: b, Final: final})
	}
	c.AllNew = fastPath

	upTo := e.endOrNow(w)
	if progressed {
		if w.end.IsZero() && len(good) > 0 {
			upTo = s.Timeframe.Next(good[len(good)-1].Time)
		}
		c.Coverage = append(c.Coverage, Coverage{From: pageOldest, To: upTo, State: CoverageFetched})
	}
	reached := progressed && !pageOldest.After(w.stop)
	if w.stop.IsZero() {
		reached = false
	}

	endState, endReason := "", ""
	if !reached {
		endState, endReason = historyEnd(progressed, short, caps, s.Symbol)
	}
	below := pageOldest
	if !progressed {
		below = upTo
	}
	if !w.gapEnd.IsZero() && below.After(w.gapEnd) {
		below = w.gapEnd
	}
	if endState != "" && below.After(w.stop) {
		cov := Coverage{From: w.stop, To: below, State: endState, Error: endReason}
		c.Coverage = append(c.Coverage, cov)
		r.Unavailable = append(r.Unavailable, cov)
	}

	ended := reached || endState != ""
	if w.heal {
		w.trackGap(&c, ended, pageOldest)
	} else if endState != "" {
		c.Exhausted, c.ExhaustedAt = true, below
	}

	written, err := e.commit(ctx, c)
	if err != nil {
		return fmt.Errorf("commit history page: %w", err)
	}
	failpoint.Hit(failpoint.AfterCommit)
	r.Pages++
	r.Inserted += written.Inserted
	r.Updated += written.Updated
	r.Quarantined += len(c.Quarantine)
	if progressed {
		w.end = pageOldest
		if !w.heal {
			w.oldest = pageOldest
			r.Oldest = pageOldest
		}
	}
	w.done = ended
	e.report(s, w.heal, r, State{Oldest: pageOldest}, false)
	return nil
}

// historyEnd tells whether a page that did not reach the walk's stop shows the
// end of the vendor's history, and how to record the rest: "" when it does not.
func historyEnd(progressed, short bool, caps vendor.Capabilities, symbol string) (state, reason string) {
	switch {
	case !progressed:
		return CoverageEmpty, "vendor returned no older bars"
	case !caps.PagesBack:
		return CoverageUnavailable, fmt.Sprintf("%s cannot page back for %s", caps.Vendor, symbol)
	case short && caps.Depth > 0:
		return CoverageUnavailable, fmt.Sprintf("%s keeps only the latest %d bars", caps.Vendor, caps.Depth)
	case short:
		return CoverageEmpty, "vendor returned a short page: no older bars"
	}
	return "", ""
}

// trackGap records a heal's progress in the commit: the gap is opened with the
// first page that leaves part of it unhealed, moved down with each page, and
// closed with the page that ends the walk.
func (w *walk) trackGap(c *Commit, ended bool, pageOldest time.Time) {
	switch {
	case w.gapNew && !ended:
		c.OpenGap = &Gap{From: w.stop, To: pageOldest}
		w.gapNew = false
	case w.gapNew:
	case ended:
		c.GapFrom, c.CloseGap = w.stop, true
	default:
		c.GapFrom, c.MoveGap, c.GapTo = w.stop, true, pageOldest
	}
}

// commit writes a page, grouped with other series' fast-path pages while Run
// has a grouper going.
func (e *Engine) commit(ctx context.Context, c Commit) (Written, error) {
	if g := e.group.Load(); g != nil && c.AllNew {
		return g.submit(ctx, c)
	}
	return e.cfg.Store.Commit(ctx, c)
}

// plausible reports whether a bar's open time lies in the requested window,
// i.e. can count as progress of the walk.
func plausible(t, end, now time.Time) bool {
	if t.Year() < 1971 || t.After(now.Add(2*time.Minute)) {
		return false
	}
	return end.IsZero() || !t.After(end)
}

func (e *Engine) report(s vendor.Series, heal bool, r *Result, st State, done bool) {
	if e.cfg.Progress == nil {
		return
	}
	e.cfg.Progress(Progress{
		Series: s, Heal: heal, Pages: r.Pages, Bars: r.Inserted + r.Updated, Oldest: st.Oldest,
		Horizon: e.cfg.Horizon, Done: done, Err: r.Err, Requests: r.Requests,
	})
}
