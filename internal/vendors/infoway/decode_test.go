package infoway

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// TestDocRequestExamples checks that the client's requests encode like the
// examples: the zh doc's (its // comments stripped) and vendors.md §5.2.
func TestDocRequestExamples(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"doc_kline_request.json", "vendors_kline_request.json"} {
		var req KlineRequest
		require.NoError(t, json.Unmarshal(fixture(t, name), &req), name)
		b, err := json.Marshal(req)
		require.NoError(t, err)
		require.JSONEq(t, string(fixture(t, name)), string(b), name)
	}

	// The client's own history request is vendors.md's example byte for byte.
	f := &fake{}
	c, _ := newClient(t, f, nil)
	_, err := c.History(context.Background(), "AAPL.US", vendor.TF1m, time.Unix(1758553860, 0), 500)
	require.NoError(t, err)
	require.Equal(t, strings.TrimSpace(string(fixture(t, "vendors_kline_request.json"))), f.Calls()[0].Body)
}

// TestWireRoundTrip decodes every example with the exported wire types and
// encodes it back: the simulator relies on that.
func TestWireRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"doc_kline_response.json", "vendors_kline_response.json", "err_all_product_not_exists.json"} {
		var env Envelope
		require.NoError(t, json.Unmarshal(fixture(t, name), &env), name)
		var data []KlineSeries
		require.NoError(t, json.Unmarshal(env.Data, &data), name)
		env.Data = js(data)
		if data == nil {
			env.Data = json.RawMessage("null")
		}
		b, err := json.Marshal(env)
		require.NoError(t, err)
		require.JSONEq(t, string(fixture(t, name)), string(b), name)
	}
	var env Envelope
	require.NoError(t, json.Unmarshal(fixture(t, "trade_response.json"), &env))
	var trades []Trade
	require.NoError(t, json.Unmarshal(env.Data, &trades))
	env.Data = js(trades)
	b := js(env)
	require.JSONEq(t, string(fixture(t, "trade_response.json")), string(b))

	for name, v := range map[string]any{
		"err_http429.json":         &TooManyBody{},
		"err_http401.json":         &UnauthorizedBody{},
		"err_http400_problem.json": &ProblemBody{},
	} {
		require.NoError(t, json.Unmarshal(fixture(t, name), v), name)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.JSONEq(t, string(fixture(t, name)), string(b), name)
	}
}

