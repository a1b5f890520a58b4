package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/syncd/syncd/internal/vendor"
)

// Horizon is how far back backfill reaches: either a fixed instant (an RFC
// 3339 time or a date) or a look-back relative to the moment it is resolved.
// A look-back keeps its meaning across restarts ("the last 30 days"), which
// is why the unresolved form is kept rather than a time.Time.
type Horizon struct {
	raw      string
	at       time.Time     // set for a fixed instant
	lookBack time.Duration // set for a look-back
}

// maxLookBack bounds a look-back so that arithmetic on it cannot overflow and
// a typo such as 30000w is caught. No vendor keeps a century of bars.
const maxLookBack = 100 * 365 * 24 * time.Hour

// earliestHorizon rejects fixed instants before the Unix epoch: no vendor
// serves bars that old, and such a value is almost surely a typo (0024-01-01).
var earliestHorizon = time.Unix(0, 0).UTC()

// errHorizonSyntax marks a value that is none of the accepted forms. Like
// every parse error here it is a predicate that reads after the quoted value:
// `"90x" is not a time, date or look-back`.
var errHorizonSyntax = errors.New("is not a time, date or look-back")

// lookBackUnits are the units of a look-back. "m" is minutes (as in 1m bars);
// months and years are not offered because their length varies.
var lookBackUnits = map[byte]time.Duration{
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// ParseHorizon reads a backfill horizon: an RFC 3339 time
// ("2024-01-01T00:00:00Z", any offset), a date ("2024-01-01", midnight UTC)
// or a look-back: a positive whole number followed by m, h, d or w ("90d",
// "36h", "2w"). Surrounding spaces are ignored. Whether the horizon lies in
// the past depends on a clock, so callers check that with From.
func ParseHorizon(s string) (Horizon, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Horizon{}, errHorizonSyntax
	}
	if d, ok, err := parseLookBack(s); ok {
		if err != nil {
			return Horizon{}, err
		}
		return Horizon{raw: s, lookBack: d}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return fixedHorizon(s, t)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return fixedHorizon(s, t)
	}
	return Horizon{}, errHorizonSyntax
}

func fixedHorizon(raw string, t time.Time) (Horizon, error) {
	if t.Before(earliestHorizon) {
		return Horizon{}, fmt.Errorf("is before %s", earliestHorizon.Format(time.DateOnly))
	}
	return Horizon{raw: raw, at: t.UTC()}, nil
}

// parseLookBack reports ok when s has the shape digits+unit; err then says
// what is wrong with the number.
func parseLookBack(s string) (time.Duration, bool, error) {
	unit, known := lookBackUnits[s[len(s)-1]]
	digits := s[:len(s)-1]
	if !known || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > int64(maxLookBack/unit) {
		return 0, true, errors.New("is a look-back longer than 100 years")
	}
	if n == 0 {
		return 0, true, errors.New("is a zero look-back")
	}
	return time.Duration(n) * unit, true, nil
}

// IsZero reports whether h was never set.
func (h Horizon) IsZero() bool { return h.raw == "" }

// String returns the horizon as configured.
func (h Horizon) String() string { return h.raw }

// LookBack returns the look-back and true when h is relative.
func (h Horizon) LookBack() (time.Duration, bool) { return h.lookBack, h.lookBack != 0 }

// From resolves the horizon against now: the instant backfill reaches back to.
func (h Horizon) From(now time.Time) time.Time {
	if h.lookBack != 0 {
		return now.Add(-h.lookBack)
	}
	return h.at
}

// splitList splits a comma list, trimming each item, and rejects empty items
// and duplicates. what names the items in errors ("symbol", "timeframe").
func splitList(s, what string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("is empty")
	}
	parts := strings.Split(s, ",")
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("has an empty %s at position %d (a stray comma?)", what, i+1)
		}
		if slices.Contains(out, p) {
			return nil, fmt.Errorf("lists %s %q twice", what, p)
		}
		out = append(out, p)
	}
	return out, nil
}

// maxSymbolLen bounds one symbol. Vendor codes are short ("US:AAPL",
// "BTCUSDT"); anything long is a mistake, such as a pasted URL.
const maxSymbolLen = 64

// ParseSymbols reads a comma list of vendor symbols. Items are trimmed; empty
// items, duplicates, and items with spaces, control or non-ASCII characters
// are errors. Case is kept: the codes are the vendor's own.
func ParseSymbols(s string) ([]string, error) {
	syms, err := splitList(s, "symbol")
	if err != nil {
		return nil, err
	}
	for _, sym := range syms {
		if len(sym) > maxSymbolLen {
			return nil, fmt.Errorf("has a symbol longer than %d characters (%q…)", maxSymbolLen, sym[:16])
		}
		for _, r := range sym {
			if r <= ' ' || r >= utf8.RuneSelf || r == 0x7f {
				return nil, fmt.Errorf("has symbol %q with a character other than printable ASCII", sym)
			}
		}
	}
	return syms, nil
}

// ParseTimeframes reads a comma list of timeframes in syncd's notation (see
// vendor.ParseTimeframe; "1m" is a minute, "1M" a month). Items are trimmed;
// empty items, duplicates and unknown timeframes are errors. The order given
// is kept.
func ParseTimeframes(s string) ([]vendor.Timeframe, error) {
	items, err := splitList(s, "timeframe")
	if err != nil {
		return nil, err
	}
	out := make([]vendor.Timeframe, 0, len(items))
	for _, it := range items {
		tf, err := vendor.ParseTimeframe(it)
		if err != nil {
			return nil, fmt.Errorf("has unknown timeframe %q (known: 1m 5m 15m 30m 1h 2h 4h 1d 1w 1M)", it)
		}
		out = append(out, tf)
	}
	return out, nil
}

// CheckListenAddr accepts a listen address: host:port with a numeric port.
// An empty host means every interface. The error reads after the quoted
// value, like every parse error here.
func CheckListenAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("is not host:port")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" || (n == 0 && port != "0") {
		return fmt.Errorf("has port %q, which is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, " \t/") {
		return fmt.Errorf("has host %q, which is not a host name or IP address", host)
	}
	return nil
}

// checkVendorURL accepts an absolute http or https URL without credentials,
// query or fragment: the URL is logged, so the key must not hide in it.
func checkVendorURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("is not an absolute http:// or https:// URL")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("carries credentials, a query or a fragment; put the key in %s", EnvVendorToken)
	}
	return nil
}

// parsePositiveDuration reads a Go duration ("10s", "1m30s") that must be > 0.
func parsePositiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("is not a duration")
	}
	if d <= 0 {
		return 0, errors.New("is not a positive duration")
	}
	return d, nil
}
