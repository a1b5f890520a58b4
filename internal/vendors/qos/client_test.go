package qos

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

	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const token = "qos-s3cr3t-K3y"

// call is one request the fake QOS saw.
type call struct {
	Path, Query, Key string
	Kline            KlineRequest
	Trade            TradeRequest
	Body             string
}

// fake is an in-memory QOS. answer builds the reply; nil answers every code
// of every kline_req with co ascending bars.
type fake struct {
	mu     sync.Mutex
	calls  []call
	answer func(c call) (int, any)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{Path: r.URL.Path, Query: r.URL.RawQuery, Key: r.Header.Get(HeaderKey), Body: string(body)}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	var err error
	if r.URL.Path == PathTrade {
		err = dec.Decode(&c.Trade)
	} else {
		err = dec.Decode(&c.Kline)
	}
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, fmt.Sprint(r.Method, err), http.StatusBadRequest)
		return
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

func (f *fake) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// js marshals test values; they always marshal.
func js(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

const newestTs = 1741910400

// codesOf expands "US:AAPL,TSLA" to US:AAPL, US:TSLA.
func codesOf(c string) []string {
	mkt, syms, _ := strings.Cut(c, ":")
	var out []string
	for s := range strings.SplitSeq(syms, ",") {
		out = append(out, mkt+":"+s)
	}
	return out
}

// barsFor returns n ascending bars of code at kt ending at newestTs.
func barsFor(code string, kt, n int) []KlineBar {
	out := make([]KlineBar, 0, n)
	for i := n - 1; i >= 0; i-- {
		p := Str(fmt.Sprintf("%d.%d", 100+len(code), kt))
		out = append(out, KlineBar{C: code, O: p, Cl: p, H: p, L: p, V: "7", Ts: Int(newestTs - int64(i)*60), Kt: Int(kt)})
	}
	return out
}

func okKline(req KlineRequest) Envelope {
	var data []KlineSeries
	for _, kr := range req.KlineReqs {
		for _, code := range codesOf(kr.C) {
			data = append(data, KlineSeries{C: code, K: barsFor(code, kr.Kt, kr.Co)})
		}
	}
	return Envelope{Msg: MsgOK, Data: js(data)}
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
	cfg := Config{BaseURL: srv.URL, Token: secret.New(token), HTTPClient: srv.Client(), Gate: g}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, g
}

func ser(tf vendor.Timeframe, codes ...string) []vendor.Series {
	out := make([]vendor.Series, len(codes))
	for i, c := range codes {
		out[i] = vendor.Series{Vendor: vendor.QOS, Symbol: c, Timeframe: tf}
	}
	return out
}

func usN(n int, tf vendor.Timeframe) []vendor.Series {
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("US:S%03d", i)
	}
	return ser(tf, codes...)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{})
	require.ErrorContains(t, err, "token is required")
	_, err = New(Config{Token: secret.New(token), BaseURL: "https://api.qos.hk?key=" + token})
	require.Error(t, err)
	require.NotContains(t, err.Error(), token)
	_, err = New(Config{Token: secret.New(token), TradeMax: -3})
	require.Error(t, err)
	c, err := New(Config{Token: secret.New(token), BatchMax: 10})
	require.NoError(t, err)
	require.Equal(t, DefaultBaseURL, c.base)
	require.Equal(t, 10, c.batchMax)
	require.Equal(t, vendor.QOS, c.Name())
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: secret.New(token)})
	require.NoError(t, err)
	for code, m := range map[string]vendor.Market{
		"US:AAPL": vendor.MarketUS, "HK:700": vendor.MarketHK, "HK:00700": vendor.MarketHK, "SH:600519": vendor.MarketCN,
		"SZ:000001": vendor.MarketCN, "CF:BTCUSDT": vendor.MarketCrypto, "FX:EURUSD": vendor.MarketFX,
		"CM:XAUUSD": vendor.MarketCommodity, "IX:HSI": vendor.MarketIndex, "SI:000300": vendor.MarketIndex,
	} {
		got, err := c.Capabilities(code)
		require.NoError(t, err, code)
		require.Equal(t, vendor.Capabilities{
			Vendor: vendor.QOS, Market: m, PageSize: 1000, PagesBack: true, EndBound: vendor.EndInclusive, Depth: 1000,
			Timeframes: vendor.Timeframes, BatchMax: MaxSeries, BatchOneTimeframe: false, BatchKey: "",
		}, got, code)
	}
	_, err = c.Capabilities("AAPL")
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
}

