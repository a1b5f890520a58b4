package xdtick

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

const token = "tok-XdTick-s3cr3t"

type countingGate struct {
	mu    sync.Mutex
	calls []int
}

func (g *countingGate) Acquire(ctx context.Context, _ vendor.Endpoint, items int) (vendor.Sent, error) {
	g.mu.Lock()
	g.calls = append(g.calls, items)
	g.mu.Unlock()
	return nil, ctx.Err()
}
func (g *countingGate) Report(vendor.Endpoint, error) {}

func (g *countingGate) taken() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.calls
	g.calls = nil
	return out
}

type bundle struct {
	c    *Client
	gate *countingGate
	logs *observer.ObservedLogs
}

// setup starts h as XdTick and returns a client of it; every request must
// carry the key in X-API-KEY and nowhere in the URL.
func setup(t *testing.T, h http.HandlerFunc, batch, trade int) bundle {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderKey) != token || strings.Contains(r.URL.String(), token) {
			http.Error(w, "key not where XdTick wants it", http.StatusTeapot)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	core, logs := observer.New(zapcore.DebugLevel)
	g := &countingGate{}
	c, err := New(Config{BaseURL: srv.URL + "/", Token: secret.New(token), Gate: g, BatchMax: batch, TradeMax: trade,
		Logger: zap.New(core), HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
	require.NoError(t, err)
	return bundle{c: c, gate: g, logs: logs}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func dec(s string) decimal.Decimal { return decimal.MustParse(s) }

// jsonValue decodes b keeping numbers as their text, so two encodings
// compare digit for digit.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	return v
}

func TestHistoryGolden(t *testing.T) {
	t.Parallel()
	var got map[string]string
	var path string
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		got = map[string]string{}
		for k := range r.URL.Query() {
			got[k] = r.URL.Query().Get(k)
		}
		_, _ = w.Write(fixture(t, "kline_response_doc.json"))
	}, 0, 0)
	page, err := b.c.History(context.Background(), "BTCUSD", vendor.TF1m, time.Time{}, 500)
	require.NoError(t, err)
	require.Equal(t, PathKline, path)

	var doc struct {
		Code      string `json:"code"`
		KlineType string `json:"klineType"`
		Size      int    `json:"size"`
	}
	require.NoError(t, json.Unmarshal(fixture(t, "kline_query_doc.json"), &doc))
	require.Equal(t, map[string]string{"code": doc.Code, "klineType": doc.KlineType, "size": "500"}, got, "the doc's query, as URL parameters")
	require.Equal(t, 500, page.Requested)
	require.Empty(t, page.Rejects)
	require.Len(t, page.Bars, 2)
	// The doc answers newest first; the page is ascending.
	old, cur := page.Bars[0], page.Bars[1]
	require.Equal(t, time.Date(2026, 1, 21, 10, 45, 0, 0, time.UTC), old.Time, "milliseconds, and startTime 18:45 is UTC+8")
	require.Equal(t, time.Date(2026, 1, 21, 10, 46, 0, 0, time.UTC), cur.Time)
	require.Equal(t, "89310.63000000", old.Open.String(), "JSON numbers keep their exact digits")
	require.Equal(t, "89310.63000000", old.High.String())
	require.Equal(t, "89287.16000000", old.Low.String())
	require.Equal(t, "89287.17000000", old.Close.String())
	require.Equal(t, "5.05343000", old.Volume.String())
	require.True(t, old.Turnover.Valid)
	require.Equal(t, "451249.76464880", old.Turnover.Decimal.String(), "quoteVolume is the turnover")
	require.Equal(t, "89262.11000000", cur.Close.String())

	_, err = b.c.History(context.Background(), "BTCUSD", vendor.TF1m, time.Time{}, 5000)
	require.NoError(t, err)
	require.Equal(t, "1000", got["size"], "size is clamped to XdTick's 1000")
}

