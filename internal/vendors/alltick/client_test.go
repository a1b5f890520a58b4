package alltick

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

const token = "tok-AllTick-s3cr3t"

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

func newClient(t *testing.T, h http.HandlerFunc, batch int) (*Client, *countingGate) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	g := &countingGate{}
	c, err := New(Config{BaseURL: srv.URL, Token: secret.New(token), Gate: g, BatchMax: batch,
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
	require.NoError(t, err)
	return c, g
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

func TestHistoryGolden(t *testing.T) {
	t.Parallel()
	var gotQuery KlineQuery
	var gotPath, gotToken string
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotToken = r.URL.Path, r.URL.Query().Get("token")
		var req Request[KlineQuery]
		if err := json.Unmarshal([]byte(r.URL.Query().Get("query")), &req); err == nil && req.Trace != "" {
			gotQuery = req.Data
		}
		_, _ = w.Write(fixture(t, "kline_response_doc.json"))
	}, 0)
	page, err := c.History(context.Background(), "857.HK", vendor.TF1m, time.Time{}, 1000)
	require.NoError(t, err)
	require.Equal(t, "/quote-stock-b-api/kline", gotPath)
	require.Equal(t, token, gotToken)
	require.Equal(t, KlineQuery{Code: "857.HK", KlineType: 1, KlineTimestampEnd: 0, QueryKlineNum: 500}, gotQuery, "limit clamped to 500")
	require.Equal(t, 500, page.Requested)
	require.Len(t, page.Bars, 2)
	b := page.Bars[0]
	require.Equal(t, time.Unix(1677829200, 0).UTC(), b.Time)
	require.Equal(t, "136.421", b.Open.String())
	require.Equal(t, "136.422", b.High.String())
	require.Equal(t, "136.407", b.Low.String())
	require.Equal(t, "136.412", b.Close.String())
	require.True(t, b.Turnover.Valid)
}

func TestHistoryPagingAndPaths(t *testing.T) {
	t.Parallel()
	var gotQuery KlineQuery
	var gotPath string
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		var req Request[KlineQuery]
		_ = json.Unmarshal([]byte(r.URL.Query().Get("query")), &req)
		gotQuery = req.Data
		// Newest first, with a duplicate: the client sorts and dedupes.
		_, _ = w.Write([]byte(`{"ret":200,"msg":"ok","trace":"x","data":{"code":"BTCUSDT","kline_type":1,"kline_list":[
{"timestamp":"1700000060","open_price":"2","close_price":"2","high_price":"2","low_price":"2","volume":"1","turnover":"2"},
{"timestamp":"1700000000","open_price":"1","close_price":"1","high_price":"1","low_price":"1","volume":"1","turnover":"1"},
{"timestamp":"1700000060","open_price":"2","close_price":"2","high_price":"2","low_price":"2","volume":"1","turnover":"2"},
{"timestamp":"1700000000000","open_price":"1","close_price":"1","high_price":"1","low_price":"1","volume":"1","turnover":"1"},
{"timestamp":"1700000120","open_price":"x","close_price":"1","high_price":"1","low_price":"1","volume":"1","turnover":"1"}]}}`))
	}, 0)
	end := time.Unix(1700000100, 0)
	page, err := c.History(context.Background(), "BTCUSDT", vendor.TF1m, end, 100)
	require.NoError(t, err)
	require.Equal(t, "/quote-b-api/kline", gotPath)
	require.Equal(t, int64(1700000100), gotQuery.KlineTimestampEnd)
	require.Len(t, page.Bars, 2)
	require.True(t, page.Bars[0].Time.Before(page.Bars[1].Time))
	require.Len(t, page.Rejects, 2, "a millisecond timestamp and a bad number are rejected, the rest kept")

	_, err = c.History(context.Background(), "AAPL.US", vendor.TF1m, end, 100)
	require.ErrorIs(t, err, vendor.ErrUnsupported, "stock codes cannot page back")
	_, err = c.History(context.Background(), "AAPL.US", vendor.TF4h, time.Time{}, 100)
	require.ErrorIs(t, err, vendor.ErrUnsupported, "no 4h bars for stocks")
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		body   string
		want   error
	}{
		{200, `{"ret":605,"msg":"too many requests","trace":"x"}`, vendor.ErrRateLimited},
		{200, `{"ret":429,"msg":"rate limit","trace":"x"}`, vendor.ErrRateLimited},
		{429, `Too Many Requests`, vendor.ErrRateLimited},
		{200, `{"ret":401,"msg":"token invalid","trace":"x"}`, vendor.ErrAuth},
		{200, `{"ret":600,"msg":"code invalid","trace":"x"}`, vendor.ErrInvalidSymbol},
		{200, `{"ret":604,"msg":"code unauthorized","trace":"x"}`, vendor.ErrInvalidSymbol},
		{200, `{"ret":603,"msg":"token level not enough","trace":"x"}`, vendor.ErrUnsupported},
		{200, `{"ret":400,"msg":"request data param invalid","trace":"x"}`, vendor.ErrProtocol},
		{200, `{"ret":202,"msg":"request data param invalid","trace":"x"}`, vendor.ErrProtocol},
		{502, `<html>bad gateway</html>`, vendor.ErrTransient},
		{200, `<html>`, vendor.ErrProtocol},
		{200, ``, vendor.ErrProtocol},
		{200, `{"ret":200,"msg":"ok"}`, vendor.ErrProtocol},
	}
	for _, tc := range cases {
		c, _ := newClient(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}, 0)
		_, err := c.History(context.Background(), "BTCUSDT", vendor.TF1m, time.Time{}, 10)
		require.ErrorIs(t, err, tc.want, "%d %s", tc.status, tc.body)
		require.NotContains(t, err.Error(), token)
	}
}

