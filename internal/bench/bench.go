// Package bench is syncd's end-to-end benchmark: in one run, against the
// in-process vendor simulator and a real PostgreSQL, it measures how much of a
// rate-limit plan the governor and backfill engine use, how fast the
// unthrottled pipeline stores history compared with a plain COPY of the same
// rows, how long a live poll tick takes, and how much memory a large backfill
// needs, then writes docs/benchmarks.md. cmd/syncbench is its command line.
//
// The pipeline phase runs the real `syncd backfill` binary as a child process,
// so its memory is syncd's alone (the simulator stays in this process) and the
// figure is the one a user gets.
package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
)

// Config sets up a run. Zero values take the documented defaults.
type Config struct {
	// DatabaseURL is the PostgreSQL to measure against (required). Every phase
	// works in a schema of its own, dropped at the end.
	DatabaseURL string
	// PSQL is the command that runs psql connected to that database, e.g.
	// {"docker", "exec", "-i", "pg", "psql", "-U", "syncd", "-d", "syncd"}.
	// Empty: the COPY reference streams the same CSV through pgx's COPY FROM
	// STDIN instead (what psql \copy does, without psql).
	PSQL []string
	// Syncd is the syncd binary the pipeline phase runs (required for it).
	Syncd string
	// Quick marks the report as a development run.
	Quick bool

	// EfficiencyFor is how long each plan-efficiency run keeps work queued;
	// default 60 s.
	EfficiencyFor time.Duration
	// FastPlan is the custom plan of at least 50 requests/s measured against
	// the efficiency target beside AllTick basic; default 50 a second and
	// 3000 a minute, counted over sliding windows as such limits are.
	FastPlan string
	// SpacedPlan is measured beside the targets: the same rate with history
	// requests also spaced 20 ms apart, the way AllTick's plans space theirs.
	// There the governor's margin, added to every spacing, costs the most,
	// and the planning table's fast AllTick plans take their efficiency from
	// it. "none" skips it.
	SpacedPlan string
	// FastMargin is the governor margin (SYNCD_QUOTA_MARGIN) of a second
	// SpacedPlan run beside the one at syncd's default: on loopback the trip
	// hardly varies, so this shows what the governor does once the margin
	// fits the network. Default 1 ms; negative skips the run.
	FastMargin time.Duration
	// PipelineBars and PipelineSeries size the unthrottled backfill; defaults
	// 5,000,000 bars over 50 series.
	PipelineBars, PipelineSeries int
	// MemoryAt is the bar count at which RSS is reported besides the peak;
	// default 1,000,000.
	MemoryAt int
	// PollGroups and PollTicks size the poll-tick phase; defaults 500 and 200.
	PollGroups, PollTicks int
	// Phases limits the run to some of "efficiency", "poll" and "pipeline";
	// empty runs them all.
	Phases []string
	// Seed selects the simulator's price paths.
	Seed uint64
	// Commit names the code measured (git describe); "" means unknown.
	Commit string
	Logger *zap.Logger
}

// The custom plans of the efficiency runs (Config.FastPlan, SpacedPlan).
const (
	DefaultFastPlan   = "custom:per_second=50,per_minute=3000"
	DefaultSpacedPlan = "custom:per_second=50,per_minute=3000,history=20ms"
)

func (c *Config) defaults() error {
	if c.DatabaseURL == "" {
		return errors.New("configure benchmark: a database URL is required")
	}
	if c.EfficiencyFor <= 0 {
		c.EfficiencyFor = time.Minute
	}
	if c.FastPlan == "" {
		c.FastPlan = DefaultFastPlan
	}
	if c.SpacedPlan == "" {
		c.SpacedPlan = DefaultSpacedPlan
	}
	if c.FastMargin == 0 {
		c.FastMargin = time.Millisecond
	}
	if c.PipelineBars <= 0 {
		c.PipelineBars = 5_000_000
	}
	if c.PipelineSeries <= 0 {
		c.PipelineSeries = 50
	}
	if c.MemoryAt <= 0 {
		c.MemoryAt = 1_000_000
	}
	if c.PollGroups <= 0 {
		c.PollGroups = 500
	}
	if c.PollTicks <= 0 {
		c.PollTicks = 200
	}
	if c.Commit == "" {
		c.Commit = "unknown"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return nil
}

// runs reports whether the phase is to be measured.
func (c *Config) runs(phase string) bool {
	return len(c.Phases) == 0 || slices.Contains(c.Phases, phase)
}

// Report is everything one run measured.
type Report struct {
	Started  time.Time
	Took     time.Duration
	Quick    bool
	Commit   string
	Machine  Machine
	Postgres string

	Efficiency []Efficiency
	Pipeline   *Pipeline
	Poll       *Poll
	Plans      []PlanTime
	// Errors are phases that failed; the others are still reported.
	Errors []string
}

// Run measures every phase in turn. A phase that fails is recorded in the
// report and the others still run; the error is non-nil when any failed.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	rep := &Report{Started: time.Now().UTC(), Quick: cfg.Quick, Commit: cfg.Commit, Machine: ReadMachine()}
	db, err := openDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer db.close()
	rep.Postgres = db.version
	var errs []error
	fail := func(phase string, err error) {
		log.Error("benchmark phase failed", zap.String("phase", phase), zap.Error(err))
		rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", phase, err))
		errs = append(errs, fmt.Errorf("%s: %w", phase, err))
	}

	type effRun struct {
		plan   string
		margin time.Duration // 0: the governor's default
		beside bool          // not measured against a target
	}
	runs := []effRun{{plan: "basic"}, {plan: cfg.FastPlan}}
	if cfg.SpacedPlan != "none" {
		runs = append(runs, effRun{plan: cfg.SpacedPlan, beside: true})
		if cfg.FastMargin > 0 {
			runs = append(runs, effRun{plan: cfg.SpacedPlan, margin: cfg.FastMargin, beside: true})
		}
	}
	for _, run := range runs {
		if !cfg.runs("efficiency") {
			break
		}
		log.Info("measuring plan efficiency", zap.String("plan", run.plan), zap.Duration("margin", run.margin), zap.Duration("for", cfg.EfficiencyFor))
		e, err := measureEfficiency(ctx, db, cfg, run.plan, run.margin)
		if err != nil {
			fail("plan efficiency "+run.plan, err)
			continue
		}
		e.Beside = run.beside
		rep.Efficiency = append(rep.Efficiency, e)
	}
	if cfg.runs("poll") {
		log.Info("measuring poll ticks", zap.Int("groups", cfg.PollGroups), zap.Int("ticks", cfg.PollTicks))
		if p, err := measurePoll(ctx, db, cfg); err != nil {
			fail("poll tick", err)
		} else {
			rep.Poll = p
		}
	}
	if cfg.runs("pipeline") {
		log.Info("measuring the unthrottled pipeline", zap.Int("bars", cfg.PipelineBars), zap.Int("series", cfg.PipelineSeries))
		if p, err := measurePipeline(ctx, db, cfg); err != nil {
			fail("pipeline", err)
		} else {
			rep.Pipeline = p
		}
	}
	rep.Plans = planTimes(rep.Efficiency, rep.Pipeline)
	rep.Took = time.Since(rep.Started).Round(time.Second)
	return rep, errors.Join(errs...)
}