// The simulator writes bars with FromBar: the doc's bars must survive the
// round trip digit for digit, startTime and the change fields included.
func TestFromBarReproducesDocBars(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"kline_response_doc.json", "batch_response_doc.json"} {
		var env Envelope
		require.NoError(t, json.Unmarshal(fixture(t, name), &env))
		var raws []json.RawMessage
		if name == "kline_response_doc.json" {
			var kd KlineData
			require.NoError(t, json.Unmarshal(env.Data, &kd))
			raws = kd.KlineList
		} else {
			var bd BatchData
			require.NoError(t, json.Unmarshal(env.Data, &bd))
			for _, g := range bd.KlineList {
				raws = append(raws, g.KlineData...)
			}
		}
		require.NotEmpty(t, raws, name)
		for _, raw := range raws {
			var b Bar
			require.NoError(t, json.Unmarshal(raw, &b))
			out, err := json.Marshal(FromBar(b.ToBar()))
			require.NoError(t, err)
			require.Equal(t, jsonValue(t, raw), jsonValue(t, out), name)
		}
	}
}

func TestMonthIsNotMinute(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1min", KlineTypes[vendor.TF1m])
	require.Equal(t, "1m", KlineTypes[vendor.TF1M], "XdTick's 1m is a month")
	require.Equal(t, "60min", KlineTypes[vendor.TF1h])
	for tf, kt := range KlineTypes {
		back, ok := TimeframeOf(kt)
		require.True(t, ok, kt)
		require.Equal(t, tf, back, kt)
	}
	tf, ok := TimeframeOf("1m")
	require.True(t, ok)
	require.Equal(t, vendor.TF1M, tf)
	_, ok = TimeframeOf("1M")
	require.False(t, ok, "not XdTick's notation")
	_, ok = KlineTypes[vendor.TF4h]
	require.False(t, ok)

	var sent []string
	answer := "1m"
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		sent = append(sent, r.URL.Query().Get("klineType"))
		_, _ = io.WriteString(w, `{"code":200,"msg":"successful","data":{"code":"EURUSD","klineType":"`+answer+`","klineList":[]}}`)
	}, 0, 0)
	ctx := context.Background()
	_, err := b.c.History(ctx, "EURUSD", vendor.TF1M, time.Time{}, 10)
	require.NoError(t, err)
	// A month answered for a minute request is refused, never stored.
	_, err = b.c.History(ctx, "EURUSD", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrProtocol)
	require.Equal(t, []string{"1m", "1min"}, sent)
	_, err = b.c.History(ctx, "EURUSD", vendor.TF4h, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrUnsupported, "no 4h bars")
	require.Len(t, b.gate.taken(), 2, "an unsupported timeframe sends nothing")
}

