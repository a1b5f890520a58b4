package main

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// TestMain starts PostgreSQL for the in-process daemon test and checks that
// no test leaves a goroutine behind.
func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	dbPassword = "pw-LEAK-CANARY-77"
	token      = "tok-LEAK-CANARY-42"
)

var (
	dbEnv   = []string{"SYNCD_DATABASE_URL=postgres://syncd:" + dbPassword + "@db.internal:5432/syncd"}
	syncEnv = append([]string{"SYNCD_VENDOR_TOKEN=" + token, "SYNCD_SYMBOLS=BTCUSDT"}, dbEnv...)
)

type result struct {
	code   int
	stdout string
	stderr string
}

// runReal drives the real command table and hooks, as the binary would.
func runReal(t *testing.T, environ []string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, environ, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// testApp returns an app whose command table is cmds, with a fixed clock.
func testApp(cmds ...*command) (*app, *bytes.Buffer, *bytes.Buffer) {
	var stdout, stderr bytes.Buffer
	return &app{
		commands: cmds,
		clock:    clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
		build:    BuildInfo{Version: "v9.9.9", Commit: "abc1234", GoVersion: "go1.26", Platform: "linux/amd64"},
		stdout:   &stdout,
		stderr:   &stderr,
	}, &stdout, &stderr
}

func TestNoConfigurationExits2NamingTheDatabase(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"run"}, {"backfill"}, {"migrate"}, {"status"}} {
		r := runReal(t, nil, args...)
		require.Equal(t, exitUsage, r.code, args)
		require.Contains(t, r.stderr, "SYNCD_DATABASE_URL: required (example: postgres://syncd:secret@localhost:5432/syncd)", args)
		require.Empty(t, r.stdout)
	}
	r := runReal(t, nil)
	require.Equal(t, "syncd run: invalid configuration:\n"+
		"  SYNCD_DATABASE_URL: required (example: postgres://syncd:secret@localhost:5432/syncd)\n"+
		"  SYNCD_VENDOR_TOKEN: required (example: your-api-key)\n"+
		"  SYNCD_SYMBOLS: required (example: BTCUSDT,ETHUSDT,700.HK)\n"+
		"Run \"syncd help run\" for the variables it reads.\n", r.stderr)

	// migrate and status need only the database.
	r = runReal(t, nil, "migrate")
	require.NotContains(t, r.stderr, "SYNCD_SYMBOLS")
}

func TestBadValueExits2WithoutLeakingSecrets(t *testing.T) {
	t.Parallel()
	r := runReal(t, append([]string{"SYNCD_BACKFILL_SINCE=90x", "SYNCD_TIMEFRAMES=1m,2m"}, syncEnv...), "backfill")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, `SYNCD_BACKFILL_SINCE: "90x" is not a time, date or look-back (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`)
	require.Contains(t, r.stderr, `SYNCD_TIMEFRAMES: "1m,2m" has unknown timeframe "2m"`)
	require.NotContains(t, r.stderr, token)
	require.NotContains(t, r.stderr, dbPassword)
}

func TestSimulateDefaultsToTheVendorsFreePlan(t *testing.T) {
	t.Parallel()
	for _, v := range vendor.Names {
		env := &Env{Simulate: SimulateOptions{Vendor: v, Listen: "127.0.0.1:0"}}
		require.Empty(t, checkSimulate(env), v)
		_, err := plan.Lookup(v, env.Simulate.Plan)
		require.NoError(t, err, v)
	}
}

// A database that cannot be reached fails migrate and status with exit 1 and
// a message naming the redacted URL, never the password.
func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		environ []string
	}{{[]string{"migrate"}, dbEnv}, {[]string{"status"}, dbEnv}, {[]string{"status", "-json"}, dbEnv}, {[]string{"backfill"}, syncEnv}} {
		args := tc.args
		r := runReal(t, tc.environ, args...)
		require.Equal(t, exitFailure, r.code, args)
		require.Contains(t, r.stderr, "connect to postgres://syncd:xxxxx@", args)
		require.NotContains(t, r.stderr, dbPassword)
	}
}

