package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/incremental"
	"github.com/syncd/syncd/internal/leader"
	"github.com/syncd/syncd/internal/logging"
	"github.com/syncd/syncd/internal/metrics"
	"github.com/syncd/syncd/internal/opshttp"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/progress"
	"github.com/syncd/syncd/internal/store"
	"github.com/syncd/syncd/internal/vendor"
)

// vendorClient is what the daemon needs of a vendor client: history pages for
// backfill, latest bars for the poller, and capabilities for both.
type vendorClient interface {
	Capabilities(symbol string) (vendor.Capabilities, error)
	History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error)
	Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error)
	Trades(ctx context.Context, symbols []string) ([]vendor.Trade, error)
}

// gate is the per-key quota governor: a vendor.Gate that knows its plan and
// marks request contexts with their lane.
type gate interface {
	vendor.Gate
	Plan() plan.Plan
	Live(ctx context.Context) context.Context
	Lane(ctx context.Context, heal bool) context.Context
}

// newGate builds the quota governor for the configured plan; newVendorClient
// builds the configured vendor's client on that gate. They are variables so
// tests can substitute them.
var (
	newGate         = buildGate
	newVendorClient = buildVendorClient
)

// parts is everything a fetching process wires together.
type parts struct {
	store   *store.Store
	metrics *metrics.Metrics
	gate    gate
	client  vendorClient
	series  []vendor.Series
	caps    map[vendor.Series]vendor.Capabilities
	horizon time.Time
	key     *keyWatch
}

func (env *Env) series() []vendor.Series {
	out := make([]vendor.Series, 0, len(env.Config.Symbols)*len(env.Config.Timeframes))
	for _, sym := range env.Config.Symbols {
		for _, tf := range env.Config.Timeframes {
			out = append(out, vendor.Series{Vendor: env.Config.Vendor, Symbol: sym, Timeframe: tf})
		}
	}
	return out
}

// wire opens and migrates the store, and builds the governor and vendor
// client. A daemon waits for a database that is not up yet; a one-shot
// command fails at once.
func wire(ctx context.Context, env *Env, waitForDB bool) (*parts, error) {
	open := openStore
	if waitForDB {
		open = openStoreWaiting
	}
	st, err := open(ctx, env)
	if err != nil {
		return nil, err
	}
	p := &parts{store: st, metrics: metrics.New(), horizon: env.Config.BackfillFrom(env.Clock.Now())}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if p.gate, err = newGate(ctx, env, st, p.metrics); err != nil {
		st.Close()
		return nil, err
	}
	p.key = &keyWatch{Gate: p.metrics.Gate(p.gate)}
	if p.client, err = newVendorClient(env, p.key); err != nil {
		st.Close()
		return nil, err
	}
	p.series = env.series()
	p.caps = make(map[vendor.Series]vendor.Capabilities, len(p.series))
	for _, s := range p.series {
		c, err := p.client.Capabilities(s.Symbol)
		if err == nil {
			err = c.CheckTimeframe(s.Symbol, s.Timeframe)
		}
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("series %s: %w", s, err)
		}
		p.caps[s] = c
	}
	return p, nil
}

