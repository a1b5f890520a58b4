package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/logging"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/store"
	"github.com/syncd/syncd/internal/vendor"
)

// buildGate builds the quota governor for the configured plan, its daily
// count persisted in the store.
func buildGate(_ context.Context, env *Env, st *store.Store) (gate, error) {
	p, err := plan.Lookup(env.Config.Vendor, env.Config.Plan)
	if err != nil {
		return nil, err
	}
	return quota.New(quota.Config{Plan: p, KeyFingerprint: env.Config.VendorToken.Fingerprint(), Usage: st,
		Clock: env.Clock, Logger: logging.Component(env.Log, "quota")})
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
	if minIv := p.MinInterval(vendor.EndpointLatest); cfg.PollInterval > 0 && cfg.PollInterval < minIv {
		return []config.Problem{{Var: config.EnvPollInterval,
			Message: fmt.Sprintf("%s is faster than the %s %s plan allows for latest bars (%s)", cfg.PollInterval, cfg.Vendor, p.Name, minIv),
			Example: minIv.String()}}
	}
	return nil
}
