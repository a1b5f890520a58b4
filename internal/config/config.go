// Package config reads syncd's configuration from SYNCD_ environment
// variables and validates it in one step that reports every problem at once.
//
// Load is the entry point. What it reads depends on the command's Scope:
// `migrate` and `status` need only the database and logging, `run` and
// `backfill` need everything, `simulate` takes its settings from flags and
// reads only logging. Checks that need other packages (plan presets, vendor
// capabilities) plug in as Check functions.
package config

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sethvargo/go-envconfig"
	"go.uber.org/zap/zapcore"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/logging"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
)

// Scope says which variables a command reads. Each scope reads everything the
// narrower ones read. Variables outside the scope are not read at all, so a
// half-configured environment does not stop `syncd migrate`.
type Scope int

// The scopes, from narrowest to widest.
const (
	// ScopeBase reads logging and shutdown settings only: `simulate`, which
	// takes the rest from its flags.
	ScopeBase Scope = iota + 1
	// ScopeDatabase adds the database: `migrate` and `status`.
	ScopeDatabase
	// ScopeSync reads every variable: `run` and `backfill`.
	ScopeSync
)

// String names the scope for logs.
func (s Scope) String() string {
	switch s {
	case ScopeBase:
		return "base"
	case ScopeDatabase:
		return "database"
	case ScopeSync:
		return "sync"
	default:
		return fmt.Sprintf("Scope(%d)", int(s))
	}
}

// Config is the validated configuration. Fields outside Scope hold their zero
// values.
type Config struct {
	// Scope is what Load was asked to read.
	Scope Scope

	// DatabaseURL is the PostgreSQL connection string in pgx syntax. It may
	// hold a password, so it is kept secret; log DatabaseURLRedacted instead.
	DatabaseURL secret.Value

	// Vendor is one of vendor.Names.
	Vendor string
	// VendorURL overrides the vendor's base URL; "" means the vendor client's
	// built-in public URL.
	VendorURL string
	// VendorToken is the API key.
	VendorToken secret.Value
	// Plan is the plan name or custom spec as configured; vendor-specific
	// validation of it is a Check.
	Plan string
	// Symbols are the vendor's codes, trimmed, unique, in the order given.
	Symbols []string
	// Timeframes are unique, in the order given.
	Timeframes []vendor.Timeframe
	// BackfillSince is the backfill horizon; resolve it with From(now).
	BackfillSince Horizon
	// PollInterval is the latest-bars poll interval; 0 means the plan's
	// minimum.
	PollInterval time.Duration
	// Trades turns on polling of the latest trades.
	Trades bool
	// TradesInterval is the latest-trades poll interval; 0 means the default
	// the daemon derives from the plan.
	TradesInterval time.Duration
	// QuotaMargin pads the plan's spacings and windows in the governor.
	QuotaMargin time.Duration
	// HTTPAddr is the metrics and health listen address; "" disables the
	// server.
	HTTPAddr string

	// LogLevel is the minimum level logged.
	LogLevel zapcore.Level
	// LogFormat is the log line encoding.
	LogFormat logging.Format
	// ShutdownTimeout bounds a graceful stop after SIGINT/SIGTERM.
	ShutdownTimeout time.Duration
}

