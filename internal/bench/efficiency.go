package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// simulator is an AllTick simulator served on a loopback port.
type simulator struct {
	srv  *sim.Server
	url  string
	http *http.Server
	done chan struct{}
}

func startSim(ctx context.Context, seed uint64, p plan.Plan) (*simulator, error) {
	srv, err := sim.New(sim.Config{Seed: seed, Plan: p, RootVendor: vendor.AllTick})
	if err != nil {
		return nil, err
	}
	if err := srv.RegisterVendor(vendor.AllTick, sim.AllTick); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the simulator: %w", err)
	}
	s := &simulator{srv: srv, url: "http://" + ln.Addr().String(), done: make(chan struct{}),
		http: &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // ErrServerClosed after stop
	}()
	return s, nil
}

func (s *simulator) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	<-s.done
}

// history returns the simulator's history-endpoint counters.
func (s *simulator) history() sim.EndpointStats {
	for _, e := range s.srv.Core().Stats().Endpoints {
		if e.Endpoint == vendor.EndpointHistory {
			return e
		}
	}
	return sim.EndpointStats{}
}

// violations sums every plan refusal of every endpoint.
func (s *simulator) violations() (uint64, map[sim.Reason]uint64) {
	t := s.srv.Core().Stats().Total
	var n uint64
	for _, v := range t.Refused {
		n += v
	}
	return n, t.Refused
}

// cryptoSeries names n always-open AllTick crypto series of timeframe tf.
func cryptoSeries(n int, tf vendor.Timeframe) []vendor.Series {
	out := make([]vendor.Series, n)
	for i := range out {
		out[i] = vendor.Series{Vendor: vendor.AllTick, Symbol: fmt.Sprintf("B%03dUSDT", i), Timeframe: tf}
	}
	return out
}

// Efficiency is one plan's measured use.
type Efficiency struct {
	Plan string
	// Margin is the governor's margin for this run; 0 is syncd's default.
	Margin time.Duration
	// Rate is the most history requests per second the plan allows when
	// nothing else is polled.
	Rate float64
	For  time.Duration
	// Made counts history requests that reached the simulator while work was
	// queued; Allowed is Rate × For.
	Made    uint64
	Allowed float64
	// Violations are the simulator's plan refusals over the whole run, by reason.
	Violations uint64
	Reasons    map[sim.Reason]uint64
	// GovernorAlone counts the grants a second governor with the same plan
	// gave in the same time to callers that do nothing else: the ceiling the
	// governor itself sets, without HTTP or database.
	GovernorAlone uint64
	// Spaced is set when the plan spaces history requests (a minimum time
	// between two), as every AllTick plan does, rather than only counting
	// them over windows.
	Spaced bool
	// Beside marks a run measured beside the targets, not against one (see
	// Config.SpacedPlan).
	Beside bool
}

// Label names the run: the plan, and the margin when it is not the default.
func (e Efficiency) Label() string {
	if e.Margin == 0 {
		return e.Plan
	}
	return fmt.Sprintf("%s, margin %s", e.Plan, e.Margin)
}

// marginCeiling is the most of the plan's rate a governor padding each
// spacing with its margin can use: spacing ÷ (spacing + margin).
func (e Efficiency) marginCeiling() float64 {
	if e.Rate <= 0 {
		return 0
	}
	m := e.Margin
	if m == 0 {
		m = quota.DefaultMargin
	}
	spacing := time.Duration(float64(time.Second) / e.Rate)
	return float64(spacing) / float64(spacing+m)
}

// GovernorRatio is GovernorAlone ÷ Allowed.
func (e Efficiency) GovernorRatio() float64 {
	if e.Allowed <= 0 {
		return 0
	}
	return float64(e.GovernorAlone) / e.Allowed
}

// Ratio is Made ÷ Allowed.
func (e Efficiency) Ratio() float64 {
	if e.Allowed <= 0 {
		return 0
	}
	return float64(e.Made) / e.Allowed
}

// historyRate is the plan's most history requests per second with no other
// traffic: the formula of the benchmark issue without the live terms.
func historyRate(p plan.Plan) float64 {
	iv := p.MinInterval(vendor.EndpointHistory)
	rate := 0.0
	if iv > 0 {
		rate = float64(time.Second) / float64(iv)
	}
	if p.PerDay > 0 {
		daily := float64(p.PerDay) / 86400
		if rate == 0 || daily < rate {
			rate = daily
		}
	}
	return rate
}

// measureEfficiency keeps far more history queued than the plan can serve in
// cfg.EfficiencyFor, through the real governor (with margin; 0: its default),
// client and backfill engine into the real store, and counts what arrived at
// the simulator.
func measureEfficiency(ctx context.Context, db *database, cfg Config, planName string, margin time.Duration) (Efficiency, error) {
	p, err := plan.Lookup(vendor.AllTick, planName)
	if err != nil {
		return Efficiency{}, err
	}
	e := Efficiency{Plan: planName, Margin: margin, Rate: historyRate(p), For: cfg.EfficiencyFor,
		Spaced: max(p.Spacing[vendor.EndpointHistory], p.GlobalSpacing) > 0}
	if e.Rate <= 0 {
		return e, errors.New("the plan sets no history rate to measure against")
	}
	simu, err := startSim(ctx, cfg.Seed, p)
	if err != nil {
		return e, err
	}
	defer simu.stop()
	st, err := db.store(ctx, "eff")
	if err != nil {
		return e, err
	}
	defer st.Close()
	gov, err := quota.New(quota.Config{Plan: p, Logger: cfg.Logger, Margin: margin})
	if err != nil {
		return e, err
	}
	client, err := alltick.New(alltick.Config{BaseURL: simu.url, Token: secret.New("bench-token"), Gate: gov,
		BatchMax: p.BatchMax, Logger: cfg.Logger})
	if err != nil {
		return e, err
	}
	// Enough series and history that every series always has a page to ask
	// for: the governor, not the engine, must be the bottleneck.
	series := cryptoSeries(32, vendor.TF1m)
	engine, err := backfill.New(backfill.Config{Client: client, Store: st, Horizon: time.Now().AddDate(-2, 0, 0),
		Logger: cfg.Logger, Lane: gov.Lane})
	if err != nil {
		return e, err
	}
	alone, err := quota.New(quota.Config{Plan: p, Margin: margin})
	if err != nil {
		return e, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var grants atomic.Uint64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() { _, _ = engine.Run(runCtx, series) })
	for range 4 {
		wg.Go(func() {
			for {
				sent, err := alone.Acquire(runCtx, vendor.EndpointHistory, 1)
				if err != nil {
					return
				}
				sent() // nothing is sent: the grant alone is what is measured
				grants.Add(1)
			}
		})
	}
	t := time.NewTimer(cfg.EfficiencyFor)
	select {
	case <-ctx.Done():
		t.Stop()
		return e, ctx.Err()
	case <-t.C:
	}
	e.For = time.Since(start)
	e.Made = simu.history().Requests
	e.GovernorAlone = grants.Load()
	e.Allowed = e.Rate * e.For.Seconds()
	cancel()
	wg.Wait()
	e.Violations, e.Reasons = simu.violations()
	cfg.Logger.Info("plan efficiency measured", zap.String("plan", e.Label()), zap.Uint64("made", e.Made),
		zap.Float64("allowed", e.Allowed), zap.Uint64("violations", e.Violations))
	return e, nil
}

// reasonList renders refusal reasons in a stable order.
func reasonList(m map[sim.Reason]uint64) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, fmt.Sprintf("%s %d", k, v))
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}
