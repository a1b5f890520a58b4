package config

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syncd/syncd/internal/vendor"
)

// The seed corpus of each target lives in testdata/fuzz/<Target>; the f.Add
// calls below hold the inputs that document the grammar.

func FuzzParseHorizon(f *testing.F) {
	for _, s := range []string{"30d", "90d", "36h", "2w", "15m", "0d", "2024-01-01", "2024-01-01T00:00:00Z", "2024-02-29T23:59:59.999+08:00", "90x", "", " 7d "} {
		f.Add(s)
	}
	fuzzNow := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHorizon(s)
		if err != nil {
			if !h.IsZero() {
				t.Fatalf("ParseHorizon(%q) failed but returned %v", s, h)
			}
			if !strings.HasPrefix(err.Error(), "is ") {
				t.Fatalf("ParseHorizon(%q) error %q does not read after the value", s, err)
			}
			return
		}
		if h.String() != strings.TrimSpace(s) {
			t.Fatalf("ParseHorizon(%q).String() = %q", s, h.String())
		}
		from := h.From(fuzzNow)
		if d, ok := h.LookBack(); ok {
			if d <= 0 || d > maxLookBack || !from.Before(fuzzNow) {
				t.Fatalf("ParseHorizon(%q) gave look-back %v, from %v", s, d, from)
			}
		} else if from.Before(earliestHorizon) || from.Location() != time.UTC {
			t.Fatalf("ParseHorizon(%q) gave instant %v", s, from)
		}
		again, err := ParseHorizon(h.String())
		if err != nil || !again.From(fuzzNow).Equal(from) {
			t.Fatalf("ParseHorizon(%q) does not round-trip: %v %v", s, again, err)
		}
	})
}

func FuzzParseSymbols(f *testing.F) {
	for _, s := range []string{"BTCUSDT", "BTCUSDT,ETHUSDT", " 700.HK , US:AAPL ", "A,,B", "A,A", ",", "", "BTC USDT", "腾讯", strings.Repeat("X", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		syms, err := ParseSymbols(s)
		if err != nil {
			if syms != nil {
				t.Fatalf("ParseSymbols(%q) failed but returned %q", s, syms)
			}
			return
		}
		if len(syms) == 0 {
			t.Fatalf("ParseSymbols(%q) succeeded with no symbols", s)
		}
		seen := map[string]bool{}
		for _, sym := range syms {
			if sym == "" || seen[sym] || len(sym) > maxSymbolLen || strings.ContainsAny(sym, ", \t\r\n") || !utf8.ValidString(sym) {
				t.Fatalf("ParseSymbols(%q) returned bad symbol %q in %q", s, sym, syms)
			}
			seen[sym] = true
		}
		again, err := ParseSymbols(strings.Join(syms, ","))
		if err != nil || strings.Join(again, ",") != strings.Join(syms, ",") {
			t.Fatalf("ParseSymbols(%q) does not round-trip: %q %v", s, again, err)
		}
	})
}

func FuzzParseTimeframes(f *testing.F) {
	for _, s := range []string{"1m", "1m,5m,1h", "1M, 1m", "1m,1m", "3m", "", ",", "1H", "1w ,1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tfs, err := ParseTimeframes(s)
		if err != nil {
			if tfs != nil {
				t.Fatalf("ParseTimeframes(%q) failed but returned %q", s, tfs)
			}
			return
		}
		if len(tfs) == 0 || len(tfs) > len(vendor.Timeframes) {
			t.Fatalf("ParseTimeframes(%q) returned %d timeframes", s, len(tfs))
		}
		parts := make([]string, len(tfs))
		seen := map[vendor.Timeframe]bool{}
		for i, tf := range tfs {
			if !tf.Valid() || seen[tf] {
				t.Fatalf("ParseTimeframes(%q) returned %q", s, tfs)
			}
			seen[tf] = true
			parts[i] = string(tf)
		}
		again, err := ParseTimeframes(strings.Join(parts, ","))
		if err != nil || len(again) != len(tfs) {
			t.Fatalf("ParseTimeframes(%q) does not round-trip: %q %v", s, again, err)
		}
	})
}
