package config

import (
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/logging"
)

// FuzzLoad feeds Load every configuration value a user types that the
// targets above do not cover (vendor, URL, plan, durations, address, log
// settings, switches): whatever the values, Load returns a usable
// configuration or an error, never panics, and never echoes the secrets.
func FuzzLoad(f *testing.F) {
	f.Add("alltick", "", "free", "", "10ms", "127.0.0.1:9464", "info", "json", "30s", "off", "")
	f.Add("qos", "http://sim:8080", "custom:per_second=5", "3s", "0", ":9464", "DEBUG", " console ", "1m", "on", "5s")
	f.Add("xdtick", "https://u:p@h/x?y=1", "premium", "-1s", "-5ms", "localhost", "", "xml", "0", "maybe", "1h")
	f.Add("nope", "ftp://h", "", "1e9", "1h", "[::1]:0", "fatal", "", "99999h", "true", "0s")
	f.Fuzz(func(t *testing.T, vendorName, vendorURL, planName, poll, margin, addr, level, format, shutdown, trades, tradesEvery string) {
		env := with(minimal(),
			EnvVendor, vendorName, EnvVendorURL, vendorURL, EnvPlan, planName, EnvPollInterval, poll,
			EnvQuotaMargin, margin, EnvHTTPAddr, addr, EnvLogLevel, level, EnvLogFormat, format,
			EnvShutdownTimeout, shutdown, EnvTrades, trades, EnvTradesInterval, tradesEvery)
		c, err := Load(t.Context(), envconfig.MapLookuper(env), clock.NewFake(now), ScopeSync)
		if err != nil {
			if c != nil {
				t.Fatalf("Load failed (%v) but returned a configuration", err)
			}
			if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, dbPassword) {
				t.Fatalf("Load's error shows a secret: %s", msg)
			}
			return
		}
		if c.Vendor == "" || c.Plan == "" || len(c.Symbols) == 0 || len(c.Timeframes) == 0 {
			t.Fatalf("Load succeeded with an incomplete configuration: %+v", c)
		}
		if c.ShutdownTimeout <= 0 || c.PollInterval < 0 || c.TradesInterval < 0 {
			t.Fatalf("Load succeeded with a bad duration: shutdown %v, poll %v, trades %v", c.ShutdownTimeout, c.PollInterval, c.TradesInterval)
		}
		if _, err := logging.ParseFormat(string(c.LogFormat)); err != nil {
			t.Fatalf("Load succeeded with log format %q", c.LogFormat)
		}
		if err := CheckListenAddr(c.HTTPAddr); c.HTTPAddr != "" && err != nil {
			t.Fatalf("Load succeeded with listen address %q: %v", c.HTTPAddr, err)
		}
	})
}