// batchServer answers /batch-kline with two bars per group, refusing the whole
// request with 600 when it contains a bad code, as AllTick does.
func batchServer(t *testing.T, bad string, paths *[]string, mu *sync.Mutex) http.HandlerFunc {
	t.Helper()
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req Request[BatchQuery]
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		mu.Lock()
		*paths = append(*paths, r.URL.Path)
		mu.Unlock()
		resp := BatchData{}
		for _, q := range req.Data.DataList {
			if q.Code == bad {
				_, _ = w.Write([]byte(`{"ret":600,"msg":"code invalid","trace":"` + req.Trace + `"}`))
				return
			}
			if q.Code == "GONE" {
				continue
			}
			var els []json.RawMessage
			for i := range 2 {
				b, _ := json.Marshal(Bar{Timestamp: Seconds(1700000000 + 60*int64(i)), OpenPrice: mustDec("1"), ClosePrice: mustDec("1"),
					HighPrice: mustDec("1"), LowPrice: mustDec("1"), Volume: mustDec("0")})
				els = append(els, b)
			}
			resp.KlineList = append(resp.KlineList, BatchGroup{Code: q.Code, KlineType: q.KlineType, KlineData: els})
		}
		data, _ := json.Marshal(resp)
		env, _ := json.Marshal(Envelope{Ret: 200, Msg: "ok", Trace: req.Trace, Data: data})
		_, _ = w.Write(env)
	}
}

func TestLatestPackingSplitAndIsolation(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var paths []string
	c, gate := newClient(t, batchServer(t, "BAD", &paths, &mu), 5)
	series := make([]vendor.Series, 0, 13)
	for i := range 12 {
		series = append(series, vendor.Series{Vendor: vendor.AllTick, Symbol: "C" + string(rune('A'+i)) + "USDT", Timeframe: vendor.TF1m})
	}
	series = append(series, vendor.Series{Vendor: vendor.AllTick, Symbol: "700.HK", Timeframe: vendor.TF1m})
	got, err := c.Latest(context.Background(), series)
	require.NoError(t, err)
	require.Len(t, got.Bars, 13)
	require.Equal(t, []int{1, 5, 5, 2}, gate.calls, "stock and other codes apart; 12 others in 3 requests of ≤5")
	require.Contains(t, paths, "/quote-stock-b-api/batch-kline")
	require.Contains(t, paths, "/quote-b-api/batch-kline")

	// One invalid code among 8 is isolated by bisection; the other 7 arrive.
	gate.calls, paths = nil, nil
	c.batchMax = 8
	eight := make([]vendor.Series, 0, 8)
	for i := range 8 {
		sym := "X" + string(rune('A'+i)) + "USDT"
		if i == 5 {
			sym = "BAD"
		}
		eight = append(eight, vendor.Series{Vendor: vendor.AllTick, Symbol: sym, Timeframe: vendor.TF1m})
	}
	got, err = c.Latest(context.Background(), eight)
	require.NoError(t, err)
	require.Len(t, got.Bars, 7)
	require.Len(t, got.Invalid, 1)
	require.ErrorIs(t, got.Invalid[eight[5]], vendor.ErrInvalidSymbol)
	require.LessOrEqual(t, len(gate.calls), 1+2*3, "bisection costs O(log n) requests")

	// A series the answer leaves out is reported missing.
	gate.calls = nil
	got, err = c.Latest(context.Background(), []vendor.Series{{Vendor: vendor.AllTick, Symbol: "GONE", Timeframe: vendor.TF1m}, eight[0]})
	require.NoError(t, err)
	require.Len(t, got.Missing, 1)
	require.Equal(t, "GONE", got.Missing[0].Symbol)
}