// rawEnv is what envconfig reads: every variable as text, defaults applied.
// Parsing happens in validate rather than through envconfig's decoders
// because envconfig stops at the first bad value, and operators should see
// every problem at once.
type rawEnv struct {
	DatabaseURL     secret.Value `env:"SYNCD_DATABASE_URL"`
	Vendor          string       `env:"SYNCD_VENDOR,default=alltick"`
	VendorURL       string       `env:"SYNCD_VENDOR_URL"`
	VendorToken     secret.Value `env:"SYNCD_VENDOR_TOKEN"`
	Plan            string       `env:"SYNCD_PLAN,default=free"`
	Symbols         string       `env:"SYNCD_SYMBOLS"`
	Timeframes      string       `env:"SYNCD_TIMEFRAMES,default=1m"`
	BackfillSince   string       `env:"SYNCD_BACKFILL_SINCE,default=30d"`
	PollInterval    string       `env:"SYNCD_POLL_INTERVAL"`
	Trades          string       `env:"SYNCD_TRADES,default=off"`
	TradesInterval  string       `env:"SYNCD_TRADES_INTERVAL"`
	QuotaMargin     string       `env:"SYNCD_QUOTA_MARGIN,default=10ms"`
	HTTPAddr        string       `env:"SYNCD_HTTP_ADDR,default=127.0.0.1:9464"`
	LogLevel        string       `env:"SYNCD_LOG_LEVEL,default=info"`
	LogFormat       string       `env:"SYNCD_LOG_FORMAT,default=json"`
	ShutdownTimeout string       `env:"SYNCD_SHUTDOWN_TIMEOUT,default=30s"`
}

// Load reads the variables scope needs from l (full names, e.g.
// envconfig.OsLookuper() or envconfig.MapLookuper in tests), applies
// defaults, and validates them in one step. clk decides whether a horizon lies
// in the past. checks run after the built-in validation (see Check).
//
// A configuration problem is returned as *Error listing every problem found;
// any other error is a bug in the wiring.
func Load(ctx context.Context, l envconfig.Lookuper, clk clock.Clock, scope Scope, checks ...Check) (*Config, error) {
	if scope < ScopeBase || scope > ScopeSync {
		return nil, fmt.Errorf("load config: unknown scope %d", int(scope))
	}
	var raw rawEnv
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &raw, Lookuper: l}); err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, problems := raw.validate(clk, scope)
	for _, check := range checks {
		problems = append(problems, check(cfg)...)
	}
	if len(problems) > 0 {
		// Documentation order, so the lines follow the README table.
		slices.SortStableFunc(problems, func(a, b Problem) int { return varIndex(a.Var) - varIndex(b.Var) })
		return nil, &Error{Problems: problems}
	}
	return cfg, nil
}

// varIndex is a variable's position in the documentation; unknown names (a
// Check may report on a variable of its own) sort last.
func varIndex(name string) int {
	if i := slices.IndexFunc(vars, func(v Var) bool { return v.Name == name }); i >= 0 {
		return i
	}
	return len(vars)
}

// validate parses every variable in scope into cfg, collecting a problem for
// each bad one and leaving that field at its zero value.
func (r *rawEnv) validate(clk clock.Clock, scope Scope) (*Config, []Problem) {
	v := validator{cfg: &Config{Scope: scope}}
	r.validateBase(&v)
	if scope >= ScopeDatabase {
		r.validateDatabase(&v)
	}
	if scope >= ScopeSync {
		r.validateVendor(&v)
		r.validateSeries(&v, clk.Now())
	}
	return v.cfg, v.problems
}

func (r *rawEnv) validateBase(v *validator) {
	cfg := v.cfg
	if lvl, ok := v.nonEmpty(EnvLogLevel, r.LogLevel); ok {
		parsed, err := logging.ParseLevel(lvl)
		if err != nil {
			v.bad(EnvLogLevel, lvl, "is not a log level (debug, info, warn, error)")
		}
		cfg.LogLevel = parsed
	}
	if f, ok := v.nonEmpty(EnvLogFormat, r.LogFormat); ok {
		parsed, err := logging.ParseFormat(f)
		if err != nil {
			v.bad(EnvLogFormat, f, "is not json or console")
		}
		cfg.LogFormat = parsed
	}
	if d, ok := v.nonEmpty(EnvShutdownTimeout, r.ShutdownTimeout); ok {
		cfg.ShutdownTimeout = v.duration(EnvShutdownTimeout, d)
	}
}