func TestHistoryDecodesStrictly(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		// Newest first, a duplicate, a time in seconds, a bad number, a bar without close.
		_, _ = io.WriteString(w, `{"code":200,"msg":"successful","data":{"code":"BTCUSD","klineType":"1min","klineList":[
{"timestamp":1700000060000,"open":2,"high":2,"low":2,"close":2,"volume":1,"quoteVolume":2},
{"timestamp":"1700000000000","open":"1","high":"1","low":"1","close":"1","volume":"1"},
{"timestamp":1700000060000,"open":3,"high":3,"low":3,"close":3,"volume":1,"quoteVolume":3},
{"timestamp":1700000120,"open":1,"high":1,"low":1,"close":1,"volume":1},
{"timestamp":1700000180000,"open":"x","high":1,"low":1,"close":1,"volume":1},
{"timestamp":1700000240000,"open":1,"high":1,"low":1,"volume":1}]}}`)
	}, 0, 0)
	page, err := b.c.History(context.Background(), "BTCUSD", vendor.TF1m, time.Time{}, 100)
	require.NoError(t, err)
	require.Len(t, page.Bars, 2)
	require.Equal(t, time.UnixMilli(1700000000000).UTC(), page.Bars[0].Time)
	require.False(t, page.Bars[0].Turnover.Valid, "no quoteVolume, no turnover")
	require.Equal(t, "3", page.Bars[1].Close.String(), "the last of equal times wins")
	require.Len(t, page.Rejects, 3)
	require.Contains(t, page.Rejects[0].Reason, "want milliseconds")
	require.Equal(t, "missing close", page.Rejects[2].Reason)
	require.Equal(t, "BTCUSD", page.Rejects[1].Series.Symbol)

	// No end time exists on /tick-api/kline: refused before anything is sent.
	b.gate.taken()
	_, err = b.c.History(context.Background(), "BTCUSD", vendor.TF1m, time.Unix(1700000000, 0), 100)
	require.ErrorIs(t, err, vendor.ErrUnsupported)
	require.Empty(t, b.gate.taken())
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		want   error
	}{
		{200, `{"code":429,"msg":"Too Many Requests"}`, vendor.ErrRateLimited},
		{200, `{"code":605,"msg":"too many requests"}`, vendor.ErrRateLimited},
		{429, `Too Many Requests`, vendor.ErrRateLimited},
		{500, `{"code":429,"msg":"Too Many Requests"}`, vendor.ErrRateLimited},
		{200, `{"code":401,"msg":"token invalid"}`, vendor.ErrAuth},
		{401, `{"code":401,"msg":"token invalid"}`, vendor.ErrAuth},
		{200, `{"code":600,"msg":"code invalid"}`, vendor.ErrInvalidSymbol},
		{200, `{"code":604,"msg":"code unauthorized"}`, vendor.ErrInvalidSymbol},
		{200, `{"code":603,"msg":"token level not enough"}`, vendor.ErrUnsupported},
		{200, `{"code":400,"msg":"request data param invalid"}`, vendor.ErrProtocol},
		{200, `{"code":402,"msg":"query invalid"}`, vendor.ErrProtocol},
		{502, `<html>bad gateway</html>`, vendor.ErrTransient},
		{200, `<html>`, vendor.ErrProtocol},
		{200, ``, vendor.ErrProtocol},
		{200, `{"code":200,"msg":"successful"}`, vendor.ErrProtocol},
		{200, `{"code":200,"msg":"successful","data":null}`, vendor.ErrProtocol},
		{200, `{"msg":"successful","data":{}}`, vendor.ErrProtocol},
		{200, `{"ret":200,"msg":"ok","data":{}}`, vendor.ErrProtocol},
		{200, `{"code":200,"msg":"successful","data":{"klineList":{}}}`, vendor.ErrProtocol},
		{200, `{"code":200,"msg":"successful","data":{"code":"ETHUSD","klineList":[]}}`, vendor.ErrProtocol},
	}
	for _, tc := range cases {
		b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}, 0, 0)
		_, err := b.c.History(context.Background(), "BTCUSD", vendor.TF1m, time.Time{}, 10)
		require.ErrorIs(t, err, tc.want, "%d %s", tc.status, tc.body)
		require.NotContains(t, err.Error(), token)
	}
}

// batchServer answers /tick-api/batch-kline with two bars per group, newest
// first, and refuses the whole request with 600 when it holds a code
// starting with BAD; it leaves out GONE and adds a group nobody asked for
// when asked for EXTRA.
func batchServer(t *testing.T) http.HandlerFunc {
	t.Helper()
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var items []BatchItem
		if r.Method != http.MethodPost || r.URL.Path != PathBatch || r.Header.Get("Content-Type") != "application/json" ||
			json.Unmarshal(body, &items) != nil {
			_, _ = io.WriteString(w, `{"code":400,"msg":"request data param invalid"}`)
			return
		}
		var data BatchData
		for _, it := range items {
			switch {
			case strings.HasPrefix(it.Code, "BAD"):
				_, _ = io.WriteString(w, `{"code":600,"msg":"code invalid"}`)
				return
			case it.Code == "GONE":
				continue
			case it.Code == "EXTRA":
				data.KlineList = append(data.KlineList, BatchGroup{Code: "OTHER", KlineType: it.KlineType})
			}
			g := BatchGroup{Code: it.Code, KlineType: it.KlineType}
			for i := range min(it.Size, 2) {
				raw, _ := json.Marshal(FromBar(vendor.Bar{Time: time.Unix(1700000060-60*int64(i), 0), Open: dec("1.5"), High: dec("2"),
					Low: dec("1"), Close: dec("1.25"), Volume: dec("3")}))
				g.KlineData = append(g.KlineData, raw)
			}
			data.KlineList = append(data.KlineList, g)
		}
		raw, _ := json.Marshal(data)
		env, _ := json.Marshal(Envelope{Code: CodeOK, Msg: MsgOK, Data: raw})
		_, _ = w.Write(env)
	}
}

