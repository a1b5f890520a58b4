package infoway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "iw-s3cr3t-Tok3n"

// call is one request the fake Infoway saw.
type call struct {
	Method, Path, Query, APIKey string
	Kline                       KlineRequest
	Body                        string
}

// fake is an in-memory Infoway. answer builds the reply to a K-line request;
// nil answers every requested code with two descending bars.
type fake struct {
	mu     sync.Mutex
	calls  []call
	answer func(c call) (int, any)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, APIKey: r.Header.Get(HeaderAPIKey), Body: string(body)}
	if r.Method == http.MethodPost {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c.Kline); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	answer := f.answer
	f.mu.Unlock()
	status, reply := http.StatusOK, any(okKline(c.Kline))
	if answer != nil {
		status, reply = answer(c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch v := reply.(type) {
	case string:
		_, _ = io.WriteString(w, v)
	case []byte:
		_, _ = w.Write(v)
	default:
		_, _ = w.Write(js(v))
	}
}

func (f *fake) SetAnswer(a func(c call) (int, any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = a
}

func (f *fake) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// barsFor returns n bars of code, newest first as Infoway sends them.
func barsFor(code string, n int, newest int64) []KlineBar {
	out := make([]KlineBar, 0, n)
	for i := range n {
		p := fmt.Sprintf("%d.%03d", 100+len(code), i)
		out = append(out, KlineBar{
			T: Str(fmt.Sprint(newest - int64(i)*60)), O: Str(p), H: Str(p), L: Str(p), C: Str(p),
			V: "10", VW: "1000.50", PC: "0.01%", PCA: "0.010",
		})
	}
	return out
}

const newestT = 1786737540

func okKline(req KlineRequest) Envelope {
	var data []KlineSeries
	for code := range strings.SplitSeq(req.Codes, ",") {
		data = append(data, KlineSeries{S: code, RespList: barsFor(code, req.KlineNum, newestT)})
	}
	return Envelope{Ret: RetOK, Msg: MsgSuccess, TraceID: "t-1", Data: js(data)}
}

// js marshals test values; they always marshal.
func js(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type countingGate struct {
	mu       sync.Mutex
	acquired int
	items    []int
}

func (g *countingGate) Acquire(ctx context.Context, _ vendor.Endpoint, items int) (vendor.Sent, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.acquired++
	g.items = append(g.items, items)
	return nil, ctx.Err()
}

func (g *countingGate) Report(vendor.Endpoint, error) {}

func newClient(t *testing.T, f *fake, mod func(*Config)) (*Client, *countingGate) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	g := &countingGate{}
	cfg := Config{BaseURL: srv.URL + "/", Token: secret.New(token), HTTPClient: srv.Client(), Gate: g}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, g
}

func us(n int, tf vendor.Timeframe) []vendor.Series {
	out := make([]vendor.Series, n)
	for i := range out {
		out[i] = vendor.Series{Vendor: vendor.Infoway, Symbol: fmt.Sprintf("S%03d.US", i), Timeframe: tf}
	}
	return out
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{})
	require.ErrorContains(t, err, "token is required")
	_, err = New(Config{Token: secret.New(token), BaseURL: "ftp://x"})
	require.Error(t, err)
	_, err = New(Config{Token: secret.New(token), BatchMax: -1})
	require.Error(t, err)
	c, err := New(Config{Token: secret.New(token), BatchMax: 1000})
	require.NoError(t, err)
	require.Equal(t, DefaultBaseURL, c.base)
	require.Equal(t, MaxCodes, c.batchMax)
	require.Equal(t, DefaultTradeMax, c.tradeMax)
	require.Equal(t, vendor.Infoway, c.Name())
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: secret.New(token)})
	require.NoError(t, err)
	for _, tc := range []struct {
		code string
		mkt  string
		m    vendor.Market
	}{
		{"AAPL.US", MktStock, vendor.MarketUS},
		{"00700.HK", MktStock, vendor.MarketHK},
		{"600519.SH", MktStock, vendor.MarketCN},
		{"7203.JP", MktJapan, vendor.MarketJP},
		{"RELIANCE.IN", MktIndia, vendor.MarketOther},
		{"005930.KS", MktKorea, vendor.MarketOther},
		{"2330.TW", MktTaiwan, vendor.MarketOther},
		{"BTCUSDT", MktCrypto, vendor.MarketCrypto},
		{"EURUSD", MktCommon, vendor.MarketFX},
		{"XAUUSD", MktCommon, vendor.MarketCommodity},
	} {
		got, err := c.Capabilities(tc.code)
		require.NoError(t, err, tc.code)
		require.Equal(t, vendor.Capabilities{
			Vendor: vendor.Infoway, Market: tc.m, PageSize: 500, PagesBack: true, EndBound: vendor.EndUnknown, Depth: 0,
			Timeframes: vendor.Timeframes, BatchMax: 100, BatchOneTimeframe: true, BatchKey: tc.mkt,
		}, got, tc.code)
	}
	_, err = c.Capabilities("700.HK")
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
	require.ErrorContains(t, err, "00700.HK", "the hint names the padded code")
}

