package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// command is one subcommand.
type command struct {
	// name is what users type.
	name string
	// summary is the one line `syncd help` shows.
	summary string
	// details is the paragraph `syncd help <name>` adds.
	details string
	// scope says which variables the command reads; 0 means none (help,
	// version), and then no logger is built either.
	scope config.Scope
	// daemon commands run until stopped: a signal is their normal end and
	// exits 0. For one-shot commands a signal means the work is unfinished,
	// which exits 1.
	daemon bool
	// flags registers the command's own flags, writing into env; nil when it
	// has none besides -h.
	flags func(fs *flag.FlagSet, env *Env)
	// check validates the parsed flags; problems exit 2.
	check func(env *Env) []string
	// run does the work.
	run func(ctx context.Context, env *Env) error
}

// defaultCommand runs when syncd is started without one, as in a container.
const defaultCommand = "run"

// commands returns the command table in the order help lists it. The
// returned hooks are the package-level ones in hooks.go.
func commands() []*command {
	return []*command{
		{
			name:    "run",
			summary: "migrate, then backfill and poll until SIGINT/SIGTERM (the default)",
			details: "Applies migrations, brings every series to its horizon and keeps it current by polling the\n" +
				"vendor's latest bars at the plan's pace. Stops gracefully on SIGINT or SIGTERM (a second\n" +
				"signal exits at once).",
			scope:  config.ScopeSync,
			daemon: true,
			run:    runSync,
		},
		{
			name:    "migrate",
			summary: "apply database migrations and exit",
			details: "Creates or upgrades syncd's tables. Safe to run repeatedly; `run` does it too.",
			scope:   config.ScopeDatabase,
			run:     runMigrate,
		},
		{
			name:    "backfill",
			summary: "bring every series to its horizon and exit",
			details: "Walks the vendor's history back to SYNCD_BACKFILL_SINCE for every symbol and timeframe, then\n" +
				"exits. Shows progress bars when stderr is a terminal. Interrupting it is safe: what was\n" +
				"stored stays stored, and the next run continues from there.",
			scope: config.ScopeSync,
			run:   runBackfill,
		},
		{
			name:    "status",
			summary: "show each series' coverage, gaps, lag and last error, and today's quota use",
			details: "Prints a table per series: oldest and newest bar, bar count, open gaps, lag, last error,\n" +
				"and the requests used today against the plan's daily cap. Reads the database only.",
			scope: config.ScopeDatabase,
			flags: func(fs *flag.FlagSet, env *Env) {
				fs.BoolVar(&env.StatusJSON, "json", false, "print JSON for scripts instead of the table")
			},
			run: runStatus,
		},
		{
			name:    "simulate",
			summary: "serve a vendor's API locally, with its plan limits and injected faults",
			details: "Runs the vendor simulator for tests and benchmarks: point SYNCD_VENDOR_URL at it. It reads\n" +
				"only the logging variables; everything else comes from its flags.",
			scope:  config.ScopeBase,
			daemon: true,
			flags:  simulateFlags,
			check:  checkSimulate,
			run:    runSimulate,
		},
		{
			name:    "healthcheck",
			summary: "ask a running syncd's /healthz (or /readyz with -ready); exit 0 healthy, 1 not",
			details: "One GET of http://SYNCD_HTTP_ADDR/healthz (the process answers) or, with -ready, /readyz\n" +
				"(every readiness check passes: database reachable, migrations applied, vendor accepts the key),\n" +
				"for a container's HEALTHCHECK: the image has no shell or curl. A listen address on every\n" +
				"interface (0.0.0.0) is asked on loopback. Exit 0 when it answers 200, 1 otherwise (with\n" +
				"what it answered), 2 for bad flags. -addr asks another address, e.g. the simulator's (it\n" +
				"serves /healthz too). It reads SYNCD_HTTP_ADDR only, builds no logger and logs nothing.",
			flags: healthcheckFlags,
			check: checkHealthcheck,
			run:   healthcheck,
		},
		{
			name:    "version",
			summary: "print version, commit and Go version",
			run:     printVersion,
		},
		{
			name:    "help",
			summary: "show this list, or help for one command",
		},
	}
}

func simulateFlags(fs *flag.FlagSet, env *Env) {
	o := &env.Simulate
	fs.StringVar(&o.Vendor, "vendor", vendor.AllTick, "wire format to serve: "+strings.Join(vendor.Names, ", "))
	fs.StringVar(&o.Plan, "plan", "", "rate-limit plan to enforce: a plan name or a custom spec; empty means the vendor's free plan (QOS: default)")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:9400", "`host:port` to serve on")
	fs.Int64Var(&o.Seed, "seed", 1, "seed for generated prices and faults, for reproducible runs")
	fs.StringVar(&o.Faults, "faults", "", "faults to inject, as the simulator's fault `spec`; empty injects none")
}

func checkSimulate(env *Env) []string {
	o := &env.Simulate
	var problems []string
	o.Vendor = strings.ToLower(strings.TrimSpace(o.Vendor))
	if !slices.Contains(vendor.Names, o.Vendor) {
		problems = append(problems, fmt.Sprintf("-vendor: %q is not a supported vendor (%s)", o.Vendor, strings.Join(vendor.Names, ", ")))
	}
	if strings.TrimSpace(o.Plan) == "" {
		o.Plan = plan.DefaultName(o.Vendor)
	}
	if _, err := plan.Lookup(o.Vendor, o.Plan); err != nil && slices.Contains(vendor.Names, o.Vendor) {
		problems = append(problems, fmt.Sprintf("-plan: %v", err))
	}
	if err := config.CheckListenAddr(o.Listen); err != nil {
		problems = append(problems, fmt.Sprintf("-listen: %q %s (example: 127.0.0.1:9400)", o.Listen, err))
	}
	return problems
}

func printVersion(_ context.Context, env *Env) error {
	_, err := fmt.Fprintln(env.Stdout, env.Build.String())
	if err != nil {
		return fmt.Errorf("print version: %w", err)
	}
	return nil
}