func xd(sym string, tf vendor.Timeframe) vendor.Series {
	return vendor.Series{Vendor: vendor.XdTick, Symbol: sym, Timeframe: tf}
}

func TestLatestPackingAndIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t, batchServer(t), 5, 0)
	ctx := context.Background()
	series := make([]vendor.Series, 0, 13)
	for i := range 12 {
		series = append(series, xd("C"+string(rune('A'+i))+"USD", vendor.TF1m))
	}
	series = append(series, series[0]) // a repeat costs nothing
	got, err := b.c.Latest(ctx, series)
	require.NoError(t, err)
	require.Len(t, got.Bars, 12)
	require.Empty(t, got.Missing)
	require.Equal(t, []int{5, 5, 2}, b.gate.taken(), "12 groups in requests of the plan's 5")
	bars := got.Bars[series[0]]
	require.Len(t, bars, 2)
	require.True(t, bars[0].Time.Before(bars[1].Time), "ascending")

	// One bad code among 8 is isolated by bisection; the other 7 arrive.
	b.c.batchMax = 8
	eight := make([]vendor.Series, 0, 8)
	for i := range 8 {
		sym := "X" + string(rune('A'+i)) + "USD"
		if i == 5 {
			sym = "BADUSD"
		}
		eight = append(eight, xd(sym, vendor.TF5m))
	}
	got, err = b.c.Latest(ctx, eight)
	require.NoError(t, err)
	require.Len(t, got.Bars, 7)
	require.Len(t, got.Invalid, 1)
	require.ErrorIs(t, got.Invalid[eight[5]], vendor.ErrInvalidSymbol)
	require.Empty(t, got.Missing)
	require.LessOrEqual(t, len(b.gate.taken()), 1+2*3, "bisection costs O(log n) requests")

	// Left out by the answer: Missing. Not XdTick's to have: Invalid, unsent.
	// An answer nobody asked for: a Reject.
	asked := []vendor.Series{xd("GONE", vendor.TF1m), xd("EXTRA", vendor.TF1d), xd("AAPL.US", vendor.TF1m),
		xd("EURUSD", vendor.TF4h), {Vendor: vendor.AllTick, Symbol: "EURUSD", Timeframe: vendor.TF1m}, xd("GC", vendor.TF1M)}
	got, err = b.c.Latest(ctx, asked)
	require.NoError(t, err)
	require.Equal(t, []vendor.Series{asked[0]}, got.Missing)
	require.Len(t, got.Bars, 2)
	require.Contains(t, got.Bars, asked[5])
	require.Len(t, got.Invalid, 3)
	require.ErrorIs(t, got.Invalid[asked[2]], vendor.ErrInvalidSymbol)
	require.ErrorIs(t, got.Invalid[asked[3]], vendor.ErrUnsupported)
	require.Len(t, got.Rejects, 1)
	require.Equal(t, "OTHER", got.Rejects[0].Series.Symbol)
	require.Equal(t, []int{3}, b.gate.taken())
}

func TestLatestStopsOnRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"code":429,"msg":"Too Many Requests"}`)
	}, 5, 0)
	series := make([]vendor.Series, 0, 12)
	for i := range 12 {
		series = append(series, xd("C"+string(rune('A'+i))+"USD", vendor.TF1m))
	}
	got, err := b.c.Latest(context.Background(), series)
	require.ErrorIs(t, err, vendor.ErrRateLimited)
	require.Equal(t, []int{5}, b.gate.taken(), "never retried blindly, nor the next chunks sent")
	require.ElementsMatch(t, series, got.Missing, "every series is accounted for")
}

func TestLatestOtherFailuresLeaveSeriesMissing(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	n := 0
	ok := batchServer(t)
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			// A hostile or broken proxy echoing the key must not leak it.
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "upstream said "+r.Header.Get(HeaderKey))
			return
		}
		ok(w, r)
	}, 2, 0)
	series := []vendor.Series{xd("AUSD", vendor.TF1m), xd("BUSD", vendor.TF1m), xd("CUSD", vendor.TF1m)}
	got, err := b.c.Latest(context.Background(), series)
	require.NoError(t, err, "one request succeeded")
	require.Equal(t, series[:2], got.Missing)
	require.Contains(t, got.Bars, series[2])
	require.Equal(t, 1, b.logs.FilterMessage("latest bars request failed").Len())
	for _, e := range b.logs.All() {
		require.NotContains(t, e.Message, token)
		for _, f := range e.Context {
			require.NotContains(t, f.String, token)
			if f.Interface != nil {
				if e, isErr := f.Interface.(error); isErr {
					require.NotContains(t, e.Error(), token)
				}
			}
		}
	}

	// When every request fails, the error says so.
	mu.Lock()
	n = 0
	mu.Unlock()
	_, err = b.c.Latest(context.Background(), series[:1])
	require.ErrorIs(t, err, vendor.ErrTransient)
	require.NotContains(t, err.Error(), token)
}

func TestBatchDocExample(t *testing.T) {
	t.Parallel()
	// The doc's request has a typo ("1min, without its closing quote).
	doc := strings.Replace(string(fixture(t, "batch_request_doc.txt")), `"1min,`, `"1min",`, 1)
	var sent []byte
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
		_, _ = w.Write(fixture(t, "batch_response_doc.json"))
	}, 0, 0)
	series := []vendor.Series{xd("BTCUSD", vendor.TF1m), xd("ETHUSD", vendor.TF1m)}
	got, err := b.c.Latest(context.Background(), series)
	require.NoError(t, err)
	require.Equal(t, jsonValue(t, []byte(doc)), jsonValue(t, sent), "the body is the doc's bare array")
	require.Empty(t, got.Missing)
	require.Empty(t, got.Rejects)
	eth := got.Bars[series[1]]
	require.Len(t, eth, 2)
	require.Equal(t, time.UnixMilli(1768992300000).UTC(), eth[0].Time)
	require.Equal(t, "2967.97000000", eth[0].Open.String())
	require.Equal(t, "2966.71000000", eth[1].Close.String())
	require.Equal(t, "36013.14733500", eth[1].Turnover.Decimal.String())
}

func TestTradesGolden(t *testing.T) {
	t.Parallel()
	var codes []string
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		codes = append(codes, r.URL.Path+"?"+r.URL.RawQuery)
		_, _ = w.Write(fixture(t, "trade_response_doc.json"))
	}, 0, 0)
	trades, err := b.c.Trades(context.Background(), []string{"BTCUSD", "ETHUSD"})
	require.NoError(t, err)
	require.Equal(t, []string{PathTrades + "?codes=BTCUSD,ETHUSD"}, codes, "the doc's request")
	require.Len(t, trades, 2)
	require.Equal(t, vendor.Trade{Symbol: "BTCUSD", Time: time.Unix(1769616358, 0).UTC(), Price: dec("89262.11000000"),
		Volume: dec("0.99173000"), Turnover: decimal.Null{Decimal: dec("88523.9123503000000000"), Valid: true}}, trades[0])
	require.True(t, trades[1].Price.Identical(dec("2966.71000000")))

	_, err = b.c.Trades(context.Background(), []string{"BTCUSD", "700.HK"})
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
}

