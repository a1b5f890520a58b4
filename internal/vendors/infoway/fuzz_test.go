package infoway

import (
	"encoding/json"
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
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
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

// FuzzDecodeEnvelope: any status and body yields an envelope or an error
// wrapping exactly one sentinel, never a panic.
func FuzzDecodeEnvelope(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(200, b); f.Add(429, b); f.Add(401, b) })
	f.Add(200, []byte(`{"ret":513,"msg":"x","data":null}`))
	f.Add(500, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := decodeEnvelope(transport.Response{Status: status, Body: body})
		if err == nil {
			require.Equal(t, RetOK, env.Ret)
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

// FuzzDecodeKline runs a body through the whole K-line decoding: envelope,
// data, bars. Bars come out ascending and unique; every element is a bar or a
// reject.
func FuzzDecodeKline(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(b) })
	f.Add([]byte(`{"ret":200,"msg":"success","data":[{"s":"A.US","respList":[{"t":"1","o":"1","h":"1","l":"1","c":"1","v":"1"},{"t":1e3}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeEnvelope(transport.Response{Status: 200, Body: body})
		if err != nil {
			return
		}
		list, bad, reasons, err := decodeKlineData(env.Data)
		if err != nil {
			require.ErrorIs(t, err, vendor.ErrProtocol)
			return
		}
		require.Len(t, reasons, len(bad))
		s := vendor.Series{Vendor: vendor.Infoway, Symbol: "X", Timeframe: vendor.TF1m}
		// What the one-pass decoding accepts, element-wise decoding must accept
		// whole and read the same.
		if fast, ok := decodeKlineFast(env.Data); ok {
			require.Empty(t, bad)
			require.Len(t, list, len(fast))
			for i, rs := range list {
				require.Equal(t, *rs.S, fast[i].S)
				bars, rejects := barsOf(s, rs.RespList)
				require.Empty(t, rejects)
				require.Equal(t, bars, vendor.SortBars(fast[i].Bars))
			}
		}
		for _, rs := range list {
			require.NotNil(t, rs.S)
			bars, rejects := barsOf(s, rs.RespList)
			require.LessOrEqual(t, len(bars)+len(rejects), len(rs.RespList))
			for i := 1; i < len(bars); i++ {
				require.True(t, bars[i-1].Time.Before(bars[i].Time))
			}
			for _, r := range rejects {
				require.NotEmpty(t, r.Reason)
				require.True(t, json.Valid(r.Raw))
			}
		}
	})
}

// FuzzDecodeTrades: any data array decodes to trades with plausible times.
func FuzzDecodeTrades(f *testing.F) {
	f.Add([]byte(`[{"s":"AAPL.US","t":1786737599123,"p":"1","v":"2","vw":"3","td":1}]`))
	f.Add([]byte(`[{"s":"A","t":"1786737599123","p":1.5,"v":"2"},{"s":"B","t":17867375991}]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		trades, bad, err := decodeTrades(data)
		if err != nil {
			require.ErrorIs(t, err, vendor.ErrProtocol)
			return
		}
		for _, tr := range trades {
			require.NotEmpty(t, tr.Symbol)
			require.GreaterOrEqual(t, tr.Time.Year(), 1973)
			require.GreaterOrEqual(t, tr.Direction, 0)
		}
		for _, b := range bad {
			require.NotEmpty(t, b)
		}
	})
}

// FuzzParseCode: any code is accepted with a known backend or refused as an
// invalid symbol; an accepted code never holds a comma.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"AAPL.US", "00700.HK", "700.HK", "BTCUSDT", "EURUSD", "600519.SH", "x.y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		c, err := ParseCode(code)
		if err != nil {
			require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
			return
		}
		require.Contains(t, []string{MktStock, MktJapan, MktIndia, MktKorea, MktTaiwan, MktCrypto, MktCommon}, c.Mkt)
		require.NotContains(t, code, ",")
		require.NotContains(t, code, "/")
	})
}
