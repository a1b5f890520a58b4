package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/infoway"
)

// infowayAsOf is a Friday, 10:00:30 in New York (US open, HK and Shanghai
// closed for the night).
var infowayAsOf = time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC)

type infowayRig struct {
	srv   *Server
	clock *clock.Fake
	url   string
	http  *http.Client
	c     *infoway.Client
}

// infowayPair starts the simulator as Infoway (through sim.Handler, as syncd
// simulate does) with a fake clock and an Infoway client pointed at it.
func infowayPair(t *testing.T, seed uint64, p plan.Plan, faults Faults) *infowayRig {
	t.Helper()
	fake := clock.NewFake(infowayAsOf)
	srv, err := New(Config{Seed: seed, Clock: fake, Plan: p, Faults: faults, RootVendor: vendor.Infoway})
	require.NoError(t, err)
	h, err := Handler(vendor.Infoway)
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.Infoway, h))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := infoway.New(infoway.Config{BaseURL: hs.URL, Token: secret.New("sim-key"), HTTPClient: hs.Client()})
	require.NoError(t, err)
	return &infowayRig{srv: srv, clock: fake, url: hs.URL, http: hs.Client(), c: c}
}

// raw sends one request with the apiKey header and returns status and body.
func (r *infowayRig) raw(t *testing.T, method, path, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, r.url+path, strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header[infoway.HeaderAPIKey] = []string{key}
	}
	resp, err := r.http.Do(req)
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

func infowaySpecOf(t *testing.T, code string, tf vendor.Timeframe) Spec {
	t.Helper()
	s, ok := InfowaySpec(code, tf)
	require.True(t, ok, code)
	return s
}

// requireTruth checks bars (ascending) against the core: final bars equal the
// ground truth, a forming one the generator's bar as of now.
func requireTruth(t *testing.T, core *Core, s Spec, bars []vendor.Bar) {
	t.Helper()
	require.NotEmpty(t, bars)
	now := core.Now()
	truth, err := core.Truth(s, bars[0].Time, bars[len(bars)-1].Time.Add(time.Nanosecond))
	require.NoError(t, err)
	final := bars
	if last := bars[len(bars)-1]; !core.Generator().IsFinal(s, last.Time, now) {
		want, ok, err := core.Generator().Bar(s, last.Time, now)
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, want.SameValues(last), "forming bar %s: got %+v want %+v", last.Time, last, want)
		final = bars[:len(bars)-1]
	}
	require.Len(t, truth, len(final), "%s bars from %s", s.Symbol, bars[0].Time)
	for i := range final {
		require.True(t, truth[i].SameValues(final[i]), "%s bar %d at %s", s.Symbol, i, final[i].Time)
	}
}

