package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.uber.org/zap"
	"golang.org/x/term"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/config"
	"github.com/syncd/syncd/internal/logging"
)

// run is the whole command line in-process: args without the program name,
// environ as os.Environ gives it. It returns the exit code.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	clk, err := processClock(environ)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "syncd: %v\n", err)
		return exitUsage
	}
	a := &app{
		commands: commands(),
		checks:   configChecks,
		clock:    clk,
		build:    buildInfo(),
		environ:  environ,
		stdout:   stdout,
		stderr:   stderr,
		terminal: isTerminal(stderr),
	}
	return a.main(ctx, args)
}

// app holds what run decides once, so tests can swap the command table,
// clock and streams.
type app struct {
	commands []*command
	checks   []config.Check
	clock    clock.Clock
	build    BuildInfo
	environ  []string
	stdout   io.Writer
	stderr   io.Writer
	terminal bool
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) main(ctx context.Context, args []string) int {
	name := defaultCommand
	if len(args) > 0 {
		switch arg := args[0]; {
		case arg == "-h" || arg == "-help" || arg == "--help":
			a.printHelp(a.stdout)
			return exitOK
		case arg == "-version" || arg == "--version":
			name, args = "version", args[1:]
		case strings.HasPrefix(arg, "-"):
			a.usageErrorf("unknown flag %s; the command comes first: syncd <command> [flags]", arg)
			return exitUsage
		default:
			name, args = arg, args[1:]
		}
	}
	if name == "help" {
		return a.help(args)
	}
	cmd := a.lookup(name)
	if cmd == nil {
		a.usageErrorf("unknown command %q", name)
		return exitUsage
	}
	return a.runCommand(ctx, cmd, args)
}

func (a *app) lookup(name string) *command {
	for _, c := range a.commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (a *app) usageErrorf(format string, args ...any) {
	_, _ = fmt.Fprintf(a.stderr, "syncd: "+format+"\n", args...)
	_, _ = fmt.Fprintln(a.stderr, `Run "syncd help" for the list of commands.`)
}

func (a *app) help(args []string) int {
	switch len(args) {
	case 0:
		a.printHelp(a.stdout)
		return exitOK
	case 1:
		cmd := a.lookup(args[0])
		if cmd == nil {
			a.usageErrorf("unknown command %q", args[0])
			return exitUsage
		}
		a.printCommandHelp(a.stdout, cmd, a.flagSet(cmd, &Env{}))
		return exitOK
	default:
		a.usageErrorf("help takes at most one command")
		return exitUsage
	}
}

// flagSet builds the command's flags, bound to env.
func (a *app) flagSet(cmd *command, env *Env) *flag.FlagSet {
	fs := flag.NewFlagSet("syncd "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed by runCommand, help by printCommandHelp
	if cmd.flags != nil {
		cmd.flags(fs, env)
	}
	return fs
}

func (a *app) runCommand(ctx context.Context, cmd *command, args []string) int {
	environ := environMap(a.environ)
	env := &Env{
		Getenv: func(key string) (string, bool) {
			v, ok := environ[key]
			return v, ok
		},
		Clock:    a.clock,
		Stdout:   a.stdout,
		Stderr:   a.stderr,
		Terminal: a.terminal,
		Build:    a.build,
	}
	fs := a.flagSet(cmd, env)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.printCommandHelp(a.stdout, cmd, fs)
			return exitOK
		}
		a.usageErrorf("%s: %v", cmd.name, err)
		return exitUsage
	}
	if fs.NArg() > 0 {
		a.usageErrorf("%s: unexpected argument %q", cmd.name, fs.Arg(0))
		return exitUsage
	}
	if cmd.check != nil {
		if problems := cmd.check(env); len(problems) > 0 {
			_, _ = fmt.Fprintf(a.stderr, "syncd %s: invalid flags:\n  %s\n", cmd.name, strings.Join(problems, "\n  "))
			return exitUsage
		}
	}
	if cmd.scope == 0 {
		return a.finish(ctx, cmd, env, cmd.run(ctx, env))
	}

	cfg, err := config.Load(ctx, envconfig.MapLookuper(environ), a.clock, cmd.scope, a.checks...)
	if err != nil {
		if cfgErr, ok := errors.AsType[*config.Error](err); ok {
			_, _ = fmt.Fprintf(a.stderr, "syncd %s: invalid configuration:\n", cmd.name)
			for _, p := range cfgErr.Problems {
				_, _ = fmt.Fprintf(a.stderr, "  %s\n", p)
			}
			_, _ = fmt.Fprintf(a.stderr, "Run \"syncd help %s\" for the variables it reads.\n", cmd.name)
			return exitUsage
		}
		_, _ = fmt.Fprintf(a.stderr, "syncd %s: %v\n", cmd.name, err)
		return exitFailure
	}
	root, err := logging.New(logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat, Output: a.stderr})
	if err != nil {
		_, _ = fmt.Fprintf(a.stderr, "syncd %s: %v\n", cmd.name, err)
		return exitFailure
	}
	// Sync of a terminal or pipe fails with EINVAL on Linux; there is nothing
	// to do about it at exit.
	defer func() { _ = root.Sync() }()

	env.Config, env.Log, env.Level = cfg, root.Logger, root.Level
	log := root.Named("main").With(zap.String("command", cmd.name))
	if unknown := config.UnknownVars(a.environ); len(unknown) > 0 {
		log.Warn("ignoring unknown SYNCD_ variables; check their spelling", zap.Strings("variables", unknown))
	}
	log.Info("syncd starting", zap.String("version", a.build.Version), zap.String("commit", a.build.Commit), zap.Object("config", cfg))

	err = a.supervise(ctx, cmd, env, cfg.ShutdownTimeout, log)
	code := a.finish(ctx, cmd, env, err)
	if code == exitOK {
		log.Info("syncd stopped")
	}
	return code
}