// openStoreWaiting connects, retrying with capped backoff while the database
// is unreachable, so a daemon started before its database waits for it.
func openStoreWaiting(ctx context.Context, env *Env) (*store.Store, error) {
	delay := time.Second
	for {
		st, err := openStore(ctx, env)
		if err == nil {
			return st, nil
		}
		env.Log.Warn("database unreachable; retrying", zap.Duration("retry_in", delay), zap.Error(err))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// fetchLock elects this process as the only fetcher for the key.
func fetchLock(env *Env, st *store.Store) (*leader.Elector, error) {
	return leader.New(leader.Config{ConnConfig: st.ConnConfig(),
		Key: leader.Key(env.Config.Vendor, env.Config.VendorToken.Fingerprint()), Logger: env.Log})
}

// daemon is `syncd run` once configured: ops server, then, while this process
// holds the fetch lock, backfill and live polling.
func daemon(ctx context.Context, env *Env) error {
	p, err := wire(ctx, env, true)
	if err != nil {
		return err
	}
	defer p.store.Close()
	if env.Config.HTTPAddr != "" {
		srv, err := opshttp.New(opshttp.Config{Addr: env.Config.HTTPAddr, Gatherer: p.metrics.Registry, Logger: env.Log,
			Checks: []opshttp.Check{
				{Name: "database", Func: p.store.Ping},
				{Name: "migrations", Func: func(ctx context.Context) error {
					ok, err := p.store.Migrated(ctx)
					if err == nil && !ok {
						err = store.ErrNotMigrated
					}
					return err
				}},
				{Name: "vendor key", Func: p.key.Check},
			}})
		if err != nil {
			return err
		}
		if err := srv.Start(ctx); err != nil {
			return err
		}
		defer srv.Stop()
	}
	elector, err := fetchLock(env, p.store)
	if err != nil {
		return err
	}
	return elector.Run(ctx, func(ctx context.Context) error { return p.fetch(ctx, env) })
}

// fetch runs backfill and polling until ctx ends.
func (p *parts) fetch(ctx context.Context, env *Env) error {
	log := logging.Component(env.Log, "backfill")
	engine, err := backfill.New(backfill.Config{Client: p.client, Store: p.store, Horizon: p.horizon, Clock: env.Clock,
		Logger: log, Lane: p.gate.Lane, Progress: p.backfillProgress})
	if err != nil {
		return err
	}
	bf := backfill.NewService(engine, p.series, time.Minute)
	interval := env.Config.PollInterval
	if interval == 0 {
		interval = p.gate.Plan().MinInterval(vendor.EndpointLatest)
	}
	cal, err := calendar.New()
	if err != nil {
		return err
	}
	p.warnHolidayTables(env, cal)
	poller, err := incremental.New(incremental.Config{Client: p.client, Store: p.store, Series: p.series, Caps: p.caps, Calendar: cal,
		PlanMax: p.gate.Plan().BatchMax, Interval: interval, Healer: bf, Clock: env.Clock,
		Logger: logging.Component(env.Log, "poller"), Lane: p.gate.Live})
	if err != nil {
		return err
	}
	p.metrics.SetFreshness(poller.Freshness, env.Clock.Now)
	svc := incremental.NewService(poller, env.Log, p.onTick)
	if err := bf.Start(ctx); err != nil {
		return err
	}
	defer bf.Stop()
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Stop()
	if env.Config.Trades {
		trades, err := p.tradeService(env, cal, interval)
		if err != nil {
			return err
		}
		if err := trades.Start(ctx); err != nil {
			return err
		}
		defer trades.Stop()
	}
	<-ctx.Done()
	return ctx.Err()
}

// warnHolidayTables says when the calendar's holiday table of a configured
// market ends before the current year: holidays after it count as sessions,
// so the poller polls a closed market (harmless) and closed days are not
// told from gaps until syncd is updated.
func (p *parts) warnHolidayTables(env *Env, cal *calendar.Calendar) {
	year := env.Clock.Now().UTC().Year()
	warned := map[vendor.Market]bool{}
	for _, c := range p.caps {
		if _, last, ok := cal.HolidayYears(c.Market); ok && last < year && !warned[c.Market] {
			warned[c.Market] = true
			env.Log.Warn("exchange holiday table ends before this year; holidays are treated as sessions until syncd is updated",
				zap.String("market", string(c.Market)), zap.Int("table_ends", last))
		}
	}
}

// tradeService polls latest trades in the heal lane, so that they never delay
// latest bars, at SYNCD_TRADES_INTERVAL or else the bars' interval (or the
// plan's minimum for trades where that is longer).
func (p *parts) tradeService(env *Env, cal incremental.Calendar, barsInterval time.Duration) (*incremental.TradeService, error) {
	interval := env.Config.TradesInterval
	if interval == 0 {
		interval = max(barsInterval, p.gate.Plan().MinInterval(vendor.EndpointTrades))
	}
	markets := make(map[string]vendor.Market, len(p.caps))
	for s, c := range p.caps {
		markets[s.Symbol] = c.Market
	}
	tp, err := incremental.NewTradePoller(incremental.TradeConfig{Client: p.client, Store: p.store, Vendor: env.Config.Vendor,
		Symbols: env.Config.Symbols, Markets: markets, Interval: interval, Calendar: cal, Clock: env.Clock,
		Logger: logging.Component(env.Log, "trades"), Lane: func(ctx context.Context) context.Context { return p.gate.Lane(ctx, true) }})
	if err != nil {
		return nil, err
	}
	env.Log.Info("trade polling planned", zap.Int("symbols", len(env.Config.Symbols)), zap.Duration("interval", interval))
	return incremental.NewTradeService(tp, env.Log, func(r incremental.TradeTick, _ error) {
		p.metrics.Trades.WithLabelValues("stored").Add(float64(r.Stored))
		p.metrics.Trades.WithLabelValues("seen_before").Add(float64(r.Received - r.Stored))
	}), nil
}

func (p *parts) onTick(r incremental.TickResult, err error) {
	p.metrics.PollTicks.WithLabelValues(metrics.Outcome(err)).Inc()
	p.metrics.Bars.WithLabelValues("inserted").Add(float64(r.Written.Inserted))
	p.metrics.Bars.WithLabelValues("updated").Add(float64(r.Written.Updated))
	p.metrics.Bars.WithLabelValues("unchanged").Add(float64(r.Written.Unchanged))
	p.metrics.Bars.WithLabelValues("quarantined").Add(float64(r.Quarantined))
	p.metrics.Revisions.Add(float64(r.Revisions))
	p.metrics.Gaps.Add(float64(r.Gaps))
}

func (p *parts) backfillProgress(pr backfill.Progress) {
	if pr.Oldest.IsZero() {
		return
	}
	labels := metrics.Labels(pr.Series)
	p.metrics.BackfillOldest.WithLabelValues(labels...).Set(float64(pr.Oldest.Unix()))
	if span := time.Since(pr.Horizon); span > 0 {
		p.metrics.BackfillProgress.WithLabelValues(labels...).Set(min(1, time.Since(pr.Oldest).Seconds()/span.Seconds()))
	}
}

// oneShotBackfill is `syncd backfill`: every series to its horizon, then exit
// with a summary; non-zero when any series failed, naming it.
func oneShotBackfill(ctx context.Context, env *Env) error {
	p, err := wire(ctx, env, false)
	if err != nil {
		return err
	}
	defer p.store.Close()
	var rep progress.Reporter
	if env.Terminal {
		rep = progress.NewTerminal(env.Stderr, p.series, env.Clock.Now)
	} else {
		rep = progress.NewLog(env.Log, 10*time.Second, env.Clock.Now)
	}
	engine, err := backfill.New(backfill.Config{Client: p.client, Store: p.store, Horizon: p.horizon, Clock: env.Clock,
		Logger: logging.Component(env.Log, "backfill"), MaxAttempts: 8, Lane: p.gate.Lane, Progress: rep.Update})
	if err != nil {
		return err
	}
	elector, err := fetchLock(env, p.store)
	if err != nil {
		return err
	}
	start := env.Clock.Now()
	var results []backfill.Result
	var runErr error
	err = elector.Run(ctx, func(ctx context.Context) error {
		results, runErr = engine.Run(ctx, p.series)
		return errDone
	})
	rep.Close()
	if err != nil && !errors.Is(err, errDone) {
		return err
	}
	summarize(env, results, env.Clock.Now().Sub(start))
	return runErr
}

// errDone ends the elector's loop once the one-shot work is finished.
var errDone = errors.New("done")

func summarize(env *Env, results []backfill.Result, took time.Duration) {
	var pages, requests, inserted, updated, quarantined int
	for _, r := range results {
		pages += r.Pages
		requests += r.Requests
		inserted += r.Inserted
		updated += r.Updated
		quarantined += r.Quarantined
	}
	fmt.Fprintf(env.Stdout, "backfill: %d series, %d bars stored (%d new, %d updated), %d pages, %d requests, %d quarantined, in %s\n",
		len(results), inserted+updated, inserted, updated, pages, requests, quarantined, took.Round(time.Second))
	for _, r := range results {
		for _, u := range r.Unavailable {
			fmt.Fprintf(env.Stdout, "  %s: %s..%s %s (%s)\n", r.Series, u.From.UTC().Format(time.RFC3339), u.To.UTC().Format(time.RFC3339), u.State, u.Error)
		}
	}
}