// The daemon waits for a database that is not up yet instead of exiting, and
// still stops cleanly on a signal while it waits.
func TestRunWaitsForTheDatabaseAndStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"run"}, syncEnv, &stdout, &stderr) }()
	cancel(signalError{sig: syscall.SIGTERM})
	require.Equal(t, exitOK, <-done, stderr.String())
	require.NotContains(t, stderr.String(), dbPassword)
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}} {
		r := runReal(t, nil, args...)
		require.Equal(t, exitOK, r.code, args)
		require.Empty(t, r.stderr)
		for _, c := range commands() {
			require.Regexp(t, `(?m)^  `+c.name+` +\S.*$`, r.stdout, "help lists %s with its summary", c.name)
			require.NotContains(t, c.summary, "\n")
		}
	}

	for _, c := range commands() {
		if c.name == "help" {
			continue
		}
		viaHelp := runReal(t, nil, "help", c.name)
		require.Equal(t, exitOK, viaHelp.code, c.name)
		for _, flag := range []string{"-h", "--help"} {
			viaFlag := runReal(t, nil, c.name, flag)
			require.Equal(t, exitOK, viaFlag.code, c.name)
			require.Equal(t, viaHelp.stdout, viaFlag.stdout, c.name)
			require.Empty(t, viaFlag.stderr)
		}
		require.Contains(t, viaHelp.stdout, "syncd "+c.name+": "+c.summary)
		if c.scope != 0 {
			for _, v := range config.Vars(c.scope) {
				require.Contains(t, viaHelp.stdout, v.Name, c.name)
			}
		}
	}
	r := runReal(t, nil, "help", "backfill")
	require.Regexp(t, `(?m)^  SYNCD_BACKFILL_SINCE +30d +backfill horizon`, r.stdout)
	require.Regexp(t, `(?m)^  SYNCD_SYMBOLS +\(required\) +comma list`, r.stdout)
	r = runReal(t, nil, "help", "simulate")
	require.Contains(t, r.stdout, "-vendor string")
	require.NotContains(t, r.stdout, "SYNCD_DATABASE_URL")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, `syncd: unknown command "sync"`},
		{[]string{"--verbose"}, "syncd: unknown flag --verbose; the command comes first"},
		{[]string{"help", "nope"}, `syncd: unknown command "nope"`},
		{[]string{"help", "run", "migrate"}, "help takes at most one command"},
		{[]string{"migrate", "--force"}, "syncd: migrate: flag provided but not defined: -force"},
		{[]string{"migrate", "now"}, `syncd: migrate: unexpected argument "now"`},
		{[]string{"version", "extra"}, `syncd: version: unexpected argument "extra"`},
		{[]string{"simulate", "-seed", "x"}, `invalid value "x" for flag -seed`},
		{[]string{"simulate", "-vendor", "binance", "-listen", "9400"}, "syncd simulate: invalid flags:\n" +
			`  -vendor: "binance" is not a supported vendor (alltick, xdtick, infoway, qos)` + "\n" +
			`  -listen: "9400" is not host:port (example: 127.0.0.1:9400)`},
	} {
		r := runReal(t, nil, tc.args...)
		require.Equal(t, exitUsage, r.code, tc.args)
		require.Contains(t, r.stderr, tc.want, tc.args)
		require.Empty(t, r.stdout, tc.args)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runReal(t, nil, args...)
		require.Equal(t, exitOK, r.code)
		require.Regexp(t, `^syncd \S+ \(commit \S+, go\S+ \S+/\S+\)\n$`, r.stdout)
		require.Contains(t, r.stdout, runtime.Version())
		require.Empty(t, r.stderr)
	}
	require.Equal(t, "syncd v1.0.0 (commit abc, go1.26.8 linux/amd64)",
		BuildInfo{Version: "v1.0.0", Commit: "abc", GoVersion: "go1.26.8", Platform: "linux/amd64"}.String())
	b := buildInfo()
	require.NotEmpty(t, b.Version)
	require.NotEmpty(t, b.Commit)
}

func TestHookReceivesEnv(t *testing.T) {
	t.Parallel()
	var got *Env
	a, stdout, stderr := testApp(&command{
		name: "migrate", scope: config.ScopeDatabase,
		run: func(_ context.Context, env *Env) error {
			got = env
			env.Log.Named("store").Debug("hidden at info")
			_, err := env.Stdout.Write([]byte("applied 3 migrations\n"))
			return err
		},
	})
	a.environ = append([]string{"SYNCD_LOG_FORMAT=console", "SYNCD_SYMBOL=typo", "SYNCD_TEST_PG_IMAGE=x"}, dbEnv...)

	require.Equal(t, exitOK, a.main(t.Context(), []string{"migrate"}))
	require.NotNil(t, got)
	require.Equal(t, config.ScopeDatabase, got.Config.Scope)
	require.Equal(t, "postgres://syncd:xxxxx@db.internal:5432/syncd", got.Config.DatabaseURLRedacted())
	require.NotNil(t, got.Log)
	require.Equal(t, a.clock, got.Clock)
	require.Equal(t, "v9.9.9", got.Build.Version)
	require.Equal(t, "applied 3 migrations\n", stdout.String())

	logs := stderr.String()
	require.Regexp(t, `INFO\tmain\t\S+\tsyncd starting\t.*"scope": "database"`, logs)
	require.Contains(t, logs, "ignoring unknown SYNCD_ variables")
	require.Contains(t, logs, "SYNCD_SYMBOL")
	require.NotContains(t, logs, "SYNCD_TEST_PG_IMAGE")
	require.NotContains(t, logs, "hidden at info")
	require.Contains(t, logs, "syncd stopped")
	require.NotContains(t, logs, dbPassword)
}

func TestHookFailureExits1(t *testing.T) {
	t.Parallel()
	a, _, stderr := testApp(&command{
		name: "status", scope: config.ScopeDatabase,
		run: func(context.Context, *Env) error {
			return errors.New("query sync state: connection refused")
		},
	})
	a.environ = dbEnv
	require.Equal(t, exitFailure, a.main(t.Context(), []string{"status"}))
	require.Contains(t, stderr.String(), `"msg":"command failed"`)
	require.Contains(t, stderr.String(), "syncd status: query sync state: connection refused\n")
}

