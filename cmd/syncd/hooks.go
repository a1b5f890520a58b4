package main

import (
	"context"
	"fmt"
	"io"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/logging"
	"github.com/syncd/syncd/internal/status"
	"github.com/syncd/syncd/internal/store"
)

// This file is where the subsystems get wired in. Each hook runs after the
// command's configuration has been loaded and validated for its scope and the
// logger built; it returns when the work is done or ctx is cancelled (SIGINT
// or SIGTERM). A hook returns nil on success; any error exits 1 and is
// printed. A daemon hook (runSync) that returns ctx's error after a signal
// counts as a clean stop.

// configChecks validate what needs other packages: plan presets, timeframes a
// vendor cannot serve, a poll faster than the plan allows. They run inside
// config.Load and their problems exit 2 with the built-in ones. See
// config.Check for the contract (respect cfg.Scope, skip zero fields).
var configChecks = []config.Check{checkPlan}

// Env is what a hook receives.
type Env struct {
	// Config is valid for the command's scope; fields outside it are zero.
	Config *config.Config
	// Log is the root logger; derive a child per component with
	// logging.Component(env.Log, "poller").
	Log *zap.Logger
	// Level gates Log and can be changed at run time (an HTTP handler).
	Level zap.AtomicLevel
	// Clock is the time source to hand to components.
	Clock clock.Clock
	// Stdout receives a command's output proper (the status table).
	Stdout io.Writer
	// Stderr receives logs and progress bars.
	Stderr io.Writer
	// Terminal is true when Stderr is a terminal: backfill shows progress
	// bars only then.
	Terminal bool
	// Build identifies this binary (for the User-Agent, metrics, logs).
	Build BuildInfo
	// Simulate holds the simulate command's flags; zero for other commands.
	Simulate SimulateOptions
	// StatusJSON is status's -json flag.
	StatusJSON bool
	// Healthcheck holds the healthcheck command's flags.
	Healthcheck HealthcheckOptions
	// Getenv reads the process environment, for commands that read no
	// configuration scope but one variable (healthcheck).
	Getenv func(key string) (string, bool)
}

// SimulateOptions are the flags of `syncd simulate`.
type SimulateOptions struct {
	// Vendor is the wire format served, one of vendor.Names.
	Vendor string
	// Plan is the rate-limit plan enforced, by name or custom spec.
	Plan string
	// Listen is the host:port to serve on.
	Listen string
	// Seed makes generated prices and faults reproducible.
	Seed int64
	// Faults is the fault-injection spec, passed to the simulator as given;
	// "" injects none.
	Faults string
}

// runSync is `syncd run`: migrate, then backfill and poll until ctx ends.
func runSync(ctx context.Context, env *Env) error { return daemon(ctx, env) }

// runMigrate is `syncd migrate`: apply migrations and return.
func runMigrate(ctx context.Context, env *Env) error {
	st, err := openStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	env.Log.Info("database migrated", zap.Int("applied", n))
	return nil
}

// openStore connects to SYNCD_DATABASE_URL.
func openStore(ctx context.Context, env *Env) (*store.Store, error) {
	st, err := store.Open(ctx, store.Config{URL: env.Config.DatabaseURL.Reveal(), Logger: logging.Component(env.Log, "store")})
	if err != nil {
		return nil, err
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("connect to %s: %w", env.Config.DatabaseURLRedacted(), err)
	}
	return st, nil
}

// runBackfill is `syncd backfill`: bring every series to its horizon and
// return; progress bars on env.Stderr when env.Terminal.
func runBackfill(ctx context.Context, env *Env) error { return oneShotBackfill(ctx, env) }

// runStatus is `syncd status`: print a table per series to env.Stdout.
func runStatus(ctx context.Context, env *Env) error {
	st, err := openStore(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	ok, err := st.Migrated(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return store.ErrNotMigrated
	}
	report, err := st.Status(ctx, env.Clock.Now())
	if err != nil {
		return err
	}
	if env.StatusJSON {
		return status.WriteJSON(env.Stdout, report)
	}
	return status.WriteTable(env.Stdout, report)
}

// runSimulate is `syncd simulate`: serve env.Simulate.Vendor's wire format on
// env.Simulate.Listen until ctx ends.
func runSimulate(ctx context.Context, env *Env) error { return simulate(ctx, env) }