func TestHistoryPaging(t *testing.T) {
	t.Parallel()
	f := &fake{}
	c, g := newClient(t, f, nil)
	ctx := context.Background()

	page, err := c.History(ctx, "US:AAPL", vendor.TF1m, time.Time{}, 5000)
	require.NoError(t, err)
	require.Equal(t, 1000, page.Requested)
	require.Len(t, page.Bars, 1000)
	first := f.Calls()[0]
	require.JSONEq(t, `{"kline_reqs":[{"c":"US:AAPL","co":1000,"a":0,"kt":1}]}`, first.Body)
	first.Body = ""
	require.Equal(t, call{Path: PathKline, Key: token, Kline: KlineRequest{KlineReqs: []KlineReq{
		{C: "US:AAPL", Co: 1000, A: 0, Kt: Kt1m},
	}}}, first, "zero end: /kline, no e, key only in the header")

	end := time.Unix(newestTs-120, 0)
	page, err = c.History(ctx, "HK:00700", vendor.TF1d, end, 3)
	require.NoError(t, err)
	second := f.Calls()[1]
	second.Body = ""
	require.Equal(t, call{Path: PathHistory, Key: token, Kline: KlineRequest{KlineReqs: []KlineReq{
		{C: "HK:00700", E: newestTs - 120, Co: 3, A: 0, Kt: KtDay},
	}}}, second)
	require.Equal(t, 3, page.Requested)
	require.Len(t, page.Bars, 1, "the fake ignores e: bars after end are dropped, the end bar kept (inclusive)")
	require.Equal(t, end.UTC(), page.Bars[0].Time)

	page, err = c.History(ctx, "CF:BTCUSDT", vendor.TF4h, time.Time{}, 0)
	require.NoError(t, err)
	require.Equal(t, 1000, page.Requested)
	require.Equal(t, Kt4h, f.Calls()[2].Kline.KlineReqs[0].Kt)

	_, err = c.History(ctx, "HK:ABC", vendor.TF1m, time.Time{}, 5)
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
	_, err = c.History(ctx, "US:AAPL", "3m", time.Time{}, 5)
	require.ErrorIs(t, err, vendor.ErrUnsupported)
	require.Len(t, f.Calls(), 3)
	require.Equal(t, 3, g.acquired)
	for _, cl := range f.Calls() {
		require.Empty(t, cl.Query, "the key never goes in the URL")
	}
}

func TestHistoryRejectsAndSorts(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusOK, `{"msg":"OK","data":[{"c":"HK:700","k":[
		{"c":"HK:700","o":"3","cl":"3","h":"3","l":"3","v":"1","ts":1741910520,"kt":1},
		{"c":"HK:700","o":"1","cl":"1","h":"1","l":"1","v":"1","ts":1741910400,"kt":1},
		{"c":"HK:700","o":"2","cl":"2.0","h":"2","l":"2","v":"1","ts":1741910460,"kt":1},
		{"c":"HK:700","o":"2","cl":"2.00","h":"2","l":"2","v":"1","ts":1741910460},
		{"c":"HK:700","o":"2","cl":"2","h":"2","l":"2","v":"1","ts":1741910460000,"kt":1},
		{"c":"HK:700","o":"2","cl":"2","h":"2","l":"2","v":"1","ts":1741910340,"kt":5},
		{"c":"HK:9988","o":"2","cl":"2","h":"2","l":"2","v":"1","ts":1741910280,"kt":1},
		{"c":"HK:700","o":"x","cl":"2","h":"2","l":"2","v":"1","ts":1741910220,"kt":1},
		{"c":"HK:700","o":"2","cl":"2","h":"2","l":"2","v":"1","kt":1},
		[]]}]}`
	}}
	c, _ := newClient(t, f, nil)
	page, err := c.History(context.Background(), "HK:00700", vendor.TF1m, time.Time{}, 10)
	require.NoError(t, err)
	require.Len(t, page.Bars, 3)
	require.Equal(t, int64(1741910400), page.Bars[0].Time.Unix())
	require.Equal(t, "2.00", page.Bars[1].Close.String(), "the last duplicate wins")
	require.False(t, page.Bars[1].Turnover.Valid, "QOS sends no turnover")
	reasons := make([]string, 0, len(page.Rejects))
	for _, r := range page.Rejects {
		reasons = append(reasons, r.Reason)
		require.Equal(t, "HK:00700", r.Series.Symbol)
	}
	require.Len(t, reasons, 6)
	require.Contains(t, reasons[0], "milliseconds")
	require.Contains(t, reasons[1], "kt 5")
	require.Contains(t, reasons[2], "HK:9988")
	require.Contains(t, reasons[3], "field o")
	require.Contains(t, reasons[4], "ts: missing")
	require.Contains(t, reasons[5], "bar:")
}