func (r *rawEnv) validateDatabase(v *validator) {
	// Secrets are trimmed because they often come from files or pastes with
	// a trailing newline, which would fail authentication far from here.
	// Their values are never echoed in problems.
	dsn := strings.TrimSpace(r.DatabaseURL.Reveal())
	switch err := checkDatabaseURL(dsn); {
	case dsn == "":
		v.required(EnvDatabaseURL)
	case err != nil:
		v.add(EnvDatabaseURL, err.Error())
	default:
		v.cfg.DatabaseURL = secret.New(dsn)
	}
}

// validateVendor reads who is called and how: vendor, URL, token, plan, and
// the HTTP listener that reports on it.
func (r *rawEnv) validateVendor(v *validator) {
	cfg := v.cfg
	if name, ok := v.nonEmpty(EnvVendor, r.Vendor); ok {
		name = strings.ToLower(strings.TrimSpace(name))
		if slices.Contains(vendor.Names, name) {
			cfg.Vendor = name
		} else {
			v.bad(EnvVendor, r.Vendor, "is not a supported vendor ("+strings.Join(vendor.Names, ", ")+")")
		}
	}
	if u := strings.TrimSpace(r.VendorURL); u != "" {
		if err := checkVendorURL(u); err != nil {
			v.bad(EnvVendorURL, r.VendorURL, err.Error())
		} else {
			cfg.VendorURL = strings.TrimSuffix(u, "/")
		}
	}
	if tok := strings.TrimSpace(r.VendorToken.Reveal()); tok == "" {
		v.required(EnvVendorToken)
	} else {
		cfg.VendorToken = secret.New(tok)
	}
	if p, ok := v.nonEmpty(EnvPlan, r.Plan); ok {
		cfg.Plan = strings.TrimSpace(p)
	}
	if a := strings.TrimSpace(r.HTTPAddr); a != "" {
		if err := CheckListenAddr(a); err != nil {
			v.bad(EnvHTTPAddr, r.HTTPAddr, err.Error())
		} else {
			cfg.HTTPAddr = a
		}
	}
}

// validateSeries reads what is kept in sync: symbols, timeframes, horizon and
// poll pace.
func (r *rawEnv) validateSeries(v *validator, now time.Time) {
	cfg := v.cfg
	if strings.TrimSpace(r.Symbols) == "" {
		v.required(EnvSymbols)
	} else if syms, err := ParseSymbols(r.Symbols); err != nil {
		v.bad(EnvSymbols, r.Symbols, err.Error())
	} else {
		cfg.Symbols = syms
	}
	if s, ok := v.nonEmpty(EnvTimeframes, r.Timeframes); ok {
		if tfs, err := ParseTimeframes(s); err != nil {
			v.bad(EnvTimeframes, s, err.Error())
		} else {
			cfg.Timeframes = tfs
		}
	}
	if s, ok := v.nonEmpty(EnvBackfillSince, r.BackfillSince); ok {
		cfg.BackfillSince = v.horizon(s, now)
	}
	if s := strings.TrimSpace(r.PollInterval); s != "" {
		cfg.PollInterval = v.duration(EnvPollInterval, s)
	}
	if s, ok := v.nonEmpty(EnvTrades, r.Trades); ok {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "on":
			cfg.Trades = true
		case "off":
		default:
			v.bad(EnvTrades, s, "is neither on nor off")
		}
	}
	if s := strings.TrimSpace(r.TradesInterval); s != "" {
		cfg.TradesInterval = v.duration(EnvTradesInterval, s)
	}
	if s, ok := v.nonEmpty(EnvQuotaMargin, r.QuotaMargin); ok {
		cfg.QuotaMargin = v.duration(EnvQuotaMargin, s)
	}
}

// validator collects problems.
type validator struct {
	cfg      *Config
	problems []Problem
}

func (v *validator) add(name, msg string) {
	v.problems = append(v.problems, Problem{Var: name, Message: msg})
}

// bad reports a value that does not parse; never call it for a secret.
func (v *validator) bad(name, value, why string) {
	v.add(name, quoteValue(value)+" "+why)
}