func TestBatchRequestMatchesDocExample(t *testing.T) {
	t.Parallel()
	var doc Request[BatchQuery]
	require.NoError(t, json.Unmarshal(fixture(t, "batch_request_doc.json"), &doc))
	require.Equal(t, []KlineQuery{{Code: "700.HK", KlineType: 1, QueryKlineNum: 1}, {Code: "GOOGL.US", KlineType: 1, QueryKlineNum: 1}}, doc.Data.DataList)
	var env Envelope
	require.NoError(t, json.Unmarshal(fixture(t, "batch_response_doc.json"), &env))
	var bd BatchData
	require.NoError(t, json.Unmarshal(env.Data, &bd))
	bars, rejects := decodeBars(vendor.Series{Symbol: "700.HK"}, bd.KlineList[0].KlineData)
	require.Empty(t, rejects)
	require.Equal(t, "136.412", bars[0].Close.String())
}

func TestTradesGolden(t *testing.T) {
	t.Parallel()
	var got TradeQuery
	c, _ := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		var req Request[TradeQuery]
		_ = json.Unmarshal([]byte(r.URL.Query().Get("query")), &req)
		got = req.Data
		_, _ = w.Write(fixture(t, "trade_doc_1.json"))
	}, 0)
	trades, err := c.Trades(context.Background(), []string{"857.HK", "UNH.US"})
	require.NoError(t, err)
	var doc Request[TradeQuery]
	require.NoError(t, json.Unmarshal(fixture(t, "trade_doc_0.json"), &doc))
	require.Equal(t, doc.Data, got)
	require.Len(t, trades, 1)
	require.Equal(t, time.UnixMilli(1677831545217).UTC(), trades[0].Time)
	require.Equal(t, "136.302", trades[0].Price.String())
	require.Equal(t, "30841439", trades[0].Seq)
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c, err := New(Config{BaseURL: base, Token: secret.New(token)})
	require.NoError(t, err)
	_, err = c.History(context.Background(), "BTCUSDT", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrTransient)
	require.NotContains(t, err.Error(), token)
	require.NotContains(t, err.Error(), url.QueryEscape(token))
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: secret.New(token), BatchMax: 5})
	require.NoError(t, err)
	for code, want := range map[string]vendor.Market{"AAPL.US": vendor.MarketUS, "700.HK": vendor.MarketHK, "600519.SH": vendor.MarketCN,
		"BTCUSDT": vendor.MarketCrypto, "EURUSD": vendor.MarketFX, "XAUUSD": vendor.MarketCommodity, "GOLD": vendor.MarketCommodity} {
		caps, err := c.Capabilities(code)
		require.NoError(t, err, code)
		require.Equal(t, want, caps.Market, code)
		require.Equal(t, 5, caps.BatchMax)
		require.Equal(t, !IsStock(code), caps.PagesBack, code)
	}
	for _, bad := range []string{"", "BTC USDT", "00700.HK", strings.Repeat("A", 40)} {
		_, err := c.Capabilities(bad)
		require.ErrorIs(t, err, vendor.ErrInvalidSymbol, bad)
	}
}