func TestDocResponseGolden(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) { return http.StatusOK, fixture(t, "doc_kline_response.json") }}
	c, _ := newClient(t, f, nil)
	got, err := c.Latest(context.Background(), []vendor.Series{
		{Vendor: vendor.Infoway, Symbol: "TSLA.US", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "01810.HK", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: vendor.TF1m},
	})
	require.NoError(t, err)
	golden(t, "doc_kline_response.golden.json", toGoldenLatest(got))

	f2 := &fake{answer: func(call) (int, any) { return http.StatusOK, fixture(t, "vendors_kline_response.json") }}
	c2, _ := newClient(t, f2, nil)
	page, err := c2.History(context.Background(), "AAPL.US", vendor.TF1m, time.Time{}, 500)
	require.NoError(t, err)
	require.Empty(t, page.Rejects)
	golden(t, "vendors_kline_response.golden.json", goldenBars(page.Bars))

	f3 := &fake{answer: func(call) (int, any) { return http.StatusOK, fixture(t, "trade_response.json") }}
	c3, _ := newClient(t, f3, nil)
	trades, err := c3.Trades(context.Background(), []string{"AAPL.US", "00700.HK"})
	require.NoError(t, err)
	golden(t, "trade_response.golden.json", trades)
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		kind   error
		code   string
	}{
		{"AllProductNotExists", 200, string(fixture(t, "err_all_product_not_exists.json")), vendor.ErrInvalidSymbol, "500"},
		{"HTTP429", 429, string(fixture(t, "err_http429.json")), vendor.ErrRateLimited, ""},
		{"HTTP401", 401, string(fixture(t, "err_http401.json")), vendor.ErrAuth, "401"},
		{"RFC7807_400", 400, string(fixture(t, "err_http400_problem.json")), vendor.ErrProtocol, "400"},
		{"RFC7807_404", 404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"No static resource x.","instance":"/x"}`, vendor.ErrProtocol, "404"},
		{"Ret501", 200, `{"ret":501,"msg":"request frequency exceeded","traceId":"t","data":null}`, vendor.ErrRateLimited, "501"},
		{"Ret429", 200, `{"ret":429,"msg":"too many","data":null}`, vendor.ErrRateLimited, "429"},
		{"Ret502", 200, `{"ret":502,"msg":"daily limit","data":null}`, vendor.ErrQuotaExhausted, "502"},
		{"Ret503", 200, `{"ret":503,"msg":"kline num exceeds","data":null}`, vendor.ErrUnsupported, "503"},
		{"Ret504", 200, `{"ret":504,"msg":"depth exceeds","data":null}`, vendor.ErrUnsupported, "504"},
		{"Ret505", 200, `{"ret":505,"msg":"too many products","data":null}`, vendor.ErrUnsupported, "505"},
		{"Ret506", 200, `{"ret":506,"msg":"param error","data":null}`, vendor.ErrUnsupported, "506"},
		{"Ret507", 200, `{"ret":507,"msg":"param missing","data":null}`, vendor.ErrUnsupported, "507"},
		{"Ret508", 200, `{"ret":508,"msg":"product not exist","data":null}`, vendor.ErrInvalidSymbol, "508"},
		{"Ret509", 200, `{"ret":509,"msg":"token expired","data":null}`, vendor.ErrAuth, "509"},
		{"Ret513", 200, `{"ret":513,"msg":"TIME_LIMIT_ERROR","data":null}`, vendor.ErrBeyondRange, "513"},
		{"Ret514", 200, `{"ret":514,"msg":"no permission","data":null}`, vendor.ErrAuth, "514"},
		{"Ret500Other", 200, `{"ret":500,"msg":"server error","data":null}`, vendor.ErrTransient, "500"},
		{"Ret400", 200, `{"ret":400,"msg":"bad request","data":null}`, vendor.ErrProtocol, "400"},
		{"Ret511WS", 200, `{"ret":511,"msg":"heartbeat","data":null}`, vendor.ErrProtocol, "511"},
		{"RetUnknown", 200, `{"ret":777,"msg":"?","data":null}`, vendor.ErrProtocol, "777"},
		{"Ret508OnHTTP500", 500, `{"ret":508,"msg":"product not exist","data":null}`, vendor.ErrInvalidSymbol, "508"},
		{"HTTP502HTML", 502, `<html>bad gateway</html>`, vendor.ErrTransient, ""},
		{"HTTP503Empty", 503, ``, vendor.ErrTransient, ""},
		{"HTTP403", 403, `{"code":403,"message":"Forbidden"}`, vendor.ErrAuth, "403"},
		{"HTTP500Ret200", 500, `{"ret":200,"msg":"success","data":[]}`, vendor.ErrTransient, ""},
		{"Malformed", 200, `{"ret":200,`, vendor.ErrProtocol, ""},
		{"NotJSON", 200, `hello`, vendor.ErrProtocol, ""},
		{"NoRet", 200, `{"msg":"success","data":[]}`, vendor.ErrProtocol, ""},
		{"RetString", 200, `{"ret":"200","msg":"success","data":[]}`, vendor.ErrProtocol, ""},
		{"DetailOn200", 200, `{"detail":"Rate limit exceeded"}`, vendor.ErrRateLimited, ""}, // the SDK reports this body on 200 too
		{"CodeOn200", 200, `{"code":401,"message":"Token invalid","timestamp":1}`, vendor.ErrAuth, "401"},
		{"Array", 200, `[]`, vendor.ErrProtocol, ""},
		{"Null", 200, `null`, vendor.ErrProtocol, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeEnvelope(transport.Response{Status: tc.status, Body: []byte(tc.body)})
			require.ErrorIs(t, err, tc.kind)
			for _, other := range []error{vendor.ErrRateLimited, vendor.ErrQuotaExhausted, vendor.ErrAuth, vendor.ErrInvalidSymbol,
				vendor.ErrBeyondRange, vendor.ErrUnsupported, vendor.ErrTransient, vendor.ErrProtocol} {
				if !errors.Is(tc.kind, other) {
					require.NotErrorIs(t, err, other, "exactly one sentinel")
				}
			}
			var ae *vendor.APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.code, ae.Code)
			require.Equal(t, vendor.Infoway, ae.Vendor)
		})
	}
	env, err := decodeEnvelope(transport.Response{Status: 200, Body: fixture(t, "doc_kline_response.json")})
	require.NoError(t, err)
	require.Equal(t, "19814db2-42f7-4788-9b51-b2001bf17953", env.TraceID)
}

// TestErrorShapesThroughClient checks the sentinels survive the client's
// wrapping and the transport's enrichment.
func TestErrorShapesThroughClient(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusTooManyRequests, `{"detail":"Rate limit exceeded"}`
	}}
	c, _ := newClient(t, f, nil)
	_, err := c.History(context.Background(), "AAPL.US", vendor.TF1m, time.Time{}, 5)
	require.ErrorIs(t, err, vendor.ErrRateLimited)
	var ae *vendor.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusTooManyRequests, ae.HTTPStatus)
	require.Equal(t, vendor.EndpointHistory, ae.Endpoint)
	require.Contains(t, err.Error(), "Rate limit exceeded")
}

func TestParseCode(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"AAPL.US": MktStock, "BRK.B.US": MktStock, "00700.HK": MktStock, "01810.HK": MktStock, "600519.SH": MktStock,
		"000001.SZ": MktStock, "7203.JP": MktJapan, "RELIANCE.IN": MktIndia, "M&M.IN": MktIndia, "005930.KS": MktKorea,
		"2330.TW": MktTaiwan, "BTCUSDT": MktCrypto, "ETHBTC": MktCrypto, "USDJPY": MktCommon, "EURUSD": MktCommon,
		"USDCNY": MktCommon, "XAUUSD": MktCommon, "USOIL": MktCommon,
	}
	for code, mkt := range good {
		got, err := ParseCode(code)
		require.NoError(t, err, code)
		require.Equal(t, mkt, got.Mkt, code)
	}
	bad := map[string]string{
		"":             "empty",
		"700.HK":       "00700.HK",
		"1810.HK":      "01810.HK",
		"007000.HK":    "5 digits",
		"ABC.HK":       "digits",
		"aapl.us":      ".US",
		"AAPL.XX":      "unknown exchange",
		".US":          "empty symbol",
		"AAPL,TSLA.US": "upper-case",
		"AAPL US":      "upper-case",
		"60051.SH":     "6 digits",
		"btcusdt":      "upper-case",
		"BTC/USDT":     "upper-case",
	}
	for code, hint := range bad {
		_, err := ParseCode(code)
		require.ErrorIs(t, err, vendor.ErrInvalidSymbol, code)
		require.ErrorContains(t, err, hint, code)
	}
}

func TestKlineTypes(t *testing.T) {
	t.Parallel()
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for i, tf := range vendor.Timeframes {
		kt, ok := KlineType(tf)
		require.True(t, ok, tf)
		require.Equal(t, want[i], kt, tf)
		back, ok := TimeframeOf(kt)
		require.True(t, ok)
		require.Equal(t, tf, back)
	}
	_, ok := TimeframeOf(KlineQuarter)
	require.False(t, ok)
	_, ok = KlineType("3m")
	require.False(t, ok)
	require.True(t, TimestampBounded(vendor.TF4h))
	require.False(t, TimestampBounded(vendor.TF1d))
}
