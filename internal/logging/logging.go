// Package logging builds syncd's zap logger from the operator's level and
// format, and names the child loggers each component derives from it.
//
// There is no global logger: New returns one that main hands to every
// constructor, and components call Component to get a named child.
package logging

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Format is the encoding of log lines.
type Format string

// The formats SYNCD_LOG_FORMAT accepts.
const (
	// FormatJSON writes one JSON object per line, for log shippers.
	FormatJSON Format = "json"
	// FormatConsole writes tab-separated human-readable lines, for a terminal.
	FormatConsole Format = "console"
)

// ParseFormat reads "json" or "console" (case-insensitive, spaces ignored).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatJSON, FormatConsole:
		return f, nil
	default:
		return "", fmt.Errorf("unknown log format %q (want json or console)", s)
	}
}

// ParseLevel reads a zap level name: debug, info, warn, error, dpanic, panic or
// fatal (case-insensitive, spaces ignored).
func ParseLevel(s string) (zapcore.Level, error) {
	norm := strings.ToLower(strings.TrimSpace(s))
	if norm == "" {
		// zap reads "" as info; an operator who set the variable to nothing
		// most likely meant something else, so say so.
		return zapcore.InfoLevel, errors.New("empty log level (want debug, info, warn or error)")
	}
	lvl, err := zapcore.ParseLevel(norm)
	if err != nil {
		return zapcore.InfoLevel, fmt.Errorf("parse log level: %w", err)
	}
	return lvl, nil
}

// Options configure New. The zero value logs JSON at info level to stderr.
type Options struct {
	// Level is the minimum level written; the zero value is info.
	Level zapcore.Level
	// Format is the line encoding; "" means FormatJSON.
	Format Format
	// Output receives the log lines; nil means os.Stderr. Tests pass a buffer.
	Output io.Writer
}

// Logger is the root logger together with the level that gates it, so the
// level can be changed at run time (for example from an HTTP handler) without
// rebuilding the logger.
type Logger struct {
	*zap.Logger

	// Level gates every logger derived from this one.
	Level zap.AtomicLevel
}

// New builds the root logger from zap.NewProductionConfig(), changing what a
// daemon's operators need changed:
//
//   - the level comes from Options and is an AtomicLevel;
//   - times are ISO 8601 rather than epoch seconds, so people can read them;
//   - the encoding is json or console;
//   - sampling is off. zap samples by message text, and syncd logs one constant
//     message per event kind with the series as a field ("bar quarantined",
//     series=...), so sampling would silently drop distinct series' events in
//     a burst. syncd's own volume is small (a few lines per poll tick), so
//     every line is kept.
//
// Stack traces are attached from error level up, as in production.
func New(opts Options) (*Logger, error) {
	format := opts.Format
	if format == "" {
		format = FormatJSON
	}
	if _, err := ParseFormat(string(format)); err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}

	// The production encoder settings (keys, caller, stack traces) are kept;
	// the core is assembled here rather than by Config.Build so that Output
	// can be any writer (Build only knows paths and registered sinks) and so
	// that no sampler is wrapped around it. The result is what Build would
	// give for OutputPaths ["stderr"] with Sampling nil.
	encCfg := zap.NewProductionConfig().EncoderConfig
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	encCfg.EncodeDuration = zapcore.StringDurationEncoder
	var enc zapcore.Encoder
	if format == FormatConsole {
		encCfg.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	out := zapcore.Lock(zapcore.AddSync(os.Stderr))
	if opts.Output != nil {
		out = zapcore.Lock(zapcore.AddSync(opts.Output))
	}
	level := zap.NewAtomicLevelAt(opts.Level)
	log := zap.New(zapcore.NewCore(enc, out, level),
		zap.AddCaller(),
		zap.AddStacktrace(zapcore.ErrorLevel),
		zap.ErrorOutput(out),
	)
	return &Logger{Logger: log, Level: level}, nil
}

// Component returns the child logger for one component ("poller", "store",
// "backfill"), so every line says where it came from. A nil parent gives a
// no-op logger, which lets constructors accept a nil logger.
func Component(parent *zap.Logger, name string) *zap.Logger {
	if parent == nil {
		return zap.NewNop()
	}
	return parent.Named(name)
}