func TestHistoryOtherCodeIsProtocol(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) {
		return http.StatusOK, okKline(KlineRequest{KlineReqs: []KlineReq{{C: "US:TSLA", Co: 1, Kt: 1}}})
	}}
	c, _ := newClient(t, f, nil)
	_, err := c.History(context.Background(), "US:AAPL", vendor.TF1m, time.Time{}, 1)
	require.ErrorIs(t, err, vendor.ErrProtocol)
}

func TestLatestGroupsPerMarket(t *testing.T) {
	t.Parallel()
	f := &fake{}
	c, g := newClient(t, f, nil)
	in := append(ser(vendor.TF1m, "US:AAPL", "HK:700", "US:TSLA", "CF:BTCUSDT", "HK:09988", "US:NVDA"),
		ser(vendor.TF1d, "US:AAPL", "CF:ETHUSDT")...)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	calls := f.Calls()
	require.Len(t, calls, 1, "any series may share a request")
	require.Equal(t, PathKline, calls[0].Path)
	require.Equal(t, []KlineReq{
		{C: "US:AAPL,TSLA,NVDA", Co: 2, Kt: Kt1m},
		{C: "HK:700,09988", Co: 2, Kt: Kt1m},
		{C: "CF:BTCUSDT", Co: 2, Kt: Kt1m},
		{C: "US:AAPL", Co: 2, Kt: KtDay},
		{C: "CF:ETHUSDT", Co: 2, Kt: KtDay},
	}, calls[0].Kline.KlineReqs)
	require.Equal(t, []int{8}, g.items)
	require.Len(t, got.Bars, 8)
	require.Empty(t, got.Missing)
	aaplMin, aaplDay := got.Bars[in[0]], got.Bars[in[6]]
	require.Len(t, aaplMin, 2)
	require.Equal(t, "107.1", aaplMin[0].Close.String(), "the 1m bars went to the 1m series")
	require.Equal(t, "107.1001", aaplDay[0].Close.String(), "the day bars went to the day series")
}

func TestLatestBatchMax(t *testing.T) {
	t.Parallel()
	f := &fake{}
	c, g := newClient(t, f, func(cfg *Config) { cfg.BatchMax = DefaultPlanProducts })
	got, err := c.Latest(context.Background(), usN(25, vendor.TF5m))
	require.NoError(t, err)
	require.Len(t, f.Calls(), 3)
	require.Equal(t, []int{10, 10, 5}, g.items)
	require.Len(t, got.Bars, 25)

	f2 := &fake{}
	c2, _ := newClient(t, f2, nil)
	_, err = c2.Latest(context.Background(), usN(250, vendor.TF5m))
	require.NoError(t, err)
	require.Len(t, f2.Calls(), 3, "250 series at the vendor max of 100")
}

func TestLatestShuffledAndZeroPadded(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		env := okKline(cl.Kline)
		var data []KlineSeries
		_ = json.Unmarshal(env.Data, &data)
		// Reverse the outer order, rename HK:700 to HK:00700 and HK:09988 to
		// HK:9988, and drop the bars' own kt where the code is asked once.
		slices.Reverse(data)
		for i := range data {
			switch data[i].C {
			case "HK:700":
				data[i].C = "HK:00700"
			case "HK:09988":
				data[i].C = "HK:9988"
			case "CF:BTCUSDT":
				for j := range data[i].K {
					data[i].K[j].Kt = 0
				}
			}
		}
		env.Data = js(data)
		return http.StatusOK, env
	}}
	c, _ := newClient(t, f, nil)
	in := append(ser(vendor.TF1m, "US:AAPL", "HK:700", "HK:09988", "CF:BTCUSDT"), ser(vendor.TF1h, "US:AAPL")...)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Empty(t, got.Missing)
	require.Empty(t, got.Rejects)
	require.Len(t, got.Bars, 5)
	require.Equal(t, "107.60", got.Bars[in[4]][0].Close.String(), "US:AAPL 1h bars stay with 1h")
	require.Equal(t, "106.1", got.Bars[in[1]][0].Close.String())
}

