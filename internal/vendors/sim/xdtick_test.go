package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

const xdTickKey = "sim-xd-key"

type xdTickBundle struct {
	srv *Server
	clk *clock.Fake
	url string
	c   *xdtick.Client
}

// xdTickFriday is a Friday 15:00 UTC, when every market is open.
var xdTickFriday = time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC)

// xdTickSetup starts the simulator as XdTick, as of asOf, and an XdTick
// client pointed at it.
func xdTickSetup(t *testing.T, asOf time.Time, p plan.Plan, faults Faults) xdTickBundle {
	t.Helper()
	clk := clock.NewFake(asOf)
	srv, err := New(Config{Seed: 11, Clock: clk, Plan: p, Faults: faults, RootVendor: vendor.XdTick})
	require.NoError(t, err)
	h, err := Handler(vendor.XdTick)
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.XdTick, h))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := xdtick.New(xdtick.Config{BaseURL: hs.URL, Token: secret.New(xdTickKey),
		HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
	require.NoError(t, err)
	return xdTickBundle{srv: srv, clk: clk, url: hs.URL, c: c}
}

// raw sends one request the way a user's own script would.
func (b xdTickBundle) raw(t *testing.T, method, path, key, body string) xdtick.Envelope {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, b.url+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set(xdtick.HeaderKey, key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var env xdtick.Envelope
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	return env
}

func TestXdTickRoundTrip(t *testing.T) {
	t.Parallel()
	b := xdTickSetup(t, xdTickFriday, plan.Plan{}, Faults{})
	ctx := t.Context()
	now := b.srv.Core().Now()

	// History: the latest 1000 bars; every final one equals the truth, the
	// newest is the one forming now.
	page, err := b.c.History(ctx, "BTCUSD", vendor.TF1m, time.Time{}, 1000)
	require.NoError(t, err)
	require.Len(t, page.Bars, 1000)
	require.Empty(t, page.Rejects)
	newest := page.Bars[len(page.Bars)-1]
	require.Equal(t, now.Truncate(time.Minute), newest.Time)
	truth, err := b.srv.Core().Truth(XdTickSpec("BTCUSD", vendor.TF1m), page.Bars[0].Time, newest.Time)
	require.NoError(t, err)
	require.Len(t, truth, 999)
	for i := range truth {
		require.True(t, truth[i].SameValues(page.Bars[i]), "bar %d", i)
	}

	// No end time on XdTick: the client refuses to ask for one.
	_, err = b.c.History(ctx, "BTCUSD", vendor.TF1m, now.Add(-time.Hour), 10)
	require.ErrorIs(t, err, vendor.ErrUnsupported)

	// 1M is XdTick's "1m": calendar months, not minutes.
	page, err = b.c.History(ctx, "EURUSD", vendor.TF1M, time.Time{}, 3)
	require.NoError(t, err)
	require.Len(t, page.Bars, 3)
	for i, bar := range page.Bars {
		require.Equal(t, 1, bar.Time.Day(), "month bars open on the 1st")
		if i > 0 {
			require.Equal(t, vendor.TF1M.Next(page.Bars[i-1].Time), bar.Time)
		}
	}

	// Latest two bars of many series; one invalid code isolated.
	series := []vendor.Series{
		{Vendor: vendor.XdTick, Symbol: "BTCUSD", Timeframe: vendor.TF1m},
		{Vendor: vendor.XdTick, Symbol: "ETHUSD", Timeframe: vendor.TF5m},
		{Vendor: vendor.XdTick, Symbol: "INVALIDX", Timeframe: vendor.TF1m},
		{Vendor: vendor.XdTick, Symbol: "GC", Timeframe: vendor.TF1h},
		{Vendor: vendor.XdTick, Symbol: "EURUSD", Timeframe: vendor.TF1d},
	}
	latest, err := b.c.Latest(ctx, series)
	require.NoError(t, err)
	require.Empty(t, latest.Missing)
	require.Len(t, latest.Bars, 4)
	require.Len(t, latest.Bars[series[0]], 2)
	require.Equal(t, now.Truncate(time.Minute), latest.Bars[series[0]][1].Time, "the newest bar is the forming one")
	require.Contains(t, latest.Invalid, series[2])
	require.ErrorIs(t, latest.Invalid[series[2]], vendor.ErrInvalidSymbol)

	trades, err := b.c.Trades(ctx, []string{"BTCUSD", "EURUSD", "INVALIDY"})
	require.NoError(t, err)
	require.Len(t, trades, 2, "codes XdTick does not serve are left out")
	require.Equal(t, now.Truncate(time.Second), trades[0].Time)
	require.False(t, trades[1].Turnover.Valid, "FX trades carry no turnover")
	require.True(t, trades[1].Price.Identical(latest.Bars[series[4]][1].Close), "the trade is the forming bar's close")

	// An invalid code on the history endpoint.
	_, err = b.c.History(ctx, "INVALIDZ", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)

	st := b.srv.Core().Stats()
	require.NotEmpty(t, st)
}

// The wire format itself, as a user's script sees it.
func TestXdTickWire(t *testing.T) {
	t.Parallel()
	b := xdTickSetup(t, xdTickFriday, plan.Plan{}, Faults{})
	env := b.raw(t, http.MethodGet, "/tick-api/kline?code=BTCUSD&klineType=1min&size=2&endTime=1", xdTickKey, "")
	require.Equal(t, xdtick.CodeOK, env.Code)
	require.Equal(t, "successful", env.Msg)
	var kd struct {
		Code      string `json:"code"`
		KlineType string `json:"klineType"`
		KlineList []struct {
			Timestamp int64  `json:"timestamp"`
			StartTime string `json:"startTime"`
			Open      any    `json:"open"`
		} `json:"klineList"`
	}
	require.NoError(t, json.Unmarshal(env.Data, &kd))
	require.Equal(t, "1min", kd.KlineType)
	require.Len(t, kd.KlineList, 2)
	now := b.srv.Core().Now().Truncate(time.Minute)
	require.Equal(t, now.UnixMilli(), kd.KlineList[0].Timestamp, "newest first, in ms; an end time is ignored")
	require.Equal(t, now.Add(8*time.Hour).Format(xdtick.StartTimeLayout), kd.KlineList[0].StartTime, "startTime is UTC+8 wall time")
	require.IsType(t, float64(0), kd.KlineList[0].Open, "prices are JSON numbers")

	// The same group twice and another timeframe in one batch.
	env = b.raw(t, http.MethodPost, "/tick-api/batch-kline", xdTickKey, `[{"code":"BTCUSD","klineType":"1m","size":5},{"code":"ETHUSD","klineType":"60min","size":2}]`)
	require.Equal(t, xdtick.CodeOK, env.Code)
	var bd xdtick.BatchData
	require.NoError(t, json.Unmarshal(env.Data, &bd))
	require.Len(t, bd.KlineList, 2)
	require.Equal(t, "1m", bd.KlineList[0].KlineType)
	require.Len(t, bd.KlineList[0].KlineData, 2, "size is truncated to 2")

	for _, tc := range []struct {
		method, path, key, body string
		code                    int
	}{
		{http.MethodGet, "/tick-api/kline?code=BTCUSD&klineType=1min", "", "", xdtick.CodeTokenInvalid},
		{http.MethodGet, "/tick-api/kline?code=BTCUSD&klineType=1M", xdTickKey, "", xdtick.CodeQueryInvalid},
		{http.MethodGet, "/tick-api/kline?code=BTCUSD&klineType=4h", xdTickKey, "", xdtick.CodeQueryInvalid},
		{http.MethodGet, "/tick-api/kline?code=BTCUSD&klineType=1min&size=x", xdTickKey, "", xdtick.CodeQueryInvalid},
		{http.MethodGet, "/tick-api/kline?code=AAPL.US&klineType=1min", xdTickKey, "", xdtick.CodeCodeInvalid},
		{http.MethodPost, "/tick-api/batch-kline", xdTickKey, " ", xdtick.CodeBodyEmpty},
		{http.MethodPost, "/tick-api/batch-kline", xdTickKey, `{"data_list":[]}`, xdtick.CodeBadHeader},
		{http.MethodPost, "/tick-api/batch-kline", xdTickKey, `[{"code":"INVALIDQ","klineType":"1min","size":2},{"code":"BTCUSD","klineType":"1min","size":2}]`, xdtick.CodeCodeInvalid},
		{http.MethodGet, "/tick-api/trade-tick?codes=", xdTickKey, "", xdtick.CodeQueryInvalid},
	} {
		env := b.raw(t, tc.method, tc.path, tc.key, tc.body)
		require.Equal(t, tc.code, env.Code, "%s %s %s", tc.method, tc.path, tc.body)
	}
}

func TestXdTickPlanRefusalIsTheVendorsAnswer(t *testing.T) {
	t.Parallel()
	free, err := plan.Lookup(vendor.XdTick, "free")
	require.NoError(t, err)
	b := xdTickSetup(t, xdTickFriday, free, Faults{})
	ctx := t.Context()
	_, err = b.c.History(ctx, "BTCUSD", vendor.TF1m, time.Time{}, 10)
	require.NoError(t, err)
	// A burst beyond one request per 10 s gets XdTick's rate-limit answer.
	_, err = b.c.History(ctx, "BTCUSD", vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrRateLimited)
	env := b.raw(t, http.MethodGet, "/tick-api/kline?code=BTCUSD&klineType=1min", xdTickKey, "")
	require.Equal(t, xdtick.Envelope{Code: 429, Msg: "Too Many Requests"}, env)

	// More groups than the free plan's 5 (a client not told the plan's cap).
	b.clk.Advance(time.Minute)
	series := make([]vendor.Series, 0, free.BatchMax+1)
	for _, s := range []string{"BTCUSD", "ETHUSD", "EURUSD", "USDJPY", "GC", "CL"} {
		series = append(series, vendor.Series{Vendor: vendor.XdTick, Symbol: s, Timeframe: vendor.TF1m})
	}
	got, err := b.c.Latest(ctx, series)
	require.ErrorIs(t, err, vendor.ErrUnsupported, "603 token level not enough")
	require.ElementsMatch(t, series, got.Missing)

	// Told the cap (as syncd's wiring does), the same series go through.
	b.clk.Advance(time.Minute)
	c, err := xdtick.New(xdtick.Config{BaseURL: b.url, Token: secret.New("another-key"), BatchMax: free.BatchMax})
	require.NoError(t, err)
	got, err = c.Latest(ctx, series[:free.BatchMax])
	require.NoError(t, err)
	require.Len(t, got.Bars, free.BatchMax)
}

func TestXdTickFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind FaultKind
		want error
	}{
		{FaultRateLimit, vendor.ErrRateLimited},
		{FaultServerError, vendor.ErrTransient},
		{FaultMalformed, vendor.ErrProtocol},
		{FaultTruncated, vendor.ErrTransient},
	} {
		var f Faults
		f.Rate[tc.kind] = 1
		b := xdTickSetup(t, xdTickFriday, plan.Plan{}, f)
		ctx := t.Context()
		_, err := b.c.History(ctx, "BTCUSD", vendor.TF1m, time.Time{}, 10)
		require.ErrorIs(t, err, tc.want, tc.kind.String())
		_, err = b.c.Latest(ctx, []vendor.Series{{Vendor: vendor.XdTick, Symbol: "BTCUSD", Timeframe: vendor.TF1m}})
		require.ErrorIs(t, err, tc.want, tc.kind.String())
		require.NotContains(t, err.Error(), xdTickKey)
	}
}

// Bars before xdtick.MinTime would be rejected by the client as seconds; the
// simulated history starts there instead.
func TestXdTickHistoryStartsAtMinTime(t *testing.T) {
	t.Parallel()
	b := xdTickSetup(t, xdtick.MinTime.Add(48*time.Hour), plan.Plan{}, Faults{})
	page, err := b.c.History(t.Context(), "BTCUSD", vendor.TF1h, time.Time{}, 100)
	require.NoError(t, err)
	require.Empty(t, page.Rejects)
	require.Len(t, page.Bars, 48)
	require.False(t, page.Bars[0].Time.Before(xdtick.MinTime))
}
