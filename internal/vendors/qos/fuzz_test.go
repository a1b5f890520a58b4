package qos

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// seedFixtures adds every testdata/*.json to f.
func seedFixtures(f *testing.F, add func([]byte)) {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "doc_*.json"))
	require.NoError(f, err)
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(f, err)
		add(b)
	}
}

var sentinels = []error{
	vendor.ErrRateLimited, vendor.ErrQuotaExhausted, vendor.ErrAuth, vendor.ErrInvalidSymbol,
	vendor.ErrBeyondRange, vendor.ErrUnsupported, vendor.ErrTransient, vendor.ErrProtocol,
}

// FuzzDecodeEnvelope: any status and body yields an "OK" envelope or an
// error wrapping exactly one sentinel, never a panic.
func FuzzDecodeEnvelope(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(200, b) })
	f.Add(429, []byte(`{"msg":"请求频率超过限制"}`))
	f.Add(200, []byte(`{"msg":"unknown code US:FOO"}`))
	f.Add(502, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := decodeEnvelope(transport.Response{Status: status, Body: body})
		if err == nil {
			require.Equal(t, MsgOK, env.Msg)
			return
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		require.Equal(t, 1, n, "exactly one sentinel: %v", err)
	})
}

// FuzzDecodeKline runs a body through the whole kline decoding: envelope,
// data, bars. Bars come out ascending and unique.
func FuzzDecodeKline(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"msg":"OK","data":[{"c":"HK:700","k":[{"c":"HK:700","o":1,"cl":"1","h":"1","l":"1","v":"1","ts":"1","kt":1},{"ts":1e3}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeEnvelope(transport.Response{Status: 200, Body: body})
		if err != nil {
			return
		}
		list, bad, err := decodeKlineData(env.Data)
		if err != nil {
			require.ErrorIs(t, err, vendor.ErrProtocol)
			return
		}
		for _, b := range bad {
			require.NotEmpty(t, b.reason)
		}
		// What the one-pass decoding accepts, element-wise decoding must accept
		// whole and read the same, the bars' own codes included.
		if fast, ok := decodeKlineFast(env.Data); ok {
			require.Empty(t, bad)
			require.Len(t, list, len(fast))
			for i, s := range list {
				require.Equal(t, *s.C, fast[i].C)
				require.Len(t, fast[i].K, len(s.K))
				for j, raw := range s.K {
					wb, reason := toBar(raw)
					require.Empty(t, reason)
					b, ok := fast[i].K[j].bar()
					require.True(t, ok)
					require.Equal(t, wb.bar, b)
					require.Equal(t, wb.kt, int(fast[i].K[j].Kt))
					require.Equal(t, wb.code == "" || wb.code == *s.C, fast[i].K[j].fromSeries(*s.C))
				}
			}
		}
		for _, s := range list {
			require.NotNil(t, s.C)
			var bars []vendor.Bar
			for _, raw := range s.K {
				wb, reason := toBar(raw)
				if reason == "" {
					bars = append(bars, wb.bar)
				}
			}
			bars = vendor.SortBars(bars)
			for i := 1; i < len(bars); i++ {
				require.True(t, bars[i-1].Time.Before(bars[i].Time))
			}
		}
	})
}

// FuzzDecodeTrades: any data array decodes to trades with plausible times.
func FuzzDecodeTrades(f *testing.F) {
	f.Add([]byte(`[{"c":"CF:ETHUSDT","p":"1900.73","v":"0.025","ts":1741958480,"d":1}]`))
	f.Add([]byte(`[{"c":"A","p":1.5,"v":"2","ts":"1741958480"},{"c":"B","ts":1741958480000}]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		trades, bad, err := decodeTrades(data)
		if err != nil {
			require.ErrorIs(t, err, vendor.ErrProtocol)
			return
		}
		for _, tr := range trades {
			require.NotEmpty(t, tr.Symbol)
			require.Positive(t, tr.Time.Unix())
			require.GreaterOrEqual(t, tr.Direction, 0)
		}
		for _, b := range bad {
			require.NotEmpty(t, b)
		}
	})
}

// FuzzCodes: ParseCode accepts a code with a known market or refuses it as an
// invalid symbol; SameCode is reflexive and symmetric; namedCodes never
// invents a code.
func FuzzCodes(f *testing.F) {
	for _, s := range []string{"US:AAPL", "HK:700", "HK:00700", "SH:600519", "CF:BTCUSDT", "x", ""} {
		f.Add(s, "unknown code "+s)
	}
	f.Fuzz(func(t *testing.T, code, msg string) {
		c, err := ParseCode(code)
		if err != nil {
			require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
		} else {
			require.Contains(t, markets, c.Mkt)
			require.NotContains(t, c.Sym, ",")
			require.NotContains(t, c.Sym, ":")
		}
		require.True(t, SameCode(code, code))
		require.Equal(t, SameCode(code, msg), SameCode(msg, code))
		for _, n := range namedCodes(msg, []string{code}) {
			require.Equal(t, code, n)
		}
	})
}