func TestLatestMissingAndLocalInvalid(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		env := okKline(cl.Kline)
		var data []KlineSeries
		_ = json.Unmarshal(env.Data, &data)
		data = slices.DeleteFunc(data, func(s KlineSeries) bool { return s.C == "US:TSLA" || s.C == "US:NVDA" })
		data = append(data, KlineSeries{C: "US:NVDA"}, KlineSeries{C: "US:ZZZ", K: barsFor("US:ZZZ", 1, 1)})
		env.Data = js(data)
		return http.StatusOK, env
	}}
	c, _ := newClient(t, f, nil)
	in := ser(vendor.TF1m, "US:AAPL", "US:TSLA", "US:NVDA", "AAPL.US", "hk:700")
	in = append(in, vendor.Series{Vendor: vendor.QOS, Symbol: "US:AAPL", Timeframe: "1Y"},
		vendor.Series{Vendor: vendor.Infoway, Symbol: "US:AAPL", Timeframe: vendor.TF1m})
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, f.Calls(), 1)
	require.Equal(t, "US:AAPL,TSLA,NVDA", f.Calls()[0].Kline.KlineReqs[0].C)
	require.ElementsMatch(t, []vendor.Series{in[1], in[2]}, got.Missing, "absent, or present without bars")
	require.Contains(t, got.Bars, in[0])
	require.Len(t, got.Invalid, 4)
	require.ErrorIs(t, got.Invalid[in[3]], vendor.ErrInvalidSymbol)
	require.ErrorIs(t, got.Invalid[in[4]], vendor.ErrInvalidSymbol)
	require.ErrorIs(t, got.Invalid[in[5]], vendor.ErrUnsupported)
	require.ErrorIs(t, got.Invalid[in[6]], vendor.ErrInvalidSymbol)
	require.Len(t, got.Rejects, 1)
	require.Equal(t, "US:ZZZ", got.Rejects[0].Series.Symbol)
}

// refuse answers msg for any request that carries one of bad.
func refuse(status int, msg string, bad ...string) func(call) (int, any) {
	return func(cl call) (int, any) {
		reqs := cl.Kline.KlineReqs
		codes := cl.Trade.Codes
		for _, kr := range reqs {
			codes = append(codes, kr.C)
		}
		for _, c := range codes {
			for _, code := range codesOf(c) {
				if slices.Contains(bad, code) {
					return status, Envelope{Msg: msg}
				}
			}
		}
		if cl.Path == PathTrade {
			var data []Trade
			for _, c := range cl.Trade.Codes {
				for _, code := range codesOf(c) {
					data = append(data, Trade{C: code, P: "1.5", V: "2", Ts: newestTs, D: 1})
				}
			}
			return http.StatusOK, Envelope{Msg: MsgOK, Data: js(data)}
		}
		return http.StatusOK, okKline(cl.Kline)
	}
}

func TestLatestBisectsUnnamedBadCode(t *testing.T) {
	t.Parallel()
	in := usN(100, vendor.TF1m)
	bad := in[71]
	f := &fake{answer: refuse(http.StatusOK, "invalid code", bad.Symbol)}
	c, _ := newClient(t, f, nil)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, got.Invalid, 1)
	require.ErrorIs(t, got.Invalid[bad], vendor.ErrInvalidSymbol)
	require.Len(t, got.Bars, 99)
	require.Empty(t, got.Missing)
	require.LessOrEqual(t, len(f.Calls()), 1+2*int(math.Ceil(math.Log2(100))))
}