func TestInfowayHistoryPagesBack(t *testing.T) {
	t.Parallel()
	rig := infowayPair(t, 7, plan.Plan{}, Faults{})
	ctx := context.Background()
	core := rig.srv.Core()
	now := core.Now()

	for _, tc := range []struct {
		code string
		tf   vendor.Timeframe
	}{{"BTCUSDT", vendor.TF1m}, {"EURUSD", vendor.TF5m}, {"AAPL.US", vendor.TF30m}, {"00700.HK", vendor.TF15m}} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			s := infowaySpecOf(t, tc.code, tc.tf)
			page, err := rig.c.History(ctx, tc.code, tc.tf, time.Time{}, infoway.MaxKlineNum)
			require.NoError(t, err)
			require.Len(t, page.Bars, infoway.MaxKlineNum)
			requireTruth(t, core, s, page.Bars)
			all := page.Bars
			for range 3 { // page back by timestamp, each page ending just before the previous one
				page, err = rig.c.History(ctx, tc.code, tc.tf, all[0].Time.Add(-time.Second), infoway.MaxKlineNum)
				require.NoError(t, err)
				require.Len(t, page.Bars, infoway.MaxKlineNum)
				all = slices.Concat(page.Bars, all)
			}
			requireTruth(t, core, s, all) // contiguous: no bar missing or repeated at the page joins
		})
	}

	t.Run("TimestampIsInclusive", func(t *testing.T) {
		t.Parallel()
		end := now.Add(-2 * time.Hour).Truncate(time.Minute)
		page, err := rig.c.History(ctx, "BTCUSDT", vendor.TF1m, end, 10)
		require.NoError(t, err)
		require.Len(t, page.Bars, 10)
		require.Equal(t, end, page.Bars[9].Time)
	})

	t.Run("DailyAnchors", func(t *testing.T) {
		t.Parallel()
		ny, err := time.LoadLocation("America/New_York")
		require.NoError(t, err)
		for code, zone := range map[string]*time.Location{"BTCUSDT": time.UTC, "AAPL.US": ny} {
			page, err := rig.c.History(ctx, code, vendor.TF1d, time.Time{}, 20)
			require.NoError(t, err)
			require.Len(t, page.Bars, 20)
			requireTruth(t, core, infowaySpecOf(t, code, vendor.TF1d), page.Bars)
			for _, b := range page.Bars {
				lt := b.Time.In(zone)
				require.Zero(t, lt.Hour()*60+lt.Minute(), "%s daily bar at %s", code, b.Time)
			}
		}
	})

	t.Run("BeyondPlanRange", func(t *testing.T) {
		t.Parallel()
		_, err := rig.c.History(ctx, "BTCUSDT", vendor.TF1m, now.Add(-InfowayHistoryDepth-time.Hour), 10)
		require.ErrorIs(t, err, vendor.ErrBeyondRange)
		var ae *vendor.APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, strconv.Itoa(infoway.RetTimeLimit), ae.Code)

		// A page reaching over the edge stops at it.
		oldest := now.Add(-InfowayHistoryDepth)
		page, err := rig.c.History(ctx, "BTCUSDT", vendor.TF1m, oldest.Add(10*time.Minute), 100)
		require.NoError(t, err)
		require.NotEmpty(t, page.Bars)
		require.Less(t, len(page.Bars), 100)
		require.False(t, page.Bars[0].Time.Before(oldest))
		requireTruth(t, core, infowaySpecOf(t, "BTCUSDT", vendor.TF1m), page.Bars)
	})
}

