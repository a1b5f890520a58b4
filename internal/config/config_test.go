package config

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/logging"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// now is the fake clock's reading in every test.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const (
	dbPassword = "pw-LEAK-CANARY-77"
	token      = "tok-LEAK-CANARY-42"
)

// minimal returns the smallest environment that is valid for scope sync.
func minimal() map[string]string {
	return map[string]string{
		EnvDatabaseURL: "postgres://syncd:" + dbPassword + "@db.internal:5432/syncd?sslmode=disable",
		EnvVendorToken: token,
		EnvSymbols:     "BTCUSDT,ETHUSDT",
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env)+len(kv)/2)
	maps.Copy(out, env)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func load(t *testing.T, env map[string]string, scope Scope, checks ...Check) (*Config, error) {
	t.Helper()
	return Load(t.Context(), envconfig.MapLookuper(env), clock.NewFake(now), scope, checks...)
}

// problems returns the problem lines of a failed load.
func problems(t *testing.T, err error) []string {
	t.Helper()
	var cfgErr *Error
	require.ErrorAs(t, err, &cfgErr)
	lines := make([]string, len(cfgErr.Problems))
	for i, p := range cfgErr.Problems {
		lines[i] = p.String()
	}
	require.Equal(t, strings.Join(lines, "\n"), err.Error())
	return lines
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := load(t, minimal(), ScopeSync)
	require.NoError(t, err)

	require.Equal(t, ScopeSync, cfg.Scope)
	require.Equal(t, minimal()[EnvDatabaseURL], cfg.DatabaseURL.Reveal())
	require.Equal(t, vendor.AllTick, cfg.Vendor)
	require.Empty(t, cfg.VendorURL)
	require.Equal(t, token, cfg.VendorToken.Reveal())
	require.Equal(t, "free", cfg.Plan)
	require.Equal(t, []string{"BTCUSDT", "ETHUSDT"}, cfg.Symbols)
	require.Equal(t, []vendor.Timeframe{vendor.TF1m}, cfg.Timeframes)
	require.Equal(t, "30d", cfg.BackfillSince.String())
	require.Equal(t, now.Add(-30*24*time.Hour), cfg.BackfillFrom(now))
	require.Zero(t, cfg.PollInterval)
	require.Equal(t, 10*time.Millisecond, cfg.QuotaMargin)
	require.Equal(t, "127.0.0.1:9464", cfg.HTTPAddr)
	require.Equal(t, zapcore.InfoLevel, cfg.LogLevel)
	require.Equal(t, logging.FormatJSON, cfg.LogFormat)
	require.Equal(t, 30*time.Second, cfg.ShutdownTimeout)
}

// TestDefaultsMatchDocs keeps the documented defaults (help, README) equal to
// the envconfig tags that apply them.
func TestDefaultsMatchDocs(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[rawEnv]()
	require.Equal(t, len(vars), typ.NumField(), "every variable needs a doc entry and a field")
	for field := range typ.Fields() {
		tag := field.Tag.Get("env")
		name, opts, _ := strings.Cut(tag, ",")
		doc, ok := Lookup(name)
		require.True(t, ok, "no doc for %s", name)
		def := strings.TrimPrefix(opts, "default=")
		require.Equal(t, doc.Default, def, name)
		require.False(t, doc.Required && doc.Default != "", name)
		require.NotEmpty(t, doc.Example, name)
		require.NotEmpty(t, doc.Meaning, name)
	}
}

func TestReadmeDocumentsEveryVar(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, v := range Vars(ScopeSync) {
		var row string
		for line := range strings.SplitSeq(string(readme), "\n") {
			if strings.HasPrefix(line, "| `"+v.Name+"`") {
				row = line
				break
			}
		}
		require.NotEmpty(t, row, "README.md has no table row for %s", v.Name)
		if v.Default != "" {
			require.Contains(t, row, "`"+v.Default+"`", "README.md row for %s lacks its default", v.Name)
		}
	}
}

func TestGoodValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		value string
		check func(t *testing.T, cfg *Config)
	}{
		{EnvDatabaseURL, "host=/var/run/postgresql user=syncd password=x dbname=syncd", func(t *testing.T, c *Config) {
			t.Helper()
			require.Contains(t, c.DatabaseURL.Reveal(), "dbname=syncd")
		}},
		{EnvDatabaseURL, "postgresql://a@h1:5432,h2:5433/db?pool_max_conns=8", nil},
		{EnvVendor, " QOS ", func(t *testing.T, c *Config) { t.Helper(); require.Equal(t, vendor.QOS, c.Vendor) }},
		{EnvVendor, "xdtick", nil},
		{EnvVendor, "infoway", nil},
		{EnvVendorURL, "http://127.0.0.1:9400/", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, "http://127.0.0.1:9400", c.VendorURL)
		}},
		{EnvVendorURL, "https://quote.alltick.co/quote-b-api", nil},
		{EnvVendorToken, " tok-with-newline\n", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, "tok-with-newline", c.VendorToken.Reveal())
		}},
		{EnvPlan, "custom:rps=5", func(t *testing.T, c *Config) { t.Helper(); require.Equal(t, "custom:rps=5", c.Plan) }},
		{EnvSymbols, " 700.HK , US:AAPL,btcusdt ", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, []string{"700.HK", "US:AAPL", "btcusdt"}, c.Symbols)
		}},
		{EnvTimeframes, "1M, 1m ,1h,1d", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, []vendor.Timeframe{vendor.TF1M, vendor.TF1m, vendor.TF1h, vendor.TF1d}, c.Timeframes)
		}},
		{EnvBackfillSince, "2024-01-01", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), c.BackfillFrom(now))
		}},
		{EnvBackfillSince, "2024-01-01T08:00:00+08:00", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), c.BackfillFrom(now))
		}},
		{EnvBackfillSince, "36h", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, now.Add(-36*time.Hour), c.BackfillFrom(now))
		}},
		{EnvBackfillSince, "2w", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, now.AddDate(0, 0, -14), c.BackfillFrom(now))
		}},
		{EnvBackfillSince, "90m", nil},
		{EnvPollInterval, "3s", func(t *testing.T, c *Config) { t.Helper(); require.Equal(t, 3*time.Second, c.PollInterval) }},
		{EnvPollInterval, "", func(t *testing.T, c *Config) { t.Helper(); require.Zero(t, c.PollInterval) }},
		{EnvQuotaMargin, "50ms", func(t *testing.T, c *Config) { t.Helper(); require.Equal(t, 50*time.Millisecond, c.QuotaMargin) }},
		{EnvHTTPAddr, "", func(t *testing.T, c *Config) { t.Helper(); require.Empty(t, c.HTTPAddr) }},
		{EnvHTTPAddr, ":9464", nil},
		{EnvHTTPAddr, "[::1]:0", nil},
		{EnvHTTPAddr, "metrics.local:80", nil},
		{EnvLogLevel, "DEBUG", func(t *testing.T, c *Config) { t.Helper(); require.Equal(t, zapcore.DebugLevel, c.LogLevel) }},
		{EnvLogLevel, "error", nil},
		{EnvLogFormat, "console", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, logging.FormatConsole, c.LogFormat)
		}},
		{EnvShutdownTimeout, "1m30s", func(t *testing.T, c *Config) {
			t.Helper()
			require.Equal(t, 90*time.Second, c.ShutdownTimeout)
		}},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			cfg, err := load(t, with(minimal(), tc.name, tc.value), ScopeSync)
			require.NoError(t, err)
			if tc.check != nil {
				tc.check(t, cfg)
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		value string
		want  string // the whole problem line
	}{
		{EnvDatabaseURL, "", "SYNCD_DATABASE_URL: required (example: postgres://syncd:secret@localhost:5432/syncd)"},
		{EnvDatabaseURL, "   ", "SYNCD_DATABASE_URL: required (example: postgres://syncd:secret@localhost:5432/syncd)"},
		{EnvDatabaseURL, "mysql://root:" + dbPassword + "@db/x", `SYNCD_DATABASE_URL: has scheme "mysql://"; want postgres:// or postgresql:// (example: postgres://syncd:secret@localhost:5432/syncd)`},
		{EnvDatabaseURL, "postgres://u:" + dbPassword + "@db:99999/x", "SYNCD_DATABASE_URL: is not a PostgreSQL URL or key=value string that pgx can parse (value not shown: it may hold a password) (example: postgres://syncd:secret@localhost:5432/syncd)"},
		{EnvDatabaseURL, dbPassword, "SYNCD_DATABASE_URL: is not a PostgreSQL URL or key=value string that pgx can parse (value not shown: it may hold a password) (example: postgres://syncd:secret@localhost:5432/syncd)"},
		{EnvDatabaseURL, dbPassword + "://x", "SYNCD_DATABASE_URL: is not a PostgreSQL URL or key=value string (example: postgres://syncd:secret@localhost:5432/syncd)"},
		{EnvVendor, "binance", `SYNCD_VENDOR: "binance" is not a supported vendor (alltick, xdtick, infoway, qos) (example: infoway)`},
		{EnvVendor, "", "SYNCD_VENDOR: is set but empty; unset it to get the default (alltick) (example: infoway)"},
		{EnvVendorURL, "quote.alltick.co", `SYNCD_VENDOR_URL: "quote.alltick.co" is not an absolute http:// or https:// URL (example: http://127.0.0.1:9400)`},
		{EnvVendorURL, "ftp://x.example", `SYNCD_VENDOR_URL: "ftp://x.example" is not an absolute http:// or https:// URL (example: http://127.0.0.1:9400)`},
		{EnvVendorURL, "https://x.example/?token=abc", `SYNCD_VENDOR_URL: "https://x.example/?token=abc" carries credentials, a query or a fragment; put the key in SYNCD_VENDOR_TOKEN (example: http://127.0.0.1:9400)`},
		{EnvVendorToken, "", "SYNCD_VENDOR_TOKEN: required (example: your-api-key)"},
		{EnvVendorToken, " \n", "SYNCD_VENDOR_TOKEN: required (example: your-api-key)"},
		{EnvPlan, " ", "SYNCD_PLAN: is set but empty; unset it to get the default (free) (example: basic)"},
		{EnvSymbols, "", "SYNCD_SYMBOLS: required (example: BTCUSDT,ETHUSDT,700.HK)"},
		{EnvSymbols, "BTCUSDT,,ETHUSDT", `SYNCD_SYMBOLS: "BTCUSDT,,ETHUSDT" has an empty symbol at position 2 (a stray comma?) (example: BTCUSDT,ETHUSDT,700.HK)`},
		{EnvSymbols, "BTCUSDT,", `SYNCD_SYMBOLS: "BTCUSDT," has an empty symbol at position 2 (a stray comma?) (example: BTCUSDT,ETHUSDT,700.HK)`},
		{EnvSymbols, "A, B ,A", `SYNCD_SYMBOLS: "A, B ,A" lists symbol "A" twice (example: BTCUSDT,ETHUSDT,700.HK)`},
		{EnvSymbols, "BTC USDT", `SYNCD_SYMBOLS: "BTC USDT" has symbol "BTC USDT" with a character other than printable ASCII (example: BTCUSDT,ETHUSDT,700.HK)`},
		{EnvSymbols, "腾讯", `SYNCD_SYMBOLS: "腾讯" has symbol "腾讯" with a character other than printable ASCII (example: BTCUSDT,ETHUSDT,700.HK)`},
		{EnvTimeframes, "1m,3m", `SYNCD_TIMEFRAMES: "1m,3m" has unknown timeframe "3m" (known: 1m 5m 15m 30m 1h 2h 4h 1d 1w 1M) (example: 1m,1h,1d)`},
		{EnvTimeframes, "1m,1m", `SYNCD_TIMEFRAMES: "1m,1m" lists timeframe "1m" twice (example: 1m,1h,1d)`},
		{EnvTimeframes, "1H", `SYNCD_TIMEFRAMES: "1H" has unknown timeframe "1H" (known: 1m 5m 15m 30m 1h 2h 4h 1d 1w 1M) (example: 1m,1h,1d)`},
		{EnvTimeframes, "", "SYNCD_TIMEFRAMES: is set but empty; unset it to get the default (1m) (example: 1m,1h,1d)"},
		{EnvBackfillSince, "90x", `SYNCD_BACKFILL_SINCE: "90x" is not a time, date or look-back (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "0d", `SYNCD_BACKFILL_SINCE: "0d" is a zero look-back (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "-3d", `SYNCD_BACKFILL_SINCE: "-3d" is not a time, date or look-back (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "99999999999999999999d", `SYNCD_BACKFILL_SINCE: "99999999999999999999d" is a look-back longer than 100 years (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "2030-01-01", `SYNCD_BACKFILL_SINCE: "2030-01-01" is not in the past (it resolves to 2030-01-01T00:00:00Z) (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "2025-06-01T12:00:00Z", `SYNCD_BACKFILL_SINCE: "2025-06-01T12:00:00Z" is not in the past (it resolves to 2025-06-01T12:00:00Z) (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "1969-12-31", `SYNCD_BACKFILL_SINCE: "1969-12-31" is before 1970-01-01 (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvBackfillSince, "2024-13-01", `SYNCD_BACKFILL_SINCE: "2024-13-01" is not a time, date or look-back (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)`},
		{EnvPollInterval, "10", `SYNCD_POLL_INTERVAL: "10" is not a duration (example: 10s)`},
		{EnvPollInterval, "-1s", `SYNCD_POLL_INTERVAL: "-1s" is not a positive duration (example: 10s)`},
		{EnvTrades, "yes", `SYNCD_TRADES: "yes" is neither on nor off (example: on)`},
		{EnvTrades, "", "SYNCD_TRADES: is set but empty; unset it to get the default (off) (example: on)"},
		{EnvTradesInterval, "0s", `SYNCD_TRADES_INTERVAL: "0s" is not a positive duration (example: 30s)`},
		{EnvQuotaMargin, "0", `SYNCD_QUOTA_MARGIN: "0" is not a positive duration (example: 50ms)`},
		{EnvHTTPAddr, "9464", `SYNCD_HTTP_ADDR: "9464" is not host:port (example: 0.0.0.0:9464)`},
		{EnvHTTPAddr, "localhost:http", `SYNCD_HTTP_ADDR: "localhost:http" has port "http", which is not a number from 0 to 65535 (example: 0.0.0.0:9464)`},
		{EnvHTTPAddr, "localhost:70000", `SYNCD_HTTP_ADDR: "localhost:70000" has port "70000", which is not a number from 0 to 65535 (example: 0.0.0.0:9464)`},
		{EnvLogLevel, "verbose", `SYNCD_LOG_LEVEL: "verbose" is not a log level (debug, info, warn, error) (example: debug)`},
		{EnvLogLevel, "", "SYNCD_LOG_LEVEL: is set but empty; unset it to get the default (info) (example: debug)"},
		{EnvLogFormat, "text", `SYNCD_LOG_FORMAT: "text" is not json or console (example: console)`},
		{EnvShutdownTimeout, "0s", `SYNCD_SHUTDOWN_TIMEOUT: "0s" is not a positive duration (example: 1m)`},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, with(minimal(), tc.name, tc.value), ScopeSync)
			require.Equal(t, []string{tc.want}, problems(t, err))
			require.NotContains(t, err.Error(), dbPassword)
			require.NotContains(t, err.Error(), token)
		})
	}
}

func TestLongValueIsClipped(t *testing.T) {
	t.Parallel()
	_, err := load(t, with(minimal(), EnvVendor, strings.Repeat("é", 100)), ScopeSync)
	lines := problems(t, err)
	require.Len(t, lines, 1)
	require.Contains(t, lines[0], `…`)
	require.Less(t, len(lines[0]), 200)
}

func TestAllProblemsReportedTogether(t *testing.T) {
	t.Parallel()
	_, err := load(t, map[string]string{
		EnvVendor:        "binance",
		EnvTimeframes:    "1m,7m",
		EnvBackfillSince: "90x",
		EnvHTTPAddr:      "nope",
		EnvLogFormat:     "xml",
	}, ScopeSync)
	lines := problems(t, err)
	vars := make([]string, 0, len(lines))
	for _, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		vars = append(vars, name)
	}
	require.Equal(t, []string{ // in documentation order
		EnvDatabaseURL, EnvVendor, EnvVendorToken, EnvSymbols,
		EnvTimeframes, EnvBackfillSince, EnvHTTPAddr, EnvLogFormat,
	}, vars)
}

func TestNoConfigurationAtAll(t *testing.T) {
	t.Parallel()
	_, err := load(t, map[string]string{}, ScopeSync)
	require.Equal(t, []string{
		"SYNCD_DATABASE_URL: required (example: postgres://syncd:secret@localhost:5432/syncd)",
		"SYNCD_VENDOR_TOKEN: required (example: your-api-key)",
		"SYNCD_SYMBOLS: required (example: BTCUSDT,ETHUSDT,700.HK)",
	}, problems(t, err))
}

func TestScopes(t *testing.T) {
	t.Parallel()
	// Sync-only variables with bad values do not stop the database scope, and
	// are not read into its Config.
	broken := map[string]string{
		EnvDatabaseURL: minimal()[EnvDatabaseURL],
		EnvSymbols:     ",,",
		EnvVendor:      "nope",
	}
	cfg, err := load(t, broken, ScopeDatabase)
	require.NoError(t, err)
	require.Equal(t, ScopeDatabase, cfg.Scope)
	require.False(t, cfg.DatabaseURL.IsZero())
	require.Empty(t, cfg.Vendor)
	require.Empty(t, cfg.Symbols)
	require.Empty(t, cfg.HTTPAddr)

	_, err = load(t, map[string]string{}, ScopeDatabase)
	require.Equal(t, []string{"SYNCD_DATABASE_URL: required (example: postgres://syncd:secret@localhost:5432/syncd)"}, problems(t, err))

	cfg, err = load(t, map[string]string{}, ScopeBase)
	require.NoError(t, err)
	require.True(t, cfg.DatabaseURL.IsZero())
	require.Equal(t, logging.FormatJSON, cfg.LogFormat)

	_, err = load(t, map[string]string{EnvLogLevel: "loud"}, ScopeBase)
	require.Len(t, problems(t, err), 1)

	_, err = Load(t.Context(), envconfig.MapLookuper(nil), clock.NewFake(now), Scope(0))
	require.Error(t, err)
	var cfgErr *Error
	require.NotErrorAs(t, err, &cfgErr, "a bad scope is a wiring bug, not a configuration problem")

	require.Len(t, Vars(ScopeBase), 3)
	require.Len(t, Vars(ScopeDatabase), 4)
	require.Len(t, Vars(ScopeSync), len(vars))
}

func TestChecks(t *testing.T) {
	t.Parallel()
	var seen []*Config
	planCheck := func(cfg *Config) []Problem {
		seen = append(seen, cfg)
		if cfg.Scope < ScopeSync || cfg.Plan == "" {
			return nil
		}
		if cfg.Plan != "free" && cfg.Plan != "basic" {
			return []Problem{{Var: EnvPlan, Message: fmt.Sprintf("%q is not an %s plan", cfg.Plan, cfg.Vendor), Example: "free, basic"}}
		}
		return nil
	}
	zeroCheck := func(cfg *Config) []Problem {
		if cfg.Vendor == "" { // already reported by Load
			return nil
		}
		return []Problem{{Var: EnvPollInterval, Message: "is faster than the plan allows"}}
	}

	_, err := load(t, with(minimal(), EnvPlan, "gold", EnvSymbols, "A,A"), ScopeSync, planCheck, zeroCheck)
	require.Equal(t, []string{
		`SYNCD_PLAN: "gold" is not an alltick plan (example: free, basic)`,
		`SYNCD_SYMBOLS: "A,A" lists symbol "A" twice (example: BTCUSDT,ETHUSDT,700.HK)`,
		`SYNCD_POLL_INTERVAL: is faster than the plan allows (example: 10s)`,
	}, problems(t, err))

	custom := func(*Config) []Problem { return []Problem{{Var: "SYNCD_OTHER", Message: "is odd"}} }
	_, err = load(t, with(minimal(), EnvVendor, "nope"), ScopeSync, custom)
	require.Equal(t, []string{
		`SYNCD_VENDOR: "nope" is not a supported vendor (alltick, xdtick, infoway, qos) (example: infoway)`,
		"SYNCD_OTHER: is odd",
	}, problems(t, err))

	_, err = load(t, with(minimal(), EnvVendor, "nope"), ScopeSync, zeroCheck)
	require.Len(t, problems(t, err), 1, "a check skips fields already reported")

	cfg, err := load(t, minimal(), ScopeSync, planCheck)
	require.NoError(t, err)
	require.Same(t, cfg, seen[len(seen)-1], "checks see the config Load returns")
}

func TestRedactDatabaseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://syncd:" + dbPassword + "@db.internal:5432/syncd?sslmode=disable":   "postgres://syncd:xxxxx@db.internal:5432/syncd",
		"postgres://syncd@db.internal/syncd?sslmode=disable&password=" + dbPassword:    "postgres://syncd:xxxxx@db.internal:5432/syncd",
		"postgres://syncd@db.internal/syncd?sslmode=disable":                           "postgres://syncd@db.internal:5432/syncd",
		"host=db.internal port=6432 user=syncd password='" + dbPassword + "' dbname=x": "postgres://syncd:xxxxx@db.internal:6432/x",
		"postgres://u:" + dbPassword + "@h1:5432,h2:5433/db?sslmode=disable":           "postgres://u:xxxxx@h1:5432,h2:5433/db",
		"postgres://u:" + dbPassword + "@[::1]:5432/db?sslmode=disable":                "postgres://u:xxxxx@[::1]:5432/db",
		"postgres://u:" + dbPassword + "@db:99999/db":                                  "[invalid database URL]",
	} {
		got := RedactDatabaseURL(in)
		require.Equal(t, want, got, in)
		require.NotContains(t, got, dbPassword)
	}
	require.Empty(t, (&Config{}).DatabaseURLRedacted())
}

func TestUnknownVars(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"SYNCD_SYMBOL", "SYNCD_VENDORURL"}, UnknownVars([]string{
		"PATH=/bin", "SYNCD_SYMBOL=x", "SYNCD_VENDOR=qos", "SYNCD_TEST_PG_IMAGE=pg", "SYNCD_VENDORURL=y", "SYNCD_SYMBOL=z", "SYNCD_DATABASE_URL",
	}))
	require.Empty(t, UnknownVars(nil))
}

// TestConfigNeverLogsSecrets logs the whole configuration every way a
// developer might, at debug level through the real logger, and checks that
// neither the token nor the database password comes out.
func TestConfigNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := load(t, minimal(), ScopeSync)
	require.NoError(t, err)

	logAll := func(l *zap.Logger) {
		l.Debug("config", zap.Object("config", cfg))
		l.Debug("config any", zap.Any("config", cfg))
		l.Debug("config reflect", zap.Reflect("config", cfg))
		l.Debug("config value", zap.Any("config", *cfg))
		l.Debug(fmt.Sprintf("config %v %+v %#v", cfg, *cfg, cfg))
		l.Sugar().Debugw("config sugar", "config", cfg, "token", cfg.VendorToken, "db", cfg.DatabaseURL)
		l.Debug("db", zap.String("database_url", cfg.DatabaseURLRedacted()))
	}

	for _, format := range []logging.Format{logging.FormatJSON, logging.FormatConsole} {
		var buf bytes.Buffer
		log, err := logging.New(logging.Options{Level: zapcore.DebugLevel, Format: format, Output: &buf})
		require.NoError(t, err)
		logAll(log.Logger)
		out := buf.String()
		require.Contains(t, out, "BTCUSDT", "the config did get logged")
		require.Contains(t, out, "db.internal")
		require.Contains(t, out, cfg.VendorToken.Fingerprint())
		require.NotContains(t, out, token)
		require.NotContains(t, out, dbPassword)
	}

	core, logs := observer.New(zapcore.DebugLevel)
	logAll(zap.New(core))
	entries := logs.AllUntimed()
	require.Len(t, entries, 7)
	obj := entries[0].ContextMap()["config"]
	require.IsType(t, map[string]any{}, obj)
	fields, ok := obj.(map[string]any)
	require.True(t, ok)
	require.Equal(t, "postgres://syncd:xxxxx@db.internal:5432/syncd", fields["database_url"])
	require.Equal(t, []any{"BTCUSDT", "ETHUSDT"}, fields["symbols"])
	for _, e := range entries {
		require.NotContains(t, e.Message, token)
		require.NotContains(t, e.Message, dbPassword)
		for k, v := range e.ContextMap() {
			s := fmt.Sprint(v)
			require.NotContains(t, s, token, k)
			require.NotContains(t, s, dbPassword, k)
		}
	}
}

func TestConfigLogFieldsPerScope(t *testing.T) {
	t.Parallel()
	cfg, err := load(t, minimal(), ScopeDatabase)
	require.NoError(t, err)
	enc := zapcore.NewMapObjectEncoder()
	require.NoError(t, cfg.MarshalLogObject(enc))
	require.Contains(t, enc.Fields, "database_url")
	require.NotContains(t, enc.Fields, "vendor")

	require.Equal(t, "base", ScopeBase.String())
	require.Equal(t, "Scope(9)", Scope(9).String())
}

func TestTrades(t *testing.T) {
	t.Parallel()
	cfg, err := load(t, minimal(), ScopeSync)
	require.NoError(t, err)
	require.False(t, cfg.Trades, "off by default")
	require.Zero(t, cfg.TradesInterval)
	cfg, err = load(t, with(with(minimal(), EnvTrades, "ON"), EnvTradesInterval, "30s"), ScopeSync)
	require.NoError(t, err)
	require.True(t, cfg.Trades)
	require.Equal(t, 30*time.Second, cfg.TradesInterval)
}
