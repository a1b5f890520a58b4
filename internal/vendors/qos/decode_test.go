package qos

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/transport"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden.json files")

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// golden compares got (marshalled) with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o600))
	}
	require.JSONEq(t, string(fixture(t, name)), string(b))
}

type goldenBar struct {
	Time                                     string
	Open, High, Low, Close, Volume, Turnover string
}

func goldenBars(bars []vendor.Bar) []goldenBar {
	out := make([]goldenBar, 0, len(bars))
	for _, b := range bars {
		out = append(out, goldenBar{
			Time: b.Time.Format(time.RFC3339), Open: b.Open.String(), High: b.High.String(), Low: b.Low.String(),
			Close: b.Close.String(), Volume: b.Volume.String(), Turnover: b.Turnover.String(),
		})
	}
	return out
}

type goldenLatest struct {
	Bars    map[string][]goldenBar
	Missing []string
	Invalid map[string]string
	Rejects []string
}

func toGoldenLatest(l vendor.Latest) goldenLatest {
	g := goldenLatest{Bars: map[string][]goldenBar{}, Invalid: map[string]string{}}
	for s, b := range l.Bars {
		g.Bars[s.String()] = goldenBars(b)
	}
	for _, s := range l.Missing {
		g.Missing = append(g.Missing, s.String())
	}
	sort.Strings(g.Missing)
	for s, err := range l.Invalid {
		g.Invalid[s.String()] = err.Error()
	}
	for _, r := range l.Rejects {
		g.Rejects = append(g.Rejects, r.Series.String()+": "+r.Reason)
	}
	return g
}

// docCodes are the products of the doc's /kline and /trade examples.
var docCodes = []string{"US:AAPL", "US:TSLA", "HK:700", "HK:9988", "SH:600519", "SH:600518", "CF:BTCUSDT", "CF:ETHUSDT"}

// TestDocRequestExamples checks that the client's requests encode like the
// doc's: /kline (4.6.2, with co 2 where the doc asks 1), /history (4.7.2),
// /trade (4.5.2).
func TestDocRequestExamples(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusOK, Envelope{Msg: MsgOK, Data: json.RawMessage(`[]`)}
	}}
	c, _ := newClient(t, f, nil)
	ctx := context.Background()

	_, err := c.Latest(ctx, ser(vendor.TF1d, docCodes...))
	require.NoError(t, err)
	var want KlineRequest
	require.NoError(t, json.Unmarshal(fixture(t, "doc_kline_request.json"), &want))
	for i := range want.KlineReqs {
		want.KlineReqs[i].Co = LatestCount
	}
	bodies := f.Calls()
	require.Equal(t, PathKline, bodies[0].Path)
	require.JSONEq(t, string(js(want)), bodies[0].Body)

	_, err = c.History(ctx, "CF:BTCUSDT", vendor.TF1d, time.Unix(1741959608, 0), 1)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(fixture(t, "doc_history_request.json"), &want))
	bodies = f.Calls()
	require.Equal(t, PathHistory, bodies[1].Path)
	want.KlineReqs = want.KlineReqs[:1]
	require.JSONEq(t, string(js(want)), bodies[1].Body)

	_, err = c.Trades(ctx, []string{"US:AAPL", "US:TSLA", "HK:700", "HK:9988", "SH:600519", "SH:600518", "SZ:000001", "SZ:002594", "CF:BTCUSDT", "CF:ETHUSDT"})
	require.NoError(t, err)
	bodies = f.Calls()
	require.Equal(t, PathTrade, bodies[2].Path)
	require.JSONEq(t, string(fixture(t, "doc_trade_request.json")), bodies[2].Body)
}