func TestLatestNamedBadCodeNeedsNoBisection(t *testing.T) {
	t.Parallel()
	in := usN(100, vendor.TF1m)
	bad := in[71]
	f := &fake{answer: refuse(http.StatusBadRequest, "code "+bad.Symbol+" not exist", bad.Symbol)}
	c, _ := newClient(t, f, nil)
	got, err := c.Latest(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, got.Invalid, 1)
	require.Contains(t, got.Invalid, bad)
	require.Len(t, got.Bars, 99)
	require.Len(t, f.Calls(), 2)
}

func TestLatestStopsOnRateLimit(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(call) (int, any) { return http.StatusOK, Envelope{Msg: "请求频率超过限制"} }}
	c, _ := newClient(t, f, func(cfg *Config) { cfg.BatchMax = 10 })
	got, err := c.Latest(context.Background(), usN(30, vendor.TF1m))
	require.ErrorIs(t, err, vendor.ErrRateLimited)
	require.Len(t, f.Calls(), 1)
	require.Len(t, got.Missing, 30)
}

func TestLatestTransientLeavesOthers(t *testing.T) {
	t.Parallel()
	f := &fake{answer: func(cl call) (int, any) {
		if strings.Contains(cl.Kline.KlineReqs[0].C, "S000") {
			return http.StatusServiceUnavailable, "<html>busy</html>"
		}
		return http.StatusOK, okKline(cl.Kline)
	}}
	c, _ := newClient(t, f, func(cfg *Config) { cfg.BatchMax = 10 })
	got, err := c.Latest(context.Background(), usN(30, vendor.TF1m))
	require.NoError(t, err)
	require.Len(t, got.Missing, 10)
	require.Len(t, got.Bars, 20)
}

func TestTrades(t *testing.T) {
	t.Parallel()
	f := &fake{answer: refuse(http.StatusOK, "unknown code", "US:BAD")}
	c, g := newClient(t, f, func(cfg *Config) { cfg.TradeMax = 3 })
	got, err := c.Trades(context.Background(), []string{"US:AAPL", "HK:700", "US:TSLA", "US:BAD", "CF:BTCUSDT", "AAPL"})
	var ise *vendor.InvalidSymbolsError
	require.ErrorAs(t, err, &ise)
	require.ElementsMatch(t, []string{"AAPL", "US:BAD"}, ise.Symbols)
	require.Len(t, got, 4)
	calls := f.Calls()
	require.Equal(t, TradeRequest{Codes: []string{"US:AAPL,TSLA", "HK:700"}, Count: 1}, calls[0].Trade)
	require.Equal(t, PathTrade, calls[0].Path)
	require.Equal(t, token, calls[0].Key)
	require.Len(t, calls, 4, "first chunk, then US:BAD,CF:BTCUSDT refused and bisected")
	require.Equal(t, 4, g.acquired)
	require.Equal(t, time.Unix(newestTs, 0).UTC(), got[0].Time)
	require.Equal(t, 1, got[0].Direction)
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	replies := []struct {
		status int
		body   string
	}{
		{http.StatusOK, `{"msg":"key ` + token + ` is invalid"}`},
		{http.StatusUnauthorized, `{"msg":"` + token + `"}`},
		{http.StatusTooManyRequests, `too many ` + token},
		{http.StatusOK, `{"msg":"OK","data":"` + token + `"}`},
		{http.StatusOK, `<` + token},
		{http.StatusInternalServerError, `{"msg":"internal error for ` + token + `"}`},
	}
	for i, r := range replies {
		f := &fake{answer: func(call) (int, any) { return r.status, r.body }}
		c, _ := newClient(t, f, nil)
		_, err := c.History(context.Background(), "US:AAPL", vendor.TF1m, time.Unix(newestTs, 0), 5)
		require.Error(t, err, i)
		require.NotContains(t, err.Error(), token, i)
		_, err = c.Latest(context.Background(), usN(3, vendor.TF1m))
		require.Error(t, err, i)
		require.NotContains(t, err.Error(), token, i)
		_, err = c.Trades(context.Background(), []string{"US:AAPL"})
		require.Error(t, err, i)
		require.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), token, i)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t, &fake{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Latest(ctx, usN(3, vendor.TF1m))
	require.ErrorIs(t, err, context.Canceled)
	_, err = c.Trades(ctx, []string{"US:AAPL"})
	require.ErrorIs(t, err, context.Canceled)
}
