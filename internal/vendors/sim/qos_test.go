package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/qos"
)

// qosAsOf is a Friday, 10:00:30 in New York: US stocks trade, Hong Kong and
// the A-share markets have closed for the day, crypto and FX run.
var qosAsOf = time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC)

// qosRig is the simulator serving QOS over HTTP, a QOS client pointed at it,
// and the kline_reqs of every kline request the simulator received.
type qosRig struct {
	srv    *Server
	clock  *clock.Fake
	client *qos.Client
	url    string

	mu   sync.Mutex
	reqs []qos.KlineReq
}

func newQOSRig(t *testing.T, seed uint64, p plan.Plan, f Faults) *qosRig {
	t.Helper()
	fake := clock.NewFake(qosAsOf)
	srv, err := New(Config{Seed: seed, Clock: fake, Plan: p, Faults: f, RootVendor: vendor.QOS})
	require.NoError(t, err)
	h, err := Handler(vendor.QOS)
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.QOS, h))
	rig := &qosRig{srv: srv, clock: fake}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil && r.URL.Path != qos.PathTrade {
			var req qos.KlineRequest
			if json.Unmarshal(body, &req) == nil {
				rig.mu.Lock()
				rig.reqs = append(rig.reqs, req.KlineReqs...)
				rig.mu.Unlock()
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	rig.url = hs.URL
	rig.client, err = qos.New(qos.Config{BaseURL: hs.URL, Token: secret.New("sim-key"), BatchMax: p.BatchMax, TradeMax: p.TradeCodesMax})
	require.NoError(t, err)
	return rig
}

// post sends body to path with the key header, as QOS's clients do, and
// returns the raw answer.
func (rig *qosRig) post(t *testing.T, path, body string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, rig.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(qos.HeaderKey, "sim-key")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { require.NoError(t, resp.Body.Close()) }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return out
}

func msgOf(t *testing.T, body []byte) string {
	t.Helper()
	var env qos.Envelope
	require.NoError(t, json.Unmarshal(body, &env), string(body))
	return env.Msg
}

func qosSpecOf(t *testing.T, code string, tf vendor.Timeframe) Spec {
	t.Helper()
	s, err := QOSSpec(code, tf)
	require.NoError(t, err)
	return s
}

// requireQOSTruth checks bars (ascending, as served at the core's now) against
// the core: every bar whose period has ended equals the ground truth with no
// turnover (QOS sends none), and at most the newest one is still forming,
// equal to the generator's view of it at now.
func requireQOSTruth(t *testing.T, core *Core, s Spec, bars []vendor.Bar) {
	t.Helper()
	require.NotEmpty(t, bars)
	now := core.Now()
	truth, err := core.Truth(s, bars[0].Time, now.Add(time.Nanosecond))
	require.NoError(t, err)
	require.LessOrEqual(t, len(bars)-len(truth), 1, "only the newest bar may be forming")
	require.GreaterOrEqual(t, len(bars), len(truth))
	for i, want := range truth {
		want.Turnover = decimal.Null{}
		require.True(t, want.SameValues(bars[i]), "%s %s bar %d: got %+v, want %+v", s.Symbol, s.Timeframe, i, bars[i], want)
	}
	if len(bars) > len(truth) {
		forming, ok, err := core.Generator().Bar(s, bars[len(bars)-1].Time, now)
		require.NoError(t, err)
		require.True(t, ok)
		forming.Turnover = decimal.Null{}
		require.True(t, forming.SameValues(bars[len(bars)-1]), "the forming bar is the generator's at now")
		require.False(t, core.Generator().IsFinal(s, forming.Time, now))
	}
}

func endpointStats(st Snapshot, ep vendor.Endpoint) EndpointStats {
	for _, e := range st.Endpoints {
		if e.Vendor == vendor.QOS && e.Endpoint == ep {
			return e
		}
	}
	return EndpointStats{}
}

func TestQOSHistoryPagesBackUntilTheDepthEnds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		code string
		tf   vendor.Timeframe
	}{
		{"CryptoMinutes", "CF:BTCUSDT", vendor.TF1m},
		{"HKHoursClosedMarket", "HK:700", vendor.TF1h},
		{"USDaysOpenMarket", "US:AAPL", vendor.TF1d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
			ctx := context.Background()
			core := rig.srv.Core()
			spec := qosSpecOf(t, tc.code, tc.tf)

			var got []vendor.Bar
			end, pages := core.Now(), 0
			for {
				page, err := rig.client.History(ctx, tc.code, tc.tf, end, 300)
				require.NoError(t, err)
				require.Empty(t, page.Rejects)
				if len(page.Bars) == 0 {
					break
				}
				pages++
				require.LessOrEqual(t, len(page.Bars), 300)
				require.False(t, page.Bars[len(page.Bars)-1].Time.After(end))
				got = append(page.Bars, got...)
				end = page.Bars[0].Time.Add(-time.Second)
			}
			require.Equal(t, 4, pages, "300+300+300+100 bars")
			require.Len(t, got, qos.MaxCount, "QOS serves exactly the latest 1000 bars")
			for i := 1; i < len(got); i++ {
				require.True(t, got[i-1].Time.Before(got[i].Time), "pages join without gaps or overlaps")
			}
			requireQOSTruth(t, core, spec, got)
			older, err := core.Generator().Last(spec, got[0].Time.Add(-time.Nanosecond), 1, core.Now())
			require.NoError(t, err)
			require.Len(t, older, 1, "bars older than the depth exist but are not served")

			// e is inclusive: an end inside a bar's period returns that bar last.
			mid := got[500]
			page, err := rig.client.History(ctx, tc.code, tc.tf, mid.Time.Add(time.Second), 10)
			require.NoError(t, err)
			require.Len(t, page.Bars, 10)
			require.True(t, page.Bars[9].SameValues(mid))
			require.True(t, page.Bars[0].SameValues(got[491]))

			// A page that reaches past the depth is cut at it.
			page, err = rig.client.History(ctx, tc.code, tc.tf, got[5].Time, 100)
			require.NoError(t, err)
			require.Len(t, page.Bars, 6)
			require.True(t, page.Bars[0].SameValues(got[0]))

			// A zero end asks /kline for the latest bars.
			page, err = rig.client.History(ctx, tc.code, tc.tf, time.Time{}, 1000)
			require.NoError(t, err)
			require.Len(t, page.Bars, qos.MaxCount)
			requireQOSTruth(t, core, spec, page.Bars)
			require.True(t, page.Bars[0].SameValues(got[0]))

			st := core.Stats()
			require.Equal(t, uint64(pages+3), endpointStats(st, vendor.EndpointHistory).Accepted)
			require.Equal(t, uint64(1), endpointStats(st, vendor.EndpointLatest).Accepted, "/kline counts as the latest endpoint")
		})
	}
}