// TestWireRoundTrip decodes every HTTP example with the exported wire types
// and encodes it back: the simulator relies on that.
func TestWireRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"doc_kline_request.json", "doc_history_request.json", "vendors_kline_request.json"} {
		var req KlineRequest
		require.NoError(t, json.Unmarshal(fixture(t, name), &req), name)
		require.JSONEq(t, string(fixture(t, name)), string(js(req)), name)
	}
	// The WebSocket RK/RH commands carry the same kline_reqs next to type and reqid.
	for _, name := range []string{"doc_ws_rk_request.json", "doc_ws_rh_request.json"} {
		var cmd struct {
			Type  string `json:"type"`
			Reqid int    `json:"reqid"`
			KlineRequest
		}
		require.NoError(t, json.Unmarshal(fixture(t, name), &cmd), name)
		require.Len(t, cmd.KlineReqs, 1)
		require.JSONEq(t, string(fixture(t, name)), string(js(cmd)), name)
	}
	var tr TradeRequest
	require.NoError(t, json.Unmarshal(fixture(t, "doc_trade_request.json"), &tr))
	require.JSONEq(t, string(fixture(t, "doc_trade_request.json")), string(js(tr)))

	for _, name := range []string{"doc_kline_response.json", "doc_history_response.json", "vendors_kline_response.json"} {
		var env Envelope
		require.NoError(t, json.Unmarshal(fixture(t, name), &env), name)
		var data []KlineSeries
		require.NoError(t, json.Unmarshal(env.Data, &data), name)
		env.Data = js(data)
		require.JSONEq(t, string(fixture(t, name)), string(js(env)), name)
	}
	var env Envelope
	require.NoError(t, json.Unmarshal(fixture(t, "doc_trade_response.json"), &env))
	var trades []Trade
	require.NoError(t, json.Unmarshal(env.Data, &trades))
	env.Data = js(trades)
	require.JSONEq(t, string(fixture(t, "doc_trade_response.json")), string(js(env)))
}

func TestDocResponseGolden(t *testing.T) {
	t.Parallel()
	serve := func(name string) *Client {
		c, _ := newClient(t, &fake{answer: func(call) (int, any) { return http.StatusOK, fixture(t, name) }}, nil)
		return c
	}
	ctx := context.Background()
	got, err := serve("doc_kline_response.json").Latest(ctx, ser(vendor.TF1d, docCodes...))
	require.NoError(t, err)
	require.Empty(t, got.Missing)
	golden(t, "doc_kline_response.golden.json", toGoldenLatest(got))

	got, err = serve("doc_history_response.json").Latest(ctx, ser(vendor.TF1d, "CF:BTCUSDT", "US:AAPL"))
	require.NoError(t, err)
	golden(t, "doc_history_response.golden.json", toGoldenLatest(got))

	for _, name := range []string{"doc_ws_rk_response.json", "doc_ws_rh_response.json"} {
		got, err = serve(name).Latest(ctx, ser(vendor.TF1d, "CF:BTCUSDT", "CF:ETHUSDT"))
		require.NoError(t, err, name)
		golden(t, name[:len(name)-len(".json")]+".golden.json", toGoldenLatest(got))
	}

	page, err := serve("vendors_kline_response.json").History(ctx, "US:AAPL", vendor.TF1d, time.Unix(1741959608, 0), 1)
	require.NoError(t, err)
	require.Empty(t, page.Rejects)
	golden(t, "vendors_kline_response.golden.json", goldenBars(page.Bars))

	trades, err := serve("doc_trade_response.json").Trades(ctx, []string{"US:AAPL", "US:TSLA", "HK:00700", "HK:9988", "SH:600519", "SH:600518", "SZ:000001", "SZ:002594", "CF:BTCUSDT", "CF:ETHUSDT"})
	require.NoError(t, err)
	require.Len(t, trades, 10)
	golden(t, "doc_trade_response.golden.json", trades)
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		kind   error
	}{
		{"RateEN", 200, `{"msg":"request rate limit exceeded"}`, vendor.ErrRateLimited},
		{"FrequencyEN", 200, `{"msg":"Request too frequent"}`, vendor.ErrRateLimited},
		{"RateZH", 200, `{"msg":"请求频率超过限制"}`, vendor.ErrRateLimited},
		{"ProductLimit", 200, `{"msg":"subscribed products exceed plan limit"}`, vendor.ErrRateLimited},
		{"HTTP429", 429, `{"msg":"slow down"}`, vendor.ErrRateLimited},
		{"HTTP429NoBody", 429, ``, vendor.ErrRateLimited},
		{"KeyInvalid", 200, `{"msg":"invalid key"}`, vendor.ErrAuth},
		{"AuthEN", 200, `{"msg":"authentication failed"}`, vendor.ErrAuth},
		{"Permission", 200, `{"msg":"no permission for HK market"}`, vendor.ErrAuth},
		{"AuthZH", 200, `{"msg":"key无效或已过期"}`, vendor.ErrAuth},
		{"HTTP401Unknown", 401, `{"msg":"denied"}`, vendor.ErrAuth},
		{"HTTP403OK", 403, `{"msg":"OK"}`, vendor.ErrAuth},
		{"UnknownCode", 200, `{"msg":"unknown code US:FOO"}`, vendor.ErrInvalidSymbol},
		{"CodeNotExist", 200, `{"msg":"code not exist"}`, vendor.ErrInvalidSymbol},
		{"ProductZH", 200, `{"msg":"品种不存在"}`, vendor.ErrInvalidSymbol},
		{"InvalidSymbol", 400, `{"msg":"invalid symbol"}`, vendor.ErrInvalidSymbol},
		{"Busy", 200, `{"msg":"server busy, try again"}`, vendor.ErrTransient},
		{"HTTP500Unknown", 500, `{"msg":"oops"}`, vendor.ErrTransient},
		{"HTTP502HTML", 502, `<html>bad gateway</html>`, vendor.ErrTransient},
		{"UnknownText", 200, `{"msg":"something odd"}`, vendor.ErrProtocol},
		{"EmptyMsg", 200, `{"msg":""}`, vendor.ErrProtocol},
		{"LowerOK", 200, `{"msg":"ok","data":[]}`, vendor.ErrProtocol},
		{"NoMsg", 200, `{"data":[]}`, vendor.ErrProtocol},
		{"MsgNumber", 200, `{"msg":200,"data":[]}`, vendor.ErrProtocol},
		{"Malformed", 200, `{"msg":"OK",`, vendor.ErrProtocol},
		{"NotJSON", 200, `hello`, vendor.ErrProtocol},
		{"HTTP400Unknown", 400, `{"msg":"bad"}`, vendor.ErrProtocol},
		{"Null", 200, `null`, vendor.ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeEnvelope(transport.Response{Status: tc.status, Body: []byte(tc.body)})
			require.ErrorIs(t, err, tc.kind)
			for _, other := range sentinels {
				if !errors.Is(tc.kind, other) {
					require.NotErrorIs(t, err, other, "exactly one sentinel")
				}
			}
			var ae *vendor.APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, vendor.QOS, ae.Vendor)
		})
	}
	env, err := decodeEnvelope(transport.Response{Status: 200, Body: fixture(t, "doc_ws_rk_response.json")})
	require.NoError(t, err, "the WebSocket RK answer shares the envelope")
	require.Equal(t, MsgOK, env.Msg)
}