func (v *validator) required(name string) { v.add(name, "required") }

// nonEmpty returns the value when it is not blank. A variable with a default
// that is set to blank is a problem: it most likely comes from a template
// such as ${SYNCD_PLAN:-} and would otherwise silently mean something.
func (v *validator) nonEmpty(name, value string) (string, bool) {
	if strings.TrimSpace(value) != "" {
		return value, true
	}
	def := ""
	if doc, ok := Lookup(name); ok {
		def = doc.Default
	}
	v.add(name, "is set but empty; unset it to get the default ("+def+")")
	return "", false
}

func (v *validator) duration(name, s string) time.Duration {
	d, err := parsePositiveDuration(s)
	if err != nil {
		v.bad(name, s, err.Error())
	}
	return d
}

func (v *validator) horizon(s string, now time.Time) Horizon {
	h, err := ParseHorizon(s)
	if err != nil {
		v.bad(EnvBackfillSince, s, err.Error())
		return Horizon{}
	}
	if from := h.From(now); !from.Before(now) {
		v.bad(EnvBackfillSince, s, "is not in the past (it resolves to "+from.UTC().Format(time.RFC3339)+")")
		return Horizon{}
	}
	return h
}

// maxEchoed bounds how much of a bad value a problem repeats.
const maxEchoed = 64

// quoteValue quotes a bad value for a problem line, clipped so that a pasted
// blob does not flood the terminal.
func quoteValue(s string) string {
	if len(s) <= maxEchoed {
		return fmt.Sprintf("%q", s)
	}
	cut := maxEchoed
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

// DatabaseURLRedacted describes the database for logs without its password;
// see RedactDatabaseURL.
func (c *Config) DatabaseURLRedacted() string {
	if c.DatabaseURL.IsZero() {
		return ""
	}
	return RedactDatabaseURL(c.DatabaseURL.Reveal())
}

// BackfillFrom resolves the horizon against now.
func (c *Config) BackfillFrom(now time.Time) time.Time { return c.BackfillSince.From(now) }

// MarshalLogObject implements zapcore.ObjectMarshaler, so zap.Object("config",
// cfg) and zap.Any("config", cfg) log every setting in scope with secrets
// redacted: the database URL without its password, the token as a
// fingerprint that tells keys apart without revealing one.
func (c *Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("scope", c.Scope.String())
	enc.AddString("log_level", c.LogLevel.String())
	enc.AddString("log_format", string(c.LogFormat))
	enc.AddDuration("shutdown_timeout", c.ShutdownTimeout)
	if c.Scope < ScopeDatabase {
		return nil
	}
	enc.AddString("database_url", c.DatabaseURLRedacted())
	if c.Scope < ScopeSync {
		return nil
	}
	enc.AddString("vendor", c.Vendor)
	enc.AddString("vendor_url", c.VendorURL)
	enc.AddString("vendor_token_fingerprint", c.VendorToken.Fingerprint())
	enc.AddString("plan", c.Plan)
	if err := enc.AddArray("symbols", stringArray(c.Symbols)); err != nil {
		return fmt.Errorf("log symbols: %w", err)
	}
	tfs := make([]string, len(c.Timeframes))
	for i, tf := range c.Timeframes {
		tfs[i] = string(tf)
	}
	if err := enc.AddArray("timeframes", stringArray(tfs)); err != nil {
		return fmt.Errorf("log timeframes: %w", err)
	}
	enc.AddString("backfill_since", c.BackfillSince.String())
	enc.AddDuration("poll_interval", c.PollInterval)
	enc.AddBool("trades", c.Trades)
	enc.AddDuration("trades_interval", c.TradesInterval)
	enc.AddString("http_addr", c.HTTPAddr)
	return nil
}

type stringArray []string

func (a stringArray) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, s := range a {
		enc.AppendString(s)
	}
	return nil
}
