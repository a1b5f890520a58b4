package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/logging"
	"github.com/syncd/syncd/internal/metrics"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/store"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/infoway"
	"github.com/syncd/syncd/internal/vendors/qos"
	"github.com/syncd/syncd/internal/vendors/sim"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// buildGate builds the quota governor for the configured plan, its daily
// count persisted in the store and its state exported in m.
func buildGate(_ context.Context, env *Env, st *store.Store, m *metrics.Metrics) (gate, error) {
	p, err := plan.Lookup(env.Config.Vendor, env.Config.Plan)
	if err != nil {
		return nil, err
	}
	g, err := quota.New(quota.Config{Plan: p, KeyFingerprint: env.Config.VendorToken.Fingerprint(), Usage: st,
		Clock: env.Clock, Logger: logging.Component(env.Log, "quota"), Margin: env.Config.QuotaMargin,
		OnWait: func(ep vendor.Endpoint, l quota.Lane, d time.Duration) { m.ObserveQuotaWait(ep, l.String(), d) }})
	if err != nil {
		return nil, err
	}
	m.SetQuota(func() metrics.QuotaStats {
		s := g.Stats()
		return metrics.QuotaStats{Vendor: p.Vendor, Used: s.UsedToday, Cap: s.CapToday, Exhausted: !s.ExhaustedUntil.IsZero(),
			Pushbacks: s.Pushbacks, Episodes: s.Episodes}
	})
	return g, nil
}

// checkPlan rejects an unknown plan, and a poll interval faster than the plan
// allows for the latest-bars endpoint.
func checkPlan(cfg *config.Config) []config.Problem {
	if cfg.Scope < config.ScopeSync || cfg.Vendor == "" || cfg.Plan == "" {
		return nil
	}
	p, err := plan.Lookup(cfg.Vendor, cfg.Plan)
	if err != nil {
		example := "free"
		if names := plan.Names(cfg.Vendor); len(names) > 0 {
			example = strings.Join(names, ", ")
		}
		return []config.Problem{{Var: config.EnvPlan, Message: fmt.Sprintf("%q: %v", cfg.Plan, err), Example: example}}
	}
	var problems []config.Problem
	if minIv := p.MinInterval(vendor.EndpointLatest); cfg.PollInterval > 0 && cfg.PollInterval < minIv {
		problems = append(problems, config.Problem{Var: config.EnvPollInterval,
			Message: fmt.Sprintf("%s is faster than the %s %s plan allows for latest bars (%s)", cfg.PollInterval, cfg.Vendor, p.Name, minIv),
			Example: minIv.String()})
	}
	if minIv := p.MinInterval(vendor.EndpointTrades); cfg.TradesInterval > 0 && cfg.TradesInterval < minIv {
		problems = append(problems, config.Problem{Var: config.EnvTradesInterval,
			Message: fmt.Sprintf("%s is faster than the %s %s plan allows for latest trades (%s)", cfg.TradesInterval, cfg.Vendor, p.Name, minIv),
			Example: minIv.String()})
	}
	return problems
}

// buildVendorClient builds the configured vendor's client on g.
func buildVendorClient(env *Env, g vendor.Gate) (vendorClient, error) {
	cfg := env.Config
	p, err := plan.Lookup(cfg.Vendor, cfg.Plan)
	if err != nil {
		return nil, err
	}
	log := logging.Component(env.Log, cfg.Vendor)
	switch cfg.Vendor {
	case vendor.AllTick:
		return alltick.New(alltick.Config{BaseURL: cfg.VendorURL, Token: cfg.VendorToken, Gate: g, BatchMax: p.BatchMax,
			TradeMax: p.TradeCodesMax, Logger: log})
	case vendor.XdTick:
		return xdtick.New(xdtick.Config{BaseURL: cfg.VendorURL, Token: cfg.VendorToken, Gate: g, BatchMax: p.BatchMax,
			TradeMax: p.TradeCodesMax, Logger: log})
	case vendor.Infoway:
		return infoway.New(infoway.Config{BaseURL: cfg.VendorURL, Token: cfg.VendorToken, Gate: g, BatchMax: p.BatchMax,
			TradeMax: p.TradeCodesMax, Logger: log})
	case vendor.QOS:
		return qos.New(qos.Config{BaseURL: cfg.VendorURL, Token: cfg.VendorToken, Gate: g, BatchMax: p.BatchMax,
			TradeMax: p.TradeCodesMax, Logger: log})
	}
	// Configuration admits only vendor.Names, and each has a case above.
	return nil, fmt.Errorf("build vendor client: no client for vendor %q", cfg.Vendor)
}

// simulate serves the vendor simulator until ctx ends.
func simulate(ctx context.Context, env *Env) error {
	o := env.Simulate
	p, err := plan.Lookup(o.Vendor, o.Plan)
	if err != nil {
		return err
	}
	faults, err := sim.ParseFaults(o.Faults)
	if err != nil {
		return err
	}
	handler, err := sim.Handler(o.Vendor)
	if err != nil {
		return fmt.Errorf("simulate %s: %w", o.Vendor, err)
	}
	srv, err := sim.New(sim.Config{Seed: uint64(o.Seed), Plan: p, Faults: faults, RootVendor: o.Vendor, //nolint:gosec // any seed will do
		Logger: logging.Component(env.Log, "sim"), Clock: env.Clock})
	if err != nil {
		return err
	}
	if err := srv.RegisterVendor(o.Vendor, handler); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	env.Log.Info("simulator serving", zap.String("vendor", o.Vendor), zap.String("plan", p.Name), zap.String("addr", ln.Addr().String()),
		zap.String("faults", faults.String()))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}