func TestInfowayWire(t *testing.T) {
	t.Parallel()
	rig := infowayPair(t, 7, plan.Plan{}, Faults{})
	now := rig.srv.Core().Now()

	t.Run("NewestFirstInSeconds", func(t *testing.T) {
		t.Parallel()
		status, body := rig.raw(t, http.MethodPost, infoway.KlinePath(infoway.MktStock), "k", `{"klineType":1,"klineNum":30,"codes":"AAPL.US"}`)
		require.Equal(t, http.StatusOK, status)
		var env infoway.Envelope
		require.NoError(t, json.Unmarshal(body, &env))
		require.Equal(t, infoway.RetOK, env.Ret)
		require.Equal(t, infoway.MsgSuccess, env.Msg)
		require.NotEmpty(t, env.TraceID)
		var data []infoway.KlineSeries
		require.NoError(t, json.Unmarshal(env.Data, &data))
		require.Len(t, data, 1)
		require.Equal(t, "AAPL.US", data[0].S)
		require.Len(t, data[0].RespList, 30)
		prev := int64(1 << 62)
		for _, b := range data[0].RespList {
			ts, err := strconv.ParseInt(string(b.T), 10, 64)
			require.NoError(t, err)
			require.Less(t, ts, prev, "descending")
			prev = ts
			require.True(t, strings.HasSuffix(string(b.PC), "%"), string(b.PC))
		}
		require.Equal(t, now.Truncate(time.Minute).Unix(), mustInt(t, string(data[0].RespList[0].T)), "the newest bar is the forming one")
	})

	for _, tc := range []struct {
		name, path, key, body string
		status, ret           int
		msg                   string
	}{
		{"KlineNumTooLarge", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":1,"klineNum":501,"codes":"BTCUSDT"}`, 200, infoway.RetKlineNum, ""},
		{"UnknownKlineType", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":99,"klineNum":5,"codes":"BTCUSDT"}`, 200, infoway.RetParamError, ""},
		{"QuarterBars", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":11,"klineNum":5,"codes":"BTCUSDT"}`, 200, infoway.RetParamError, ""},
		{"NoCodes", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":1,"klineNum":5,"codes":""}`, 200, infoway.RetParamMissing, ""},
		{"MillisecondTimestamp", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":1,"klineNum":5,"codes":"BTCUSDT","timestamp":1786737540000}`, 200, infoway.RetParamError, ""},
		{"Year2000", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":1,"klineNum":5,"codes":"BTCUSDT","timestamp":946684800}`, 200, infoway.RetTimeLimit, ""},
		{"HKNotPadded", infoway.KlinePath(infoway.MktStock), "k", `{"klineType":1,"klineNum":5,"codes":"700.HK"}`, 200, infoway.RetServerError, infoway.MsgAllProductNotExists},
		{"WrongMarketPrefix", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":1,"klineNum":5,"codes":"AAPL.US"}`, 200, infoway.RetServerError, infoway.MsgAllProductNotExists},
		{"SomeUnknown", infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":1,"klineNum":2,"codes":"BTCUSDT,INVALIDUSDT"}`, 200, infoway.RetNoProduct, ""},
		{"NoCalendar", infoway.KlinePath(infoway.MktKorea), "k", `{"klineType":1,"klineNum":5,"codes":"005930.KS"}`, 200, infoway.RetServerError, infoway.MsgAllProductNotExists},
		{"TradeUnknown", infoway.TradePath(infoway.MktCrypto, "INVALIDUSDT"), "k", "", 200, infoway.RetServerError, infoway.MsgAllProductNotExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := http.MethodPost
			if strings.Contains(tc.path, "batch_trade") {
				method = http.MethodGet
			}
			status, body := rig.raw(t, method, tc.path, tc.key, tc.body)
			require.Equal(t, tc.status, status, string(body))
			var env infoway.Envelope
			require.NoError(t, json.Unmarshal(body, &env), string(body))
			require.Equal(t, tc.ret, env.Ret, string(body))
			require.Equal(t, "null", string(env.Data))
			if tc.msg != "" {
				require.Equal(t, tc.msg, env.Msg)
			}
		})
	}

	t.Run("MoreCodesThanInfowayServes", func(t *testing.T) {
		t.Parallel()
		codes := make([]string, infoway.MaxCodes+1)
		for i := range codes {
			codes[i] = "C" + strconv.Itoa(i) + "USDT"
		}
		for _, req := range []struct{ method, path, body string }{
			{http.MethodPost, infoway.KlinePath(infoway.MktCrypto), `{"klineType":1,"klineNum":2,"codes":"` + strings.Join(codes, ",") + `"}`},
			{http.MethodGet, infoway.TradePath(infoway.MktCrypto, strings.Join(codes, ",")), ""},
		} {
			status, body := rig.raw(t, req.method, req.path, "k", req.body)
			require.Equal(t, http.StatusOK, status)
			var env infoway.Envelope
			require.NoError(t, json.Unmarshal(body, &env))
			require.Equal(t, infoway.RetTooManyProducts, env.Ret, req.path)
		}
	})

	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"", InvalidCodePrefix + "-key"} {
			status, body := rig.raw(t, http.MethodPost, infoway.KlinePath(infoway.MktCrypto), key, `{"klineType":1,"klineNum":5,"codes":"BTCUSDT"}`)
			require.Equal(t, http.StatusUnauthorized, status)
			var ub infoway.UnauthorizedBody
			require.NoError(t, json.Unmarshal(body, &ub))
			require.Equal(t, infoway.UnauthorizedBody{Code: 401, Message: infoway.MsgTokenInvalid, Timestamp: now.UnixMilli()}, ub)
		}
		c, err := infoway.New(infoway.Config{BaseURL: rig.url, Token: secret.New(InvalidCodePrefix + "-key"), HTTPClient: rig.http})
		require.NoError(t, err)
		_, err = c.History(context.Background(), "BTCUSDT", vendor.TF1m, time.Time{}, 5)
		require.ErrorIs(t, err, vendor.ErrAuth)
	})

	t.Run("UnknownMarketPrefix", func(t *testing.T) {
		t.Parallel()
		status, body := rig.raw(t, http.MethodPost, infoway.KlinePath("moon"), "k", `{"klineType":1,"klineNum":5,"codes":"BTCUSDT"}`)
		require.Equal(t, http.StatusNotFound, status)
		var pb infoway.ProblemBody
		require.NoError(t, json.Unmarshal(body, &pb))
		require.Equal(t, http.StatusNotFound, pb.Status)
	})

	t.Run("BadBody", func(t *testing.T) {
		t.Parallel()
		status, _ := rig.raw(t, http.MethodPost, infoway.KlinePath(infoway.MktCrypto), "k", `{"klineType":"one"`)
		require.Equal(t, http.StatusBadRequest, status)
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

func TestInfowayLatestBatches(t *testing.T) {
	t.Parallel()
	rig := infowayPair(t, 7, plan.Plan{}, Faults{})
	core := rig.srv.Core()
	sr := func(code string, tf vendor.Timeframe) vendor.Series {
		return vendor.Series{Vendor: vendor.Infoway, Symbol: code, Timeframe: tf}
	}
	series := []vendor.Series{
		sr("BTCUSDT", vendor.TF1m), sr("ETHUSDT", vendor.TF1m), sr("INVALIDUSDT", vendor.TF1m), sr("SOLUSDT", vendor.TF1m),
		sr("AAPL.US", vendor.TF5m), sr("00700.HK", vendor.TF5m), sr("600519.SH", vendor.TF5m), sr("700.HK", vendor.TF5m),
		sr("XAUUSD", vendor.TF1h), sr("EURUSD", vendor.TF1h),
	}
	latest, err := rig.c.Latest(context.Background(), series)
	require.NoError(t, err)
	require.Empty(t, latest.Missing)
	require.Empty(t, latest.Rejects)
	require.Len(t, latest.Invalid, 2)
	require.Contains(t, latest.Invalid, sr("INVALIDUSDT", vendor.TF1m), "refused by the simulator, isolated by the client")
	require.Contains(t, latest.Invalid, sr("700.HK", vendor.TF5m), "refused by the client before sending")
	require.Len(t, latest.Bars, len(series)-2)
	for s, bars := range latest.Bars {
		require.Len(t, bars, infoway.LatestKlineNum, s.String())
		requireTruth(t, core, infowaySpecOf(t, s.Symbol, s.Timeframe), bars)
		want, err := core.Generator().Last(infowaySpecOf(t, s.Symbol, s.Timeframe), core.Now(), 2, core.Now())
		require.NoError(t, err)
		require.Equal(t, want[1].Time, bars[1].Time, "%s: the newest bars", s)
	}
	require.Equal(t, infowayAsOf.Truncate(time.Minute), latest.Bars[sr("BTCUSDT", vendor.TF1m)][1].Time)

	// One timeframe and market prefix per request: crypto 1m (then the halves
	// of the bisection), stock 5m, common 1h.
	st := core.Stats()
	require.Len(t, st.Endpoints, 1)
	require.Equal(t, vendor.EndpointLatest, st.Endpoints[0].Endpoint)
	require.Empty(t, st.Total.Refused)
	require.GreaterOrEqual(t, st.Total.Requests, uint64(3))
}

func TestInfowayTrades(t *testing.T) {
	t.Parallel()
	rig := infowayPair(t, 7, plan.Plan{}, Faults{})
	core := rig.srv.Core()
	trades, err := rig.c.Trades(context.Background(), []string{"BTCUSDT", "AAPL.US", "00700.HK", "INVALIDUSDT", "EURUSD"})
	var inv *vendor.InvalidSymbolsError
	require.ErrorAs(t, err, &inv)
	require.Equal(t, []string{"INVALIDUSDT"}, inv.Symbols)
	require.Len(t, trades, 4)
	for _, tr := range trades {
		bars, err := core.Generator().Last(infowaySpecOf(t, tr.Symbol, vendor.TF1m), core.Now(), 1, core.Now())
		require.NoError(t, err)
		require.Len(t, bars, 1)
		b := bars[0]
		require.True(t, b.Close.Identical(tr.Price), "%s price", tr.Symbol)
		require.True(t, b.Volume.Identical(tr.Volume), "%s volume", tr.Symbol)
		require.False(t, tr.Time.After(core.Now()))
		require.False(t, tr.Time.Before(b.Time), "%s trade inside its bar", tr.Symbol)
		require.True(t, tr.Time.Before(b.Time.Add(time.Minute)), "%s trade inside its bar", tr.Symbol)
	}
}

func TestInfowayPlan(t *testing.T) {
	t.Parallel()
	free, err := plan.Lookup(vendor.Infoway, "free")
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("WithinPlanNeverRefused", func(t *testing.T) {
		t.Parallel()
		rig := infowayPair(t, 7, free, Faults{})
		// 1 request per second for over a minute: exactly the plan's pace, across endpoints.
		for i := range 75 {
			var err error
			switch i % 3 {
			case 0:
				_, err = rig.c.History(ctx, "BTCUSDT", vendor.TF1m, time.Time{}, 10)
			case 1:
				_, err = rig.c.Latest(ctx, []vendor.Series{{Vendor: vendor.Infoway, Symbol: "BTCUSDT", Timeframe: vendor.TF1m},
					{Vendor: vendor.Infoway, Symbol: "ETHUSDT", Timeframe: vendor.TF1m}})
			default:
				_, err = rig.c.Trades(ctx, []string{"BTCUSDT"})
			}
			require.NoError(t, err, "request %d", i)
			rig.clock.Advance(time.Second)
		}
		st := rig.srv.Core().Stats()
		require.Equal(t, uint64(75), st.Total.Requests)
		require.Equal(t, uint64(75), st.Total.Accepted)
		require.Empty(t, st.Total.Refused)
	})

	for _, tc := range []struct {
		name   string
		p      plan.Plan
		before int // requests admitted first, at the same instant
		reason Reason
		kind   error
		status int
		ret    int // 0: the HTTP 429 body
	}{
		{"BurstPerSecond", free, 1, ReasonPerSecond, vendor.ErrRateLimited, http.StatusTooManyRequests, 0},
		{"PerMinute", plan.Plan{PerMinute: 2}, 2, ReasonPerMinute, vendor.ErrRateLimited, http.StatusOK, infoway.RetRateLimited},
		{"Daily", plan.Plan{PerDay: 1}, 1, ReasonDaily, vendor.ErrQuotaExhausted, http.StatusOK, infoway.RetDailyLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := infowayPair(t, 7, tc.p, Faults{})
			for range tc.before {
				_, err := rig.c.History(ctx, "BTCUSDT", vendor.TF1m, time.Time{}, 10)
				require.NoError(t, err)
			}
			_, err := rig.c.History(ctx, "BTCUSDT", vendor.TF1m, time.Time{}, 10)
			require.ErrorIs(t, err, tc.kind)
			status, body := rig.raw(t, http.MethodPost, infoway.KlinePath(infoway.MktCrypto), "sim-key", `{"klineType":1,"klineNum":10,"codes":"BTCUSDT"}`)
			require.Equal(t, tc.status, status)
			if tc.ret == 0 {
				require.JSONEq(t, `{"detail":"Rate limit exceeded"}`, string(body))
			} else {
				var env infoway.Envelope
				require.NoError(t, json.Unmarshal(body, &env))
				require.Equal(t, tc.ret, env.Ret)
			}
			st := rig.srv.Core().Stats()
			require.Equal(t, uint64(tc.before), st.Total.Accepted)
			require.Equal(t, map[Reason]uint64{tc.reason: 2}, st.Total.Refused)
		})
	}

	t.Run("TooManyCodesForThePlan", func(t *testing.T) {
		t.Parallel()
		rig := infowayPair(t, 7, plan.Plan{BatchMax: 2}, Faults{})
		codes := []string{"BTCUSDT", "ETHUSDT", "SOLUSDT"}
		series := make([]vendor.Series, 0, len(codes))
		for _, c := range codes {
			series = append(series, vendor.Series{Vendor: vendor.Infoway, Symbol: c, Timeframe: vendor.TF1m})
		}
		_, err := rig.c.Latest(ctx, series)
		require.ErrorIs(t, err, vendor.ErrUnsupported)
		var ae *vendor.APIError
		require.ErrorAs(t, err, &ae)
		require.Equal(t, strconv.Itoa(infoway.RetTooManyProducts), ae.Code)
		require.Equal(t, map[Reason]uint64{ReasonBatch: 1}, rig.srv.Core().Stats().Total.Refused)
	})
}

func TestInfowayFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind FaultKind
		want error
	}{
		{FaultRateLimit, vendor.ErrRateLimited},
		{FaultServerError, vendor.ErrTransient},
		{FaultTruncated, vendor.ErrTransient},
		{FaultMalformed, vendor.ErrProtocol},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			var f Faults
			f.Rate[tc.kind] = 1
			rig := infowayPair(t, 7, plan.Plan{}, f)
			_, err := rig.c.History(context.Background(), "BTCUSDT", vendor.TF1m, time.Time{}, 10)
			require.ErrorIs(t, err, tc.want)
			st := rig.srv.Core().Stats()
			require.Equal(t, uint64(1), st.Total.Faults[tc.kind.String()])
			require.Empty(t, st.Total.Refused, "a fault is not a plan refusal")
		})
	}

	t.Run("PageFaults", func(t *testing.T) {
		t.Parallel()
		var f Faults
		f.Rate[FaultHighLow] = 1
		rig := infowayPair(t, 7, plan.Plan{}, f)
		page, err := rig.c.History(context.Background(), "BTCUSDT", vendor.TF1m, time.Time{}, 50)
		require.NoError(t, err)
		bad := 0
		for _, b := range page.Bars {
			if b.High.Cmp(b.Low) < 0 {
				bad++
			}
		}
		require.Equal(t, 1, bad)
		require.Equal(t, uint64(1), rig.srv.Core().Stats().Total.Faults[FaultHighLow.String()])
	})
}

func TestInfowaySameSeedSameBytes(t *testing.T) {
	t.Parallel()
	requests := []struct{ method, path, body string }{
		{http.MethodPost, infoway.KlinePath(infoway.MktCrypto), `{"klineType":1,"klineNum":500,"codes":"BTCUSDT"}`},
		{http.MethodPost, infoway.KlinePath(infoway.MktStock), `{"klineType":5,"klineNum":200,"codes":"AAPL.US","timestamp":1790000000}`},
		{http.MethodPost, infoway.KlinePath(infoway.MktStock), `{"klineType":2,"klineNum":2,"codes":"AAPL.US,00700.HK,600519.SH"}`},
		{http.MethodGet, infoway.TradePath(infoway.MktCrypto, "BTCUSDT,ETHUSDT"), ""},
	}
	// Faults are part of the seed's replay too.
	var f Faults
	f.Rate[FaultDuplicate], f.Rate[FaultOutOfOrder] = 0.5, 0.5
	run := func(seed uint64) [][]byte {
		rig := infowayPair(t, seed, plan.Plan{}, f)
		out := make([][]byte, 0, len(requests))
		for _, r := range requests {
			status, body := rig.raw(t, r.method, r.path, "k", r.body)
			require.Equal(t, http.StatusOK, status, string(body))
			out = append(out, body)
		}
		return out
	}
	a, b, other := run(7), run(7), run(8)
	for i := range requests {
		require.True(t, bytes.Equal(a[i], b[i]), "request %d differs under the same seed", i)
		require.False(t, bytes.Equal(a[i], other[i]), "request %d does not depend on the seed", i)
	}
}

// TestInfowayStockSessions: no stock bar served outside its session, over
// several days of history (nights, the weekend, HK's and Shanghai's lunch).
func TestInfowayStockSessions(t *testing.T) {
	t.Parallel()
	rig := infowayPair(t, 7, plan.Plan{}, Faults{})
	cal := rig.srv.Core().Generator().Calendar()
	ctx := context.Background()
	for _, code := range []string{"AAPL.US", "00700.HK", "600519.SH", "7203.JP"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			s := infowaySpecOf(t, code, vendor.TF1m)
			end := time.Time{}
			seen := 0
			for range 6 {
				page, err := rig.c.History(ctx, code, vendor.TF1m, end, infoway.MaxKlineNum)
				require.NoError(t, err)
				require.NotEmpty(t, page.Bars)
				for _, b := range page.Bars {
					require.True(t, cal.IsOpen(s.Market, b.Time), "%s 1m bar at %s outside its session", code, b.Time)
				}
				seen += len(page.Bars)
				end = page.Bars[0].Time.Add(-time.Second)
			}
			require.Equal(t, 6*infoway.MaxKlineNum, seen)
			hours, err := rig.c.History(ctx, code, vendor.TF1h, time.Time{}, 100)
			require.NoError(t, err)
			for _, b := range hours.Bars {
				require.True(t, cal.BarCanExist(s.Market, vendor.TF1h, b.Time, s.Anchor), "%s 1h bar at %s outside its session", code, b.Time)
			}
		})
	}
}

