package config

import (
	"slices"
	"strings"
)

// Prefix starts the name of every variable syncd reads.
const Prefix = "SYNCD_"

// Names of the variables, as users set them. The env tags in rawEnv spell the
// same names; TestVarsMatchTags keeps the two in step.
const (
	EnvDatabaseURL     = "SYNCD_DATABASE_URL"
	EnvVendor          = "SYNCD_VENDOR"
	EnvVendorURL       = "SYNCD_VENDOR_URL"
	EnvVendorToken     = "SYNCD_VENDOR_TOKEN" //nolint:gosec // a variable's name, not a credential
	EnvPlan            = "SYNCD_PLAN"
	EnvSymbols         = "SYNCD_SYMBOLS"
	EnvTimeframes      = "SYNCD_TIMEFRAMES"
	EnvBackfillSince   = "SYNCD_BACKFILL_SINCE"
	EnvPollInterval    = "SYNCD_POLL_INTERVAL"
	EnvTrades          = "SYNCD_TRADES"
	EnvTradesInterval  = "SYNCD_TRADES_INTERVAL"
	EnvQuotaMargin     = "SYNCD_QUOTA_MARGIN"
	EnvHTTPAddr        = "SYNCD_HTTP_ADDR"
	EnvLogLevel        = "SYNCD_LOG_LEVEL"
	EnvLogFormat       = "SYNCD_LOG_FORMAT"
	EnvShutdownTimeout = "SYNCD_SHUTDOWN_TIMEOUT"
)

// exampleDatabaseURL shows the URL syntax in problems and help.
const exampleDatabaseURL = "postgres://syncd:secret@localhost:5432/syncd" //nolint:gosec // documentation example, not a credential

// Var documents one variable: the single source for `syncd help <command>`,
// the README table (a test checks it) and problem examples.
type Var struct {
	// Name is the full variable name, e.g. "SYNCD_VENDOR".
	Name string
	// Default is the value used when the variable is unset; "" with Required.
	// A default of "" on an optional variable means "off" or "decided
	// elsewhere", as Meaning explains.
	Default string
	// Required variables must be set to a non-empty value in their scope.
	Required bool
	// Secret variables are never echoed back, not even in problems.
	Secret bool
	// Scope is the narrowest scope that reads the variable; every wider scope
	// reads it too.
	Scope Scope
	// Meaning says what the variable does, in one line.
	Meaning string
	// Example is a good value, shown in problems and help.
	Example string
}

// vars lists every variable in the order documentation shows them.
var vars = []Var{
	{
		Name: EnvDatabaseURL, Required: true, Secret: true, Scope: ScopeDatabase,
		Meaning: "PostgreSQL URL or key=value string (pgx syntax; pool settings such as pool_max_conns allowed)",
		Example: exampleDatabaseURL,
	},
	{
		Name: EnvVendor, Default: "alltick", Scope: ScopeSync,
		Meaning: "market-data vendor: alltick, xdtick, infoway or qos",
		Example: "infoway",
	},
	{
		Name: EnvVendorURL, Scope: ScopeSync,
		Meaning: "vendor base URL; empty means the vendor's public URL. Set it to point at the simulator or a new host",
		Example: "http://127.0.0.1:9400",
	},
	{
		Name: EnvVendorToken, Required: true, Secret: true, Scope: ScopeSync,
		Meaning: "vendor API key; never logged, never stored in clear",
		Example: "your-api-key",
	},
	{
		Name: EnvPlan, Default: "free", Scope: ScopeSync,
		Meaning: "the vendor plan of the key (sets every rate limit), or a custom spec for the simulator",
		Example: "basic",
	},
	{
		Name: EnvSymbols, Required: true, Scope: ScopeSync,
		Meaning: "comma list of symbols in the vendor's own code format",
		Example: "BTCUSDT,ETHUSDT,700.HK",
	},
	{
		Name: EnvTimeframes, Default: "1m", Scope: ScopeSync,
		Meaning: "comma list of bar lengths: 1m 5m 15m 30m 1h 2h 4h 1d 1w 1M (1M is a month)",
		Example: "1m,1h,1d",
	},
	{
		Name: EnvBackfillSince, Default: "30d", Scope: ScopeSync,
		Meaning: "backfill horizon: an RFC 3339 time, a date (UTC midnight) or a look-back in m, h, d or w",
		Example: "90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z",
	},
	{
		Name: EnvPollInterval, Scope: ScopeSync,
		Meaning: "latest-bars poll interval; empty means the fastest the plan allows",
		Example: "10s",
	},
	{
		Name: EnvTrades, Default: "off", Scope: ScopeSync,
		Meaning: "also poll the latest trade of every symbol into the trades table: on or off",
		Example: "on",
	},
	{
		Name: EnvTradesInterval, Scope: ScopeSync,
		Meaning: "latest-trades poll interval with SYNCD_TRADES=on; empty means the latest-bars interval, or the plan's minimum for trades if that is longer",
		Example: "30s",
	},
	{
		Name: EnvQuotaMargin, Default: "10ms", Scope: ScopeSync,
		Meaning: "padding on every spacing and window of the plan, for how much the trip to the vendor varies (the vendor counts arrivals)",
		Example: "50ms",
	},
	{
		Name: EnvHTTPAddr, Default: "127.0.0.1:9464", Scope: ScopeSync,
		Meaning: "host:port of the metrics and health endpoints; empty disables them",
		Example: "0.0.0.0:9464",
	},
	{
		Name: EnvLogLevel, Default: "info", Scope: ScopeBase,
		Meaning: "log level: debug, info, warn or error",
		Example: "debug",
	},
	{
		Name: EnvLogFormat, Default: "json", Scope: ScopeBase,
		Meaning: "log line format: json (for shippers) or console (for people)",
		Example: "console",
	},
	{
		Name: EnvShutdownTimeout, Default: "30s", Scope: ScopeBase,
		Meaning: "how long a graceful stop may take after SIGINT/SIGTERM before syncd gives up and exits 1",
		Example: "1m",
	},
}

// Vars returns the variables a scope reads, in documentation order. Pass
// ScopeSync for all of them.
func Vars(scope Scope) []Var {
	var out []Var
	for _, v := range vars {
		if v.Scope <= scope {
			out = append(out, v)
		}
	}
	return out
}

// Lookup returns the documentation of the named variable.
func Lookup(name string) (Var, bool) {
	i := slices.IndexFunc(vars, func(v Var) bool { return v.Name == name })
	if i < 0 {
		return Var{}, false
	}
	return vars[i], true
}

// UnknownVars returns the names of SYNCD_ variables in environ (KEY=VALUE
// entries, as os.Environ gives) that syncd does not read, sorted. A typo such
// as SYNCD_SYMBOL would otherwise be silently ignored. Names under
// SYNCD_TEST_ belong to the test suites and are never reported.
func UnknownVars(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, Prefix) || strings.HasPrefix(name, Prefix+"TEST_") {
			continue
		}
		if _, ok := Lookup(name); !ok && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