func TestTradesChunksAndRejects(t *testing.T) {
	t.Parallel()
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		var els []string
		for c := range strings.SplitSeq(r.URL.Query().Get("codes"), ",") {
			switch c {
			case "MSUSD": // milliseconds where seconds are documented
				els = append(els, `{"code":"MSUSD","price":1,"volume":1,"timestamp":1769616358000}`)
			case "EURUSD": // FX: no turnover, the table's quoteVolume name neither
				els = append(els, `{"code":"EURUSD","price":"1.16","volume":"0","timestamp":1769616358}`)
			default:
				els = append(els, `{"code":"`+c+`","price":1,"volume":2,"quoteVolume":2,"timestamp":1769616358}`)
			}
		}
		_, _ = io.WriteString(w, `{"code":200,"msg":"successful","data":{"tickList":[`+strings.Join(els, ",")+`]}}`)
	}, 0, 2)
	trades, err := b.c.Trades(context.Background(), []string{"EURUSD", "MSUSD", "GC"})
	require.NoError(t, err)
	require.Equal(t, []int{2, 1}, b.gate.taken(), "the plan's 2 codes per request")
	require.Len(t, trades, 2)
	require.False(t, trades[0].Turnover.Valid)
	require.Equal(t, "2", trades[1].Turnover.Decimal.String(), "quoteVolume stands in for turnover")
	require.Equal(t, 1, b.logs.FilterMessage("trade rejected").Len())
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := New(Config{BaseURL: base, Token: secret.New(token)})
	require.NoError(t, err)
	_, err = c.History(context.Background(), "BTCUSD", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrTransient)
	require.NotContains(t, err.Error(), token)
}

func TestNew(t *testing.T) {
	t.Parallel()
	_, err := New(Config{})
	require.Error(t, err)
	c, err := New(Config{Token: secret.New(token), BatchMax: 10_000})
	require.NoError(t, err)
	require.Equal(t, DefaultBaseURL, c.base)
	require.Equal(t, BatchMax, c.batchMax)
	require.Equal(t, TradeMax, c.tradeMax)
	require.Equal(t, vendor.XdTick, c.Name())
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: secret.New(token), BatchMax: 5})
	require.NoError(t, err)
	for code, want := range map[string]vendor.Market{"BTCUSD": vendor.MarketCrypto, "ETHUSD": vendor.MarketCrypto, "USDCUSD": vendor.MarketCrypto,
		"EURUSD": vendor.MarketFX, "USDJPY": vendor.MarketFX, "GC": vendor.MarketCommodity, "CL": vendor.MarketCommodity,
		"USOIL": vendor.MarketCommodity, "Silver": vendor.MarketCommodity, "XAUUSD": vendor.MarketCommodity,
		"COS00": vendor.MarketOther, "HSK0": vendor.MarketOther} {
		caps, err := c.Capabilities(code)
		require.NoError(t, err, code)
		require.Equal(t, want, caps.Market, code)
		require.Equal(t, vendor.XdTick, caps.Vendor)
		require.Equal(t, 5, caps.BatchMax)
		require.Equal(t, PageSize, caps.PageSize)
		require.False(t, caps.PagesBack, "XdTick documents no paging")
		require.False(t, caps.Supports(vendor.TF2h))
		require.True(t, caps.Supports(vendor.TF1M))
	}
	for _, bad := range []string{"", "BTC USD", "BTC-USD", "AAPL.US", "700.HK", "600519.SH", "BTCUSD\n", strings.Repeat("A", 40)} {
		_, err := c.Capabilities(bad)
		require.ErrorIs(t, err, vendor.ErrInvalidSymbol, bad)
		require.Contains(t, err.Error(), "BTCUSD", "the error shows a good code")
	}
	_, err = c.Capabilities("AAPL.US")
	require.ErrorContains(t, err, "no stocks")
}