func TestHistoryRequestAndPaging(t *testing.T) {
	t.Parallel()
	f := &fake{}
	c, g := newClient(t, f, nil)
	ctx := context.Background()
	end := time.Unix(1758553860, 0)

	page, err := c.History(ctx, "AAPL.US", vendor.TF1m, end, 9999)
	require.NoError(t, err)
	require.Equal(t, 500, page.Requested, "klineNum over 500 is never sent")
	calls := f.Calls()
	require.Len(t, calls, 1)
	calls[0].Body = ""
	require.Equal(t, call{Method: http.MethodPost, Path: "/stock/v2/batch_kline", APIKey: token,
		Kline: KlineRequest{KlineType: Kline1m, KlineNum: 500, Codes: "AAPL.US", Timestamp: 1758553860}}, calls[0])

	// The fake answers up to newestT (after end): the bars after end are dropped.
	require.Empty(t, page.Bars)

	page, err = c.History(ctx, "AAPL.US", vendor.TF1h, time.Time{}, 0)
	require.NoError(t, err)
	require.Equal(t, 500, page.Requested)
	require.Len(t, page.Bars, 500)
	require.Zero(t, f.Calls()[1].Kline.Timestamp, "zero end sends no timestamp")
	require.Equal(t, Kline1h, f.Calls()[1].Kline.KlineType)
	for i := 1; i < len(page.Bars); i++ {
		require.True(t, page.Bars[i-1].Time.Before(page.Bars[i].Time), "ascending")
	}

	page, err = c.History(ctx, "BTCUSDT", vendor.TF5m, time.Unix(newestT-120, 0), 3)
	require.NoError(t, err)
	require.Equal(t, "/crypto/v2/batch_kline", f.Calls()[2].Path)
	require.Equal(t, 3, page.Requested)
	require.Len(t, page.Bars, 1, "bars after end dropped")
	require.Equal(t, time.Unix(newestT-120, 0).UTC(), page.Bars[0].Time)

	for _, tf := range []vendor.Timeframe{vendor.TF1d, vendor.TF1w, vendor.TF1M} {
		_, err = c.History(ctx, "AAPL.US", tf, end, 10)
		require.ErrorIs(t, err, vendor.ErrUnsupported, tf)
	}
	_, err = c.History(ctx, "AAPL.US", vendor.TF1d, time.Time{}, 10)
	require.NoError(t, err, "the latest daily bars need no timestamp")
	_, err = c.History(ctx, "700.HK", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
	_, err = c.History(ctx, "AAPL.US", vendor.Timeframe("3m"), time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrUnsupported)
	require.Len(t, f.Calls(), 4, "refused requests are not sent")
	require.Equal(t, 4, g.acquired)
}

func TestHistoryDedupesSortsAndRejects(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusOK, `{"ret":200,"msg":"success","traceId":"x","data":[{"s":"AAPL.US","respList":[
		{"t":"1786737600","o":"2","h":"2","l":"2","c":"2","v":"1","vw":"2","pc":"0%","pca":"0"},
		{"t":"1786737540","o":"1","h":"1","l":"1","c":"1.5","v":"1","vw":"1","pc":"0%","pca":"0"},
		{"t":"1786737540","o":"1","h":"1","l":"1","c":"1.0","v":"1","vw":"1","pc":"0%","pca":"0"},
		{"t":"1786737540000","o":"1","h":"1","l":"1","c":"1","v":"1","vw":"1","pc":"0%","pca":"0"},
		{"t":"1786737480","o":"abc","h":"1","l":"1","c":"1","v":"1","vw":"1","pc":"0%","pca":"0"},
		{"t":"1786737420","o":1.25,"h":"1","l":"1","c":"1","v":"1","pc":"0%","pca":"0"},
		17]}]}`
	}}
	c, _ := newClient(t, f, nil)
	page, err := c.History(context.Background(), "AAPL.US", vendor.TF1m, time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, page.Bars, 3)
	require.Equal(t, int64(1786737420), page.Bars[0].Time.Unix())
	require.Equal(t, "1.25", page.Bars[0].Open.String(), "a JSON number keeps its digits")
	require.False(t, page.Bars[0].Turnover.Valid, "no vw, no turnover")
	require.Equal(t, "1.0", page.Bars[1].Close.String(), "duplicate time: the last in the vendor's order wins")
	require.Equal(t, int64(1786737600), page.Bars[2].Time.Unix())
	require.Len(t, page.Rejects, 3)
	require.Contains(t, page.Rejects[0].Reason, "milliseconds")
	require.Contains(t, page.Rejects[1].Reason, "field o")
	require.JSONEq(t, `17`, string(page.Rejects[2].Raw))
	for _, r := range page.Rejects {
		require.Equal(t, vendor.Series{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: vendor.TF1m}, r.Series)
	}
}