func TestConfigChecksExit2(t *testing.T) {
	t.Parallel()
	ran := false
	a, _, stderr := testApp(&command{
		name: "run", scope: config.ScopeSync,
		run: func(context.Context, *Env) error { ran = true; return nil },
	})
	a.environ = syncEnv
	a.checks = []config.Check{func(cfg *config.Config) []config.Problem {
		return []config.Problem{{Var: config.EnvPlan, Message: `"` + cfg.Plan + `" is slower than you think`}}
	}}
	require.Equal(t, exitUsage, a.main(t.Context(), nil))
	require.False(t, ran)
	require.Contains(t, stderr.String(), `  SYNCD_PLAN: "free" is slower than you think (example: basic)`)
}

// blockUntilDone is a hook that runs until ctx ends and returns its error.
func blockUntilDone(started chan<- struct{}) func(context.Context, *Env) error {
	return func(ctx context.Context, _ *Env) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
}

func TestSignalStopsDaemonCleanly(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	a, _, stderr := testApp(&command{name: "run", scope: config.ScopeSync, daemon: true, run: blockUntilDone(started)})
	a.environ = syncEnv
	ctx, cancel := context.WithCancelCause(t.Context())
	go func() {
		<-started
		cancel(signalError{sig: syscall.SIGTERM})
	}()
	require.Equal(t, exitOK, a.main(ctx, nil))
	require.Contains(t, stderr.String(), `"msg":"stopping","command":"run","cause":"received terminated"`)
	require.Contains(t, stderr.String(), "syncd stopped")
}

func TestSignalInterruptsOneShot(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	a, _, stderr := testApp(&command{name: "backfill", scope: config.ScopeSync, run: blockUntilDone(started)})
	a.environ = syncEnv
	ctx, cancel := context.WithCancelCause(t.Context())
	go func() {
		<-started
		cancel(signalError{sig: syscall.SIGINT})
	}()
	require.Equal(t, exitFailure, a.main(ctx, []string{"backfill"}))
	require.Contains(t, stderr.String(), "syncd backfill: interrupted (received interrupt) before it finished")
}

func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		a, _, stderr := testApp(&command{
			name: "run", scope: config.ScopeSync, daemon: true,
			run: func(context.Context, *Env) error {
				close(started)
				<-release // ignores cancellation, as a stuck component would
				return nil
			},
		})
		a.environ = append([]string{"SYNCD_SHUTDOWN_TIMEOUT=5s"}, syncEnv...)
		ctx, cancel := context.WithCancelCause(t.Context())
		go func() {
			<-started
			cancel(signalError{sig: syscall.SIGTERM})
		}()
		start := time.Now()
		require.Equal(t, exitFailure, a.main(ctx, nil))
		require.Equal(t, 5*time.Second, time.Since(start), "the bubble's clock moved exactly by the timeout")
		require.Contains(t, stderr.String(), "syncd run: graceful stop timed out after 5s")
		close(release)
	})
}

func TestSignalContext(t *testing.T) {
	t.Parallel()
	ctx, stop := signalContext(&bytes.Buffer{})
	require.NoError(t, ctx.Err())
	stop()
	require.ErrorIs(t, ctx.Err(), context.Canceled)
	var sig signalError
	require.NotErrorAs(t, context.Cause(ctx), &sig, "stop is not a signal")
	require.Equal(t, "received interrupt", signalError{sig: syscall.SIGINT}.Error())
}

func TestLoggerIsNotGlobal(t *testing.T) {
	t.Parallel()
	// The command layer must not install its logger as zap's global one.
	require.Equal(t, zap.NewNop().Core(), zap.L().Core()) //nolint:forbidigo // checks that nobody replaced the global
}

func TestPlanChecks(t *testing.T) {
	t.Parallel()
	env := append(append([]string{}, syncEnv...), "SYNCD_PLAN=gold")
	r := runReal(t, env, "backfill")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, `SYNCD_PLAN: "gold": unknown alltick plan "gold"`)
	require.Contains(t, r.stderr, "basic, free, premium")

	env = append(append([]string{}, syncEnv...), "SYNCD_PLAN=basic", "SYNCD_POLL_INTERVAL=1s")
	r = runReal(t, env, "backfill")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "SYNCD_POLL_INTERVAL: 1s is faster than the alltick basic plan allows for latest bars (3s)")
}

func TestTradesIntervalPlanCheck(t *testing.T) {
	t.Parallel()
	p, err := plan.Lookup("alltick", "free")
	require.NoError(t, err)
	minIv := p.MinInterval(vendor.EndpointTrades)
	env := append(append([]string{}, syncEnv...), "SYNCD_PLAN=free", "SYNCD_TRADES=on", "SYNCD_TRADES_INTERVAL=1s")
	r := runReal(t, env, "backfill")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "SYNCD_TRADES_INTERVAL: 1s is faster than the alltick free plan allows for latest trades ("+minIv.String()+")")
}