// TestInfowayChange: pca and pc as in the zh page's TSLA bars.
func TestInfowayChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ o, c, pca, pc string }{
		{"298.380", "298.310", "-0.070", "-0.02%"},
		{"298.090", "298.380", "0.290", "0.10%"},
		{"59.650", "59.650", "0.000", "0.00%"},
		{"1.00000", "1.00005", "0.00005", "0.01%"},
		{"1.00000", "1.00004", "0.00004", "0.00%"},
		{"10.00", "25.00", "15.00", "150.00%"},
		{"0.00", "1.00", "1.00", "0.00%"},
	} {
		pca, pc := infowayChange(decimal.MustParse(tc.o), decimal.MustParse(tc.c))
		require.Equal(t, tc.pca, pca, "%s → %s", tc.o, tc.c)
		require.Equal(t, tc.pc, pc, "%s → %s", tc.o, tc.c)
	}
}

// BenchmarkInfowayPage measures the whole handler for a 500-bar 1m history
// page (decode, admission, generation, rendering), ending at a different
// minute on each iteration as a backfill walks.
func BenchmarkInfowayPage(b *testing.B) {
	srv, err := New(Config{Seed: 1, Clock: clock.NewFake(infowayAsOf)})
	require.NoError(b, err)
	require.NoError(b, srv.RegisterVendor(vendor.Infoway, Infoway))
	path := "/" + vendor.Infoway + infoway.KlinePath(infoway.MktCrypto)
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		ts := infowayAsOf.Unix() - 30_000*(i%500)
		body := `{"klineType":1,"klineNum":500,"codes":"BTCUSDT","timestamp":` + strconv.FormatInt(ts, 10) + `}`
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, strings.NewReader(body))
		req.Header.Set(infoway.HeaderAPIKey, "bench")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"ret":200`)) {
			b.Fatalf("answer %d: %.200s", rec.Code, rec.Body.String())
		}
		i++
	}
}