func TestHistoryWrongCodeIsProtocol(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusOK, okKline(KlineRequest{KlineNum: 2, Codes: "TSLA.US"})
	}}
	c, _ := newClient(t, f, nil)
	_, err := c.History(context.Background(), "AAPL.US", vendor.TF1m, time.Time{}, 2)
	require.ErrorIs(t, err, vendor.ErrProtocol)
}

func TestLatestPacking(t *testing.T) {
	t.Parallel()
	f := &fake{}
	c, g := newClient(t, f, nil)
	series := us(250, vendor.TF1m)
	got, err := c.Latest(context.Background(), series)
	require.NoError(t, err)
	calls := f.Calls()
	require.Len(t, calls, 3, "250 codes of one timeframe: 100+100+50")
	sizes := make([]int, 0, len(calls))
	for _, cl := range calls {
		require.Equal(t, "/stock/v2/batch_kline", cl.Path)
		require.Equal(t, LatestKlineNum, cl.Kline.KlineNum)
		require.Zero(t, cl.Kline.Timestamp)
		sizes = append(sizes, len(strings.Split(cl.Kline.Codes, ",")))
	}
	require.Equal(t, []int{100, 100, 50}, sizes)
	require.Equal(t, []int{100, 100, 50}, g.items, "the gate is told how many codes")
	require.Len(t, got.Bars, 250)
	require.Empty(t, got.Missing)
	require.Empty(t, got.Invalid)
	bars := got.Bars[series[7]]
	require.Len(t, bars, 2)
	require.True(t, bars[0].Time.Before(bars[1].Time))
	require.Equal(t, "1000.50", bars[1].Turnover.String(), "vw is the turnover")
}