func TestParseCode(t *testing.T) {
	t.Parallel()
	good := []string{"US:AAPL", "US:BRK.B", "HK:700", "HK:00700", "HK:9988", "SH:600519", "SZ:000001", "SZ:002594",
		"CF:BTCUSDT", "FX:EURUSD", "CM:XAUUSD", "CM:XTIUSD", "IX:HSI", "SI:000300"}
	for _, code := range good {
		_, err := ParseCode(code)
		require.NoError(t, err, code)
	}
	bad := map[string]string{
		"AAPL":         "MARKET:SYMBOL",
		"us:AAPL":      "upper case",
		"XX:AAPL":      "unknown market",
		"US:":          "empty symbol",
		"US:AAPL,TSLA": "upper-case letters",
		"US:AAPL:X":    "upper-case letters",
		"US:aapl":      "upper-case letters",
		"HK:000700":    "up to 5 digits",
		"HK:TCH":       "up to 5 digits",
		"SH:60051":     "6 digits",
	}
	for code, hint := range bad {
		_, err := ParseCode(code)
		require.ErrorIs(t, err, vendor.ErrInvalidSymbol, code)
		require.ErrorContains(t, err, hint, code)
	}
	require.True(t, SameCode("HK:700", "HK:00700"))
	require.True(t, SameCode("hk:0", "HK:000"))
	require.False(t, SameCode("HK:700", "HK:7000"))
	require.False(t, SameCode("US:0700", "US:700"), "only HK codes are zero-padded")
	require.Equal(t, []string{"US:FOO"}, namedCodes("unknown code US:FOO, check it", []string{"US:FOO", "US:FO", "US:AAPL"}))
	require.Equal(t, []string{"HK:700"}, namedCodes("HK:00700 not exist", []string{"HK:700"}))
}

func TestKlineTypes(t *testing.T) {
	t.Parallel()
	want := []int{1, 5, 15, 30, 60, 120, 240, 1001, 1007, 1030}
	for i, tf := range vendor.Timeframes {
		kt, ok := KlineType(tf)
		require.True(t, ok, tf)
		require.Equal(t, want[i], kt, tf)
		back, ok := TimeframeOf(kt)
		require.True(t, ok)
		require.Equal(t, tf, back)
	}
	_, ok := TimeframeOf(KtYear)
	require.False(t, ok)
}