// errShutdownTimeout is returned by supervise when the command ignored
// cancellation for longer than SYNCD_SHUTDOWN_TIMEOUT.
var errShutdownTimeout = errors.New("graceful stop timed out")

// supervise runs the command's hook and waits for it. Once ctx is cancelled
// the hook has the shutdown timeout to return; after that supervise gives up
// on it, and the process exits without waiting further (the hook goroutine
// is abandoned, which is the point).
func (a *app) supervise(ctx context.Context, cmd *command, env *Env, timeout time.Duration, log *zap.Logger) error {
	done := make(chan error, 1)
	go func() { done <- cmd.run(ctx, env) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("stopping", zap.NamedError("cause", context.Cause(ctx)), zap.Duration("timeout", timeout))
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("%w after %s", errShutdownTimeout, timeout)
	}
}

// finish maps a hook's result to an exit code and tells the operator.
func (a *app) finish(ctx context.Context, cmd *command, env *Env, err error) int {
	var sig signalError
	stopped := ctx.Err() != nil && errors.As(context.Cause(ctx), &sig)
	switch {
	case err == nil:
		return exitOK
	case stopped && cmd.daemon && errors.Is(err, context.Canceled):
		return exitOK
	case stopped && errors.Is(err, context.Canceled):
		_, _ = fmt.Fprintf(a.stderr, "syncd %s: interrupted (%s) before it finished\n", cmd.name, sig)
		return exitFailure
	}
	if env.Log != nil {
		env.Log.Named("main").Error("command failed", zap.String("command", cmd.name), zap.Error(err))
	}
	_, _ = fmt.Fprintf(a.stderr, "syncd %s: %v\n", cmd.name, err)
	return exitFailure
}

// environMap turns KEY=VALUE entries into a map; later entries win, as in
// os.Getenv. An entry without "=" is ignored.
func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func (a *app) printHelp(w io.Writer) {
	var b strings.Builder
	b.WriteString("syncd keeps a PostgreSQL table of market-data candles (OHLCV) complete and current\n")
	b.WriteString("for AllTick, XdTick, Infoway and QOS.\n\n")
	b.WriteString("Usage:\n  syncd [command] [flags]\n\nCommands:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, c := range a.commands {
		_, _ = fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	b.WriteString("\nConfiguration comes from SYNCD_ environment variables; \"syncd help <command>\" lists\n")
	b.WriteString("the ones a command reads. Exit codes: 0 done, 1 failed, 2 bad configuration or usage.\n")
	_, _ = io.WriteString(w, b.String())
}

func (a *app) printCommandHelp(w io.Writer, cmd *command, fs *flag.FlagSet) {
	var b strings.Builder
	fmt.Fprintf(&b, "syncd %s: %s\n\nUsage:\n  syncd %s [flags]\n", cmd.name, cmd.summary, cmd.name)
	if cmd.details != "" {
		fmt.Fprintf(&b, "\n%s\n", cmd.details)
	}
	b.WriteString("\nFlags:\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	b.WriteString("  -h, --help\n    \tshow this help\n")
	if cmd.scope != 0 {
		b.WriteString("\nEnvironment:\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, v := range config.Vars(cmd.scope) {
			def := v.Default
			switch {
			case v.Required:
				def = "(required)"
			case def == "":
				def = `""`
			}
			_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Meaning)
		}
		_ = tw.Flush()
	}
	_, _ = io.WriteString(w, b.String())
}
