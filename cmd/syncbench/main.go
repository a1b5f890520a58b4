// Command syncbench runs syncd's end-to-end benchmark (internal/bench) and
// writes docs/benchmarks.md. It is a separate binary so that the benchmark
// harness, its simulator-in-process and its psql/Docker assumptions stay out
// of the syncd users install. `make bench` runs it through scripts/bench.sh,
// which provides PostgreSQL in Docker.
//
//	syncbench -db postgres://… [-syncd bin/syncd] [-psql "psql -d …"] [-quick] [-out docs/benchmarks.md]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/syncd/syncd/internal/bench"
	"github.com/syncd/syncd/internal/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("syncbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg bench.Config
	var psql, out, phases string
	fs.StringVar(&cfg.DatabaseURL, "db", os.Getenv("SYNCBENCH_DATABASE_URL"), "PostgreSQL URL to measure against (default $SYNCBENCH_DATABASE_URL); phases use schemas of their own")
	fs.StringVar(&cfg.Syncd, "syncd", "bin/syncd", "syncd binary for the pipeline phase (make build)")
	fs.StringVar(&psql, "psql", "auto", `command running psql on that database, split on spaces, e.g. "docker exec -i pg psql -U syncd -d syncd"; "auto": psql from PATH with -db's URL; "none": COPY through pgx`)
	fs.StringVar(&out, "out", "docs/benchmarks.md", "where to write the report; - for stdout")
	fs.BoolVar(&cfg.Quick, "quick", false, "development sizes (about a minute in all); the report says so")
	fs.DurationVar(&cfg.EfficiencyFor, "efficiency-for", 0, "how long each plan-efficiency run keeps work queued (default 60s, quick 8s)")
	fs.StringVar(&cfg.FastPlan, "fast-plan", "", "custom plan measured against the efficiency target beside AllTick basic (default "+bench.DefaultFastPlan+")")
	fs.StringVar(&cfg.SpacedPlan, "spaced-plan", "", "custom plan measured beside the targets, spacing history requests as AllTick does (default "+bench.DefaultSpacedPlan+"; none: skip)")
	fs.DurationVar(&cfg.FastMargin, "fast-margin", 0, "governor margin of a second spaced-plan run (default 1ms; negative: no second run)")
	fs.IntVar(&cfg.PipelineBars, "pipeline-bars", 0, "1m bars the unthrottled backfill stores (default 5000000, quick 300000)")
	fs.IntVar(&cfg.PipelineSeries, "pipeline-series", 0, "series they are spread over (default 50, quick 20)")
	fs.IntVar(&cfg.MemoryAt, "memory-at", 0, "bars served at which RSS is reported besides the peak (default 1000000, quick 100000)")
	fs.IntVar(&cfg.PollGroups, "poll-groups", 0, "series per poll tick (default 500)")
	fs.IntVar(&cfg.PollTicks, "poll-ticks", 0, "poll ticks measured (default 200, quick 50)")
	fs.StringVar(&phases, "phases", "", "comma list of phases to run: efficiency, poll, pipeline (default all)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "simulator seed")
	fs.StringVar(&cfg.Commit, "commit", "", "commit measured (default: git describe --always --dirty)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stderr, "syncbench: -db is required (scripts/bench.sh starts PostgreSQL in Docker and passes it)")
		return 2
	}
	if cfg.Quick {
		quick(&cfg)
	}
	if phases != "" {
		cfg.Phases = strings.Split(phases, ",")
	}
	switch psql {
	case "none":
	case "auto":
		if path, err := exec.LookPath("psql"); err == nil {
			cfg.PSQL = []string{path, "-d", cfg.DatabaseURL}
		}
	default:
		cfg.PSQL = strings.Fields(psql)
	}
	if cfg.Commit == "" {
		cfg.Commit = gitDescribe(ctx)
	}
	root, err := logging.New(logging.Options{Level: zapcore.InfoLevel, Format: logging.FormatConsole, Output: stderr})
	if err != nil {
		fmt.Fprintln(stderr, "syncbench:", err)
		return 1
	}
	cfg.Logger = root.Named("bench")
	rep, runErr := bench.Run(ctx, cfg)
	if rep == nil {
		fmt.Fprintln(stderr, "syncbench:", runErr)
		return 1
	}
	if err := write(out, rep, strings.Join(append([]string{"syncbench"}, redactArgs(args)...), " ")); err != nil {
		fmt.Fprintln(stderr, "syncbench:", err)
		return 1
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "syncbench: some phases failed (the report lists them):", runErr)
		return 1
	}
	return 0
}

// quick fills the sizes not set on the command line with development ones.
func quick(cfg *bench.Config) {
	if cfg.EfficiencyFor == 0 {
		cfg.EfficiencyFor = 8 * time.Second
	}
	if cfg.PipelineBars == 0 {
		cfg.PipelineBars = 300_000
	}
	if cfg.PipelineSeries == 0 {
		cfg.PipelineSeries = 20
	}
	if cfg.MemoryAt == 0 {
		cfg.MemoryAt = 100_000
	}
	if cfg.PollTicks == 0 {
		cfg.PollTicks = 50
	}
}

func write(path string, rep *bench.Report, command string) error {
	if path == "-" {
		return rep.Markdown(os.Stdout, command)
	}
	f, err := os.Create(path) //nolint:gosec // the report goes where the operator says
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := rep.Markdown(f, command); err != nil {
		_ = f.Close()
		return fmt.Errorf("write report: %w", err)
	}
	return f.Close()
}

// redactArgs keeps connection strings and commands that may hold a password
// out of the report.
func redactArgs(args []string) []string {
	out := make([]string, 0, len(args))
	skip := false
	for _, a := range args {
		if skip {
			out = append(out, "…")
			skip = false
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "db" || name == "psql" {
			if hasValue {
				out = append(out, "-"+name+"=…")
			} else {
				out = append(out, "-"+name)
				skip = true
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

func gitDescribe(ctx context.Context) string {
	b, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