func TestQOSLatestGroupsCodesPerMarketPrefix(t *testing.T) {
	t.Parallel()
	rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
	core := rig.srv.Core()
	mk := func(code string, tf vendor.Timeframe) vendor.Series {
		return vendor.Series{Vendor: vendor.QOS, Symbol: code, Timeframe: tf}
	}
	series := []vendor.Series{
		mk("US:AAPL", vendor.TF1m), mk("HK:700", vendor.TF1m), mk("US:TSLA", vendor.TF1m), mk("US:AAPL", vendor.TF5m),
		mk("CF:BTCUSDT", vendor.TF1m), mk("CF:ETHUSDT", vendor.TF1m), mk("HK:09988", vendor.TF1m), mk("FX:EURUSD", vendor.TF15m),
		mk("CM:XAUUSD", vendor.TF1h), mk("SH:600519", vendor.TF1d), mk("SZ:000001", vendor.TF1d),
	}
	latest, err := rig.client.Latest(context.Background(), series)
	require.NoError(t, err)
	require.Empty(t, latest.Missing)
	require.Empty(t, latest.Invalid)
	require.Empty(t, latest.Rejects)
	for _, s := range series {
		bars := latest.Bars[s]
		require.Len(t, bars, qos.LatestCount, s.String())
		requireQOSTruth(t, core, qosSpecOf(t, s.Symbol, s.Timeframe), bars)
	}
	require.Equal(t, qosAsOf.Truncate(time.Minute), latest.Bars[series[0]][1].Time, "US trades: the newest 1m bar is forming")

	// One request carried every series, codes of one market and kt joined.
	require.Equal(t, uint64(1), endpointStats(core.Stats(), vendor.EndpointLatest).Accepted)
	joined := make([]string, 0, len(rig.reqs))
	for _, q := range rig.reqs {
		joined = append(joined, q.C)
	}
	require.Contains(t, joined, "US:AAPL,TSLA")
	require.Contains(t, joined, "HK:700,09988")
	require.Contains(t, joined, "CF:BTCUSDT,ETHUSDT")
	require.Contains(t, joined, "SH:600519")

	// The answer's data is not in request order, and HK codes are echoed
	// as the request spelt them.
	body := rig.post(t, qos.PathKline, `{"kline_reqs":[{"c":"US:AAPL,TSLA","co":2,"a":0,"kt":1},{"c":"HK:700,09988","co":2,"a":0,"kt":1},{"c":"CF:BTCUSDT","co":2,"a":0,"kt":1}]}`)
	var env struct {
		Msg  string            `json:"msg"`
		Data []qos.KlineSeries `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &env))
	require.Equal(t, qos.MsgOK, env.Msg)
	order := make([]string, 0, len(env.Data))
	for _, s := range env.Data {
		order = append(order, s.C)
	}
	require.ElementsMatch(t, []string{"US:AAPL", "US:TSLA", "HK:700", "HK:09988", "CF:BTCUSDT"}, order)
	require.NotEqual(t, []string{"US:AAPL", "US:TSLA", "HK:700", "HK:09988", "CF:BTCUSDT"}, order)
}

func TestQOSHKCodesWithAndWithoutZerosAreOneProduct(t *testing.T) {
	t.Parallel()
	rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
	ctx := context.Background()
	short, err := rig.client.History(ctx, "HK:700", vendor.TF1h, time.Time{}, 20)
	require.NoError(t, err)
	long, err := rig.client.History(ctx, "HK:00700", vendor.TF1h, time.Time{}, 20)
	require.NoError(t, err)
	require.Equal(t, short.Bars, long.Bars)
	other, err := rig.client.History(ctx, "HK:9988", vendor.TF1h, time.Time{}, 20)
	require.NoError(t, err)
	require.NotEqual(t, short.Bars, other.Bars)
}

func TestQOSTrades(t *testing.T) {
	t.Parallel()
	rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
	core := rig.srv.Core()
	now := core.Now()
	codes := []string{"US:AAPL", "HK:700", "CF:BTCUSDT", "US:TSLA", "SZ:000001"}
	trades, err := rig.client.Trades(context.Background(), codes)
	require.NoError(t, err)
	require.Len(t, trades, len(codes))
	bySymbol := map[string]vendor.Trade{}
	for _, tr := range trades {
		bySymbol[tr.Symbol] = tr
	}
	for _, code := range codes {
		tr, ok := bySymbol[code]
		require.True(t, ok, code)
		spec := qosSpecOf(t, code, vendor.TF1m)
		last, err := core.Generator().Last(spec, now, 1, now)
		require.NoError(t, err)
		require.Len(t, last, 1)
		require.True(t, last[0].Close.Identical(tr.Price), "%s trades at its last 1m close", code)
		if core.Generator().IsFinal(spec, last[0].Time, now) {
			require.Equal(t, last[0].Time.Add(59*time.Second), tr.Time, "%s: a closed market's last trade is in its last minute", code)
		} else {
			require.Equal(t, now.Truncate(time.Second), tr.Time, "%s: an open market trades now", code)
		}
	}
	require.Equal(t, uint64(1), endpointStats(core.Stats(), vendor.EndpointTrades).Accepted, "codes grouped per prefix in one request")
}

func TestQOSInvalidCodeIsIsolated(t *testing.T) {
	t.Parallel()
	rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
	ctx := context.Background()
	core := rig.srv.Core()
	bad := InvalidCodePrefix + "X"

	body := rig.post(t, qos.PathKline, `{"kline_reqs":[{"c":"CF:BTCUSDT,`+bad+`","co":2,"a":0,"kt":1}]}`)
	require.Contains(t, msgOf(t, body), "CF:"+bad, "the msg names the unknown code")

	series := []vendor.Series{
		{Vendor: vendor.QOS, Symbol: "CF:BTCUSDT", Timeframe: vendor.TF1m},
		{Vendor: vendor.QOS, Symbol: "CF:" + bad, Timeframe: vendor.TF1m},
		{Vendor: vendor.QOS, Symbol: "US:AAPL", Timeframe: vendor.TF1m},
	}
	latest, err := rig.client.Latest(ctx, series)
	require.NoError(t, err)
	require.ErrorIs(t, latest.Invalid[series[1]], vendor.ErrInvalidSymbol)
	require.NotContains(t, latest.Bars, series[1])
	for _, s := range []vendor.Series{series[0], series[2]} {
		requireQOSTruth(t, core, qosSpecOf(t, s.Symbol, s.Timeframe), latest.Bars[s])
	}
	require.Equal(t, uint64(3), endpointStats(core.Stats(), vendor.EndpointLatest).Accepted,
		"the raw post, the refused batch and its retry without the named code: no bisection")

	trades, err := rig.client.Trades(ctx, []string{"US:AAPL", "US:" + bad, "CF:ETHUSDT"})
	var inv *vendor.InvalidSymbolsError
	require.ErrorAs(t, err, &inv)
	require.Equal(t, []string{"US:" + bad}, inv.Symbols)
	require.Len(t, trades, 2)

	_, err = rig.client.History(ctx, "CF:"+bad, vendor.TF1m, time.Time{}, 10)
	require.ErrorIs(t, err, vendor.ErrInvalidSymbol)
}

func TestQOSAuth(t *testing.T) {
	t.Parallel()
	rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
	body := `{"kline_reqs":[{"c":"CF:BTCUSDT","co":2,"a":0,"kt":1}]}`
	for _, tc := range []struct {
		name, query, header, want string
	}{
		{"NoKey", "", "", "key is required"},
		{"HeaderKey", "", "k1", qos.MsgOK},
		{"URLKey", "?key=k2", "", qos.MsgOK},
	} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, rig.url+qos.PathKline+tc.query, strings.NewReader(body))
		require.NoError(t, err)
		if tc.header != "" {
			req.Header.Set(qos.HeaderKey, tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, tc.want, msgOf(t, got), tc.name)
	}
	require.Equal(t, uint64(2), endpointStats(rig.srv.Core().Stats(), vendor.EndpointLatest).Requests,
		"a request without a key never reaches the plan")
}

func TestQOSPlan(t *testing.T) {
	t.Parallel()
	def, err := plan.Lookup(vendor.QOS, "default")
	require.NoError(t, err)
	series := []vendor.Series{{Vendor: vendor.QOS, Symbol: "CF:BTCUSDT", Timeframe: vendor.TF1m}}

	t.Run("WithinThePlanIsNeverRefused", func(t *testing.T) {
		t.Parallel()
		rig := newQOSRig(t, 7, def, Faults{})
		ctx := context.Background()
		var err error
		// 10 requests a minute, paced evenly over three minutes.
		for i := range 30 {
			switch i % 3 {
			case 0:
				_, err = rig.client.History(ctx, "CF:BTCUSDT", vendor.TF1m, rig.clock.Now(), 100)
			case 1:
				_, err = rig.client.Latest(ctx, series)
			default:
				_, err = rig.client.Trades(ctx, []string{"CF:BTCUSDT"})
			}
			require.NoError(t, err, "request %d", i)
			rig.clock.Advance(6 * time.Second)
		}
		st := rig.srv.Core().Stats()
		require.Equal(t, uint64(30), st.Total.Requests)
		require.Equal(t, uint64(30), st.Total.Accepted)
		require.Empty(t, st.Total.Refused)
	})

	t.Run("BurstGetsQOSRateLimitAnswer", func(t *testing.T) {
		t.Parallel()
		rig := newQOSRig(t, 7, def, Faults{})
		ctx := context.Background()
		for i := range def.PerMinute {
			_, err := rig.client.History(ctx, "CF:BTCUSDT", vendor.TF1m, time.Time{}, 10)
			require.NoError(t, err, "request %d is within the plan", i)
		}
		_, err := rig.client.History(ctx, "CF:BTCUSDT", vendor.TF1m, time.Time{}, 10)
		require.ErrorIs(t, err, vendor.ErrRateLimited)
		msg := msgOf(t, rig.post(t, qos.PathTrade, `{"codes":["CF:BTCUSDT"],"count":1}`))
		require.Contains(t, msg, "rate limit")

		st := rig.srv.Core().Stats()
		require.Equal(t, uint64(def.PerMinute), st.Total.Accepted)
		require.Equal(t, uint64(2), st.Total.Refused[ReasonPerMinute])
		require.Equal(t, uint64(1), endpointStats(st, vendor.EndpointTrades).Refused[ReasonPerMinute])

		// A minute after the burst the window is free again.
		rig.clock.Advance(time.Minute)
		_, err = rig.client.Latest(ctx, series)
		require.NoError(t, err)
	})

	t.Run("MoreProductsThanThePlanAllows", func(t *testing.T) {
		t.Parallel()
		rig := newQOSRig(t, 7, def, Faults{})
		codes := "US:A0,A1,A2,A3,A4,A5,A6,A7,A8,A9,A10"
		msg := msgOf(t, rig.post(t, qos.PathKline, `{"kline_reqs":[{"c":"`+codes+`","co":2,"a":0,"kt":1}]}`))
		require.Contains(t, msg, "rate limit")
		require.Equal(t, uint64(1), rig.srv.Core().Stats().Total.Refused[ReasonBatch])

		// The client keeps to the plan's 10 products per request.
		many := make([]vendor.Series, 0, 11)
		for sym := range strings.SplitSeq(strings.TrimPrefix(codes, "US:"), ",") {
			many = append(many, vendor.Series{Vendor: vendor.QOS, Symbol: "US:" + sym, Timeframe: vendor.TF1m})
		}
		rig.clock.Advance(time.Minute)
		latest, err := rig.client.Latest(context.Background(), many)
		require.NoError(t, err)
		require.Len(t, latest.Bars, len(many))
		require.Equal(t, uint64(1), rig.srv.Core().Stats().Total.Refused[ReasonBatch])
	})
}

func TestQOSFaultsAsTheCorePlaysThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind FaultKind
		want error
	}{
		{FaultServerError, vendor.ErrTransient},
		{FaultRateLimit, vendor.ErrRateLimited},
		{FaultMalformed, vendor.ErrProtocol},
		{FaultTruncated, vendor.ErrTransient},
	} {
		t.Run(strings.ToUpper(tc.kind.String()[:1])+tc.kind.String()[1:], func(t *testing.T) {
			t.Parallel()
			var f Faults
			f.Rate[tc.kind] = 1
			rig := newQOSRig(t, 7, plan.Plan{}, f)
			_, err := rig.client.History(context.Background(), "CF:BTCUSDT", vendor.TF1m, time.Time{}, 10)
			require.ErrorIs(t, err, tc.want)
			st := endpointStats(rig.srv.Core().Stats(), vendor.EndpointLatest)
			require.Equal(t, uint64(1), st.Faults[tc.kind.String()])
			require.Equal(t, uint64(1), st.Accepted, "a fault is not a plan refusal")
		})
	}

	t.Run("PageFaultsSpoilBars", func(t *testing.T) {
		t.Parallel()
		var f Faults
		f.Rate[FaultHighLow] = 1
		rig := newQOSRig(t, 7, plan.Plan{}, f)
		page, err := rig.client.History(context.Background(), "CF:BTCUSDT", vendor.TF1m, rig.clock.Now(), 50)
		require.NoError(t, err)
		spoiled := 0
		for _, b := range page.Bars {
			if b.High.Cmp(b.Low) < 0 {
				spoiled++
			}
		}
		require.Equal(t, 1, spoiled)
		require.Equal(t, uint64(1), endpointStats(rig.srv.Core().Stats(), vendor.EndpointHistory).Faults[FaultHighLow.String()])
	})
}

func TestQOSSameSeedSameBytes(t *testing.T) {
	t.Parallel()
	bodies := []struct{ path, body string }{
		{qos.PathKline, `{"kline_reqs":[{"c":"US:AAPL,TSLA","co":5,"a":0,"kt":1},{"c":"HK:700","co":3,"a":0,"kt":1001}]}`},
		{qos.PathHistory, `{"kline_reqs":[{"c":"CF:BTCUSDT,ETHUSDT","e":` + strconv.FormatInt(qosAsOf.Add(-2*time.Hour).Unix(), 10) + `,"co":500,"a":0,"kt":1}]}`},
		{qos.PathTrade, `{"codes":["US:AAPL,TSLA","CF:BTCUSDT"],"count":3}`},
	}
	answers := func(seed uint64) [][]byte {
		rig := newQOSRig(t, seed, plan.Plan{}, Faults{})
		out := make([][]byte, len(bodies))
		for i, b := range bodies {
			out[i] = rig.post(t, b.path, b.body)
			require.Equal(t, qos.MsgOK, msgOf(t, out[i]), b.path)
		}
		return out
	}
	first, again, other := answers(7), answers(7), answers(8)
	for i := range bodies {
		require.True(t, bytes.Equal(first[i], again[i]), "%s: same seed, same bytes", bodies[i].path)
		require.False(t, bytes.Equal(first[i], other[i]), "%s: another seed, other prices", bodies[i].path)
	}
}

func TestQOSBadRequests(t *testing.T) {
	t.Parallel()
	rig := newQOSRig(t, 7, plan.Plan{}, Faults{})
	for _, tc := range []struct{ name, path, body, want string }{
		{"NotJSON", qos.PathKline, `{"kline_reqs":`, qosMsgBadBody},
		{"NoReqs", qos.PathKline, `{"kline_reqs":[]}`, "kline_reqs is empty"},
		{"YearBars", qos.PathHistory, `{"kline_reqs":[{"c":"US:AAPL","co":2,"a":0,"kt":2001}]}`, "kt 2001"},
		{"ZeroCount", qos.PathHistory, `{"kline_reqs":[{"c":"US:AAPL","co":0,"a":0,"kt":1}]}`, "co 0"},
		{"MalformedCode", qos.PathKline, `{"kline_reqs":[{"c":"us:AAPL","co":2,"a":0,"kt":1}]}`, "us:AAPL"},
		{"TooManyTrades", qos.PathTrade, `{"codes":["US:AAPL"],"count":51}`, "count 51"},
	} {
		msg := msgOf(t, rig.post(t, tc.path, tc.body))
		require.Contains(t, msg, tc.want, tc.name)
		require.NotEqual(t, qos.MsgOK, msg, tc.name)
	}
	page, err := rig.client.History(context.Background(), "CF:BTCUSDT", vendor.TF1m, time.Unix(1, 0), 10)
	require.NoError(t, err, "an end before the depth is an empty page, not an error")
	require.Empty(t, page.Bars)
}

// BenchmarkQOSHistoryPage measures serving one 1000-bar /history page of 1m
// bars through the handler: the depth floor, the bars and their rendering.
func BenchmarkQOSHistoryPage(b *testing.B) {
	srv, err := New(Config{Seed: 1, Clock: clock.NewFake(qosAsOf), RootVendor: vendor.QOS})
	require.NoError(b, err)
	require.NoError(b, srv.RegisterVendor(vendor.QOS, QOS))
	body := `{"kline_reqs":[{"c":"CF:BTCUSDT","e":` + strconv.FormatInt(qosAsOf.Unix(), 10) + `,"co":1000,"a":0,"kt":1}]}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, qos.PathHistory, strings.NewReader(body))
		req.Header.Set(qos.HeaderKey, "bench")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() < 1000*80 {
			b.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
		}
	}
}