func TestLatestSeparatesTimeframesAndMarkets(t *testing.T) {
	t.Parallel()
	f := &fake{}
	c, _ := newClient(t, f, func(cfg *Config) { cfg.BatchMax = 40 })
	in := []vendor.Series{
		{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "BTCUSDT", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: vendor.TF1d},
		{Vendor: vendor.Infoway, Symbol: "00700.HK", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "EURUSD", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: vendor.TF1m}, // duplicate
	}
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	type req struct {
		path  string
		kt    int
		codes string
	}
	calls := f.Calls()
	reqs := make([]req, 0, len(calls))
	for _, cl := range calls {
		reqs = append(reqs, req{cl.Path, cl.Kline.KlineType, cl.Kline.Codes})
	}
	require.ElementsMatch(t, []req{
		{"/stock/v2/batch_kline", Kline1m, "AAPL.US,00700.HK"},
		{"/crypto/v2/batch_kline", Kline1m, "BTCUSDT"},
		{"/stock/v2/batch_kline", Kline1d, "AAPL.US"},
		{"/common/v2/batch_kline", Kline1m, "EURUSD"},
	}, reqs)
	require.Len(t, got.Bars, 5)

	// The plan cap splits further.
	f2 := &fake{}
	c2, _ := newClient(t, f2, func(cfg *Config) { cfg.BatchMax = 40 })
	_, err = c2.Latest(context.Background(), us(90, vendor.TF5m))
	require.NoError(t, err)
	require.Len(t, f2.Calls(), 3)
}

func TestLatestMissingAndInvalidLocal(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		codes := strings.Split(cl.Kline.Codes, ",")
		env := okKline(KlineRequest{KlineNum: 2, Codes: strings.Join(codes[1:], ",")}) // the first is absent
		data := make([]KlineSeries, 0, 4)
		_ = json.Unmarshal(env.Data, &data)
		data = append(data, KlineSeries{S: "S001.US"})                                           // present with no bars
		data = append(data, KlineSeries{S: "ZZZZ.US", RespList: barsFor("ZZZZ.US", 1, newestT)}) // not requested
		env.Data = js(data)
		return http.StatusOK, env
	}}
	c, _ := newClient(t, f, nil)
	in := us(3, vendor.TF1m)
	in = append(in,
		vendor.Series{Vendor: vendor.Infoway, Symbol: "700.HK", Timeframe: vendor.TF1m},
		vendor.Series{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: "7m"},
		vendor.Series{Vendor: vendor.AllTick, Symbol: "AAPL.US", Timeframe: vendor.TF1m},
	)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, f.Calls(), 1)
	require.Equal(t, "S000.US,S001.US,S002.US", f.Calls()[0].Kline.Codes)
	require.ElementsMatch(t, []vendor.Series{in[0]}, got.Missing, "absent code: Missing")
	require.Contains(t, got.Bars, in[1], "a duplicate empty element does not drop the bars")
	require.Contains(t, got.Bars, in[2])
	require.Len(t, got.Invalid, 3)
	require.ErrorIs(t, got.Invalid[in[3]], vendor.ErrInvalidSymbol)
	require.ErrorContains(t, got.Invalid[in[3]], "00700.HK")
	require.ErrorIs(t, got.Invalid[in[4]], vendor.ErrUnsupported)
	require.ErrorIs(t, got.Invalid[in[5]], vendor.ErrInvalidSymbol)
	require.Len(t, got.Rejects, 1)
	require.Equal(t, "ZZZZ.US", got.Rejects[0].Series.Symbol)
}

func TestLatestEmptyRespListIsMissing(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusOK, `{"ret":200,"msg":"success","traceId":"x","data":[{"s":"S000.US","respList":[]}]}`
	}}
	c, _ := newClient(t, f, nil)
	in := us(1, vendor.TF1m)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, in, got.Missing)
}

// badAnswer refuses any request carrying one of bad the way Infoway does
// without naming it.
func badAnswer(body string, bad ...string) func(call) (int, any) {
	return func(cl call) (int, any) {
		for c := range strings.SplitSeq(cl.Kline.Codes, ",") {
			if slices.Contains(bad, c) {
				return http.StatusOK, body
			}
		}
		return http.StatusOK, okKline(cl.Kline)
	}
}

func TestLatestBisectsUnnamedBadCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
	}{
		{"Ret508", `{"ret":508,"msg":"product not exist","traceId":"x","data":null}`},
		{"AllProductNotExists", `{"ret":500,"msg":"All product not exists","traceId":"x","data":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := us(100, vendor.TF1m)
			bad := in[37]
			f := &fake{answer: badAnswer(tc.body, bad.Symbol)}
			c, _ := newClient(t, f, nil)
			got, err := c.Latest(context.Background(), in)
			require.NoError(t, err)
			require.Len(t, got.Invalid, 1)
			require.ErrorIs(t, got.Invalid[bad], vendor.ErrInvalidSymbol)
			var ise *vendor.InvalidSymbolsError
			require.ErrorAs(t, got.Invalid[bad], &ise)
			require.Equal(t, []string{bad.Symbol}, ise.Symbols)
			require.Len(t, got.Bars, 99)
			require.Empty(t, got.Missing)
			limit := 1 + 2*int(math.Ceil(math.Log2(100)))
			require.LessOrEqual(t, len(f.Calls()), limit, "logarithmic in the batch size")
		})
	}
}

func TestLatestBisectsTwoBadCodes(t *testing.T) {
	t.Parallel()
	in := us(64, vendor.TF1m)
	f := &fake{answer: badAnswer(`{"ret":508,"msg":"x","data":null}`, in[3].Symbol, in[60].Symbol)}
	c, _ := newClient(t, f, nil)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, got.Invalid, 2)
	require.Contains(t, got.Invalid, in[3])
	require.Contains(t, got.Invalid, in[60])
	require.Len(t, got.Bars, 62)
	require.LessOrEqual(t, len(f.Calls()), 1+2*2*6)
}

func TestLatestStopsOnRateLimit(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusTooManyRequests, `{"detail":"Rate limit exceeded"}`
	}}
	c, _ := newClient(t, f, nil)
	in := us(150, vendor.TF1m)
	got, err := c.Latest(context.Background(), in)
	require.ErrorIs(t, err, vendor.ErrRateLimited)
	require.Len(t, f.Calls(), 1, "no further requests after a rate limit")
	require.Len(t, got.Missing, 150)
}

func TestLatestTransientChunkLeavesOthers(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		if strings.HasPrefix(cl.Kline.Codes, "S000") {
			return http.StatusBadGateway, "<html>bad gateway</html>"
		}
		return http.StatusOK, okKline(cl.Kline)
	}}
	c, _ := newClient(t, f, nil)
	in := us(150, vendor.TF1m)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, got.Missing, 100)
	require.Len(t, got.Bars, 50)

	f.SetAnswer(func(call) (int, any) { return http.StatusBadGateway, "" })
	_, err = c.Latest(context.Background(), in)
	require.ErrorIs(t, err, vendor.ErrTransient, "nothing succeeded: the error is returned")
}

func TestTrades(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		codes := strings.Split(strings.TrimPrefix(cl.Path, "/stock/batch_trade/"), ",")
		var data []Trade
		for i, code := range codes {
			if code == "BAD.US" {
				return http.StatusOK, `{"ret":508,"msg":"product not exist","data":null}`
			}
			data = append(data, Trade{S: code, T: Int(1786737599000 + int64(i)), P: "1.50", V: "3", VW: "4.50", TD: 2})
		}
		return http.StatusOK, Envelope{Ret: RetOK, Msg: MsgSuccess, Data: js(data)}
	}}
	c, g := newClient(t, f, func(cfg *Config) { cfg.TradeMax = 2 })
	got, err := c.Trades(context.Background(), []string{"AAPL.US", "00700.HK", "TSLA.US", "BAD.US", "700.HK"})
	var ise *vendor.InvalidSymbolsError
	require.ErrorAs(t, err, &ise)
	require.ElementsMatch(t, []string{"700.HK", "BAD.US"}, ise.Symbols)
	require.Len(t, got, 3)
	require.Equal(t, "AAPL.US", got[0].Symbol)
	require.Equal(t, time.UnixMilli(1786737599000).UTC(), got[0].Time)
	require.Equal(t, decimal.MustParse("1.50"), got[0].Price)
	require.Equal(t, 2, got[0].Direction)
	require.True(t, got[0].Turnover.Valid)
	calls := f.Calls()
	require.Equal(t, http.MethodGet, calls[0].Method)
	require.Equal(t, "/stock/batch_trade/AAPL.US,00700.HK", calls[0].Path)
	require.Equal(t, token, calls[0].APIKey)
	require.Len(t, calls, 4, "2 + (TSLA,BAD refused → TSLA, BAD)")
	require.Equal(t, 4, g.acquired)
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	bodies := []struct {
		status int
		body   string
	}{
		{http.StatusOK, `{"ret":509,"msg":"token ` + token + ` expired","data":null}`},
		{http.StatusUnauthorized, `{"code":401,"message":"Token invalid: ` + token + `","timestamp":1}`},
		{http.StatusTooManyRequests, `{"detail":"` + token + `"}`},
		{http.StatusBadRequest, `{"type":"about:blank","title":"Bad Request","status":400,"detail":"` + token + `"}`},
		{http.StatusOK, `not json ` + token},
		{http.StatusInternalServerError, `oops ` + token},
		{http.StatusOK, `{"ret":200,"msg":"success","data":{"s":"` + token + `"}}`},
	}
	for i, b := range bodies {
		f := &fake{answer: func(call) (int, any) { return b.status, b.body }}
		c, _ := newClient(t, f, nil)
		_, err := c.History(context.Background(), "AAPL.US", vendor.TF1m, time.Time{}, 5)
		require.Error(t, err, i)
		require.NotContains(t, err.Error(), token, i)
		_, err = c.Latest(context.Background(), us(2, vendor.TF1m))
		require.Error(t, err, i)
		require.NotContains(t, err.Error(), token, i)
		_, err = c.Trades(context.Background(), []string{"AAPL.US"})
		require.Error(t, err, i)
		require.NotContains(t, err.Error(), token, i)
		require.NotContains(t, fmt.Sprintf("%+v %#v", err, err), token, i)
		for _, cl := range f.Calls() {
			require.Empty(t, cl.Query, "the key travels in the apiKey header only")
			require.Equal(t, token, cl.APIKey)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, &fake{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Latest(ctx, us(3, vendor.TF1m))
	require.ErrorIs(t, err, context.Canceled)
	_, err = c.History(ctx, "AAPL.US", vendor.TF1m, time.Time{}, 5)
	require.ErrorIs(t, err, context.Canceled)
}

func TestLatestNoPermissionForOneMarket(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		if cl.Path == "/japan/v2/batch_kline" {
			return http.StatusOK, `{"ret":514,"msg":"no permission","data":null}`
		}
		return http.StatusOK, okKline(cl.Kline)
	}}
	c, _ := newClient(t, f, nil)
	in := []vendor.Series{
		{Vendor: vendor.Infoway, Symbol: "7203.JP", Timeframe: vendor.TF1m},
		{Vendor: vendor.Infoway, Symbol: "AAPL.US", Timeframe: vendor.TF1m},
	}
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Equal(t, in[:1], got.Missing)
	require.Contains(t, got.Bars, in[1], "the market the plan serves still comes back")

	f.SetAnswer(func(call) (int, any) { return http.StatusOK, `{"ret":509,"msg":"token expired","data":null}` })
	_, err = c.Latest(context.Background(), in)
	require.ErrorIs(t, err, vendor.ErrAuth)
	require.Len(t, f.Calls(), 3, "an expired key stops at the first request")
}
