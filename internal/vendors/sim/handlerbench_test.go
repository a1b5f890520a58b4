package sim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/infoway"
	"github.com/syncd/syncd/internal/vendors/qos"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// benchAsOf is the simulator's time in the handler benchmarks: 30 s into a
// minute, so the newest bar of every page is forming.
var benchAsOf = time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC) //nolint:gochecknoglobals // test constant

// benchHandler measures one 500-bar page served by a vendor's
// handler (decode, admission, generation, rendering) through
// httptest.NewRecorder: the cost of a page never asked for before (the
// generator keeps no cache). request
// builds the i-th request: history endpoints step back by one page per
// iteration, as a backfill walks.
func benchHandler(b *testing.B, name string, handler VendorHandler, request func(i int) *http.Request) {
	b.Helper()
	srv, err := New(Config{Seed: 1, Clock: clock.NewFake(benchAsOf), RootVendor: name})
	require.NoError(b, err)
	require.NoError(b, srv.RegisterVendor(name, handler))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, request(i))
		if rec.Code != http.StatusOK || rec.Body.Len() < 500*50 {
			b.Fatalf("answer %d, %d bytes: %.200s", rec.Code, rec.Body.Len(), rec.Body.String())
		}
		i++
	}
}

// benchEnd is the end of the i-th page of 500 bars of tf, cycling through
// the given number of pages back from benchAsOf.
func benchEnd(tf vendor.Timeframe, i, pages int) time.Time {
	return benchAsOf.Add(-time.Duration(i%pages) * 500 * tf.Duration())
}

// benchRequest is a request with the API key "bench" in header keyHeader.
func benchRequest(method, target, keyHeader, body string) *http.Request {
	req := httptest.NewRequestWithContext(context.Background(), method, target, strings.NewReader(body))
	req.Header.Set(keyHeader, "bench")
	return req
}

func benchAllTick(b *testing.B, tf vendor.Timeframe) {
	b.Helper()
	benchHandler(b, vendor.AllTick, AllTick, func(i int) *http.Request {
		q := `{"trace":"bench","data":{"code":"BTCUSDT","kline_type":` + strconv.Itoa(alltick.KlineTypes[tf]) +
			`,"kline_timestamp_end":` + strconv.FormatInt(benchEnd(tf, i, 16).Unix(), 10) + `,"query_kline_num":500}}`
		u := alltick.OtherPrefix + "/kline?token=bench&query=" + url.QueryEscape(q)
		return httptest.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	})
}

func benchXdTick(b *testing.B, tf vendor.Timeframe) {
	b.Helper()
	// XdTick's kline takes no end time: every request is the latest page.
	u := xdtick.PathKline + "?code=BTCUSDT&size=500&klineType=" + url.QueryEscape(xdtick.KlineTypes[tf])
	benchHandler(b, vendor.XdTick, XdTick, func(int) *http.Request {
		return benchRequest(http.MethodGet, u, xdtick.HeaderKey, "")
	})
}

func benchInfoway(b *testing.B, tf vendor.Timeframe) {
	b.Helper()
	benchInfowayCode(b, tf, "BTCUSDT", infoway.MktCrypto)
}

// benchInfowayCode pages back through code of Infoway market mkt.
func benchInfowayCode(b *testing.B, tf vendor.Timeframe, code, mkt string) {
	b.Helper()
	kt, ok := infoway.KlineType(tf)
	require.True(b, ok)
	benchHandler(b, vendor.Infoway, Infoway, func(i int) *http.Request {
		body := `{"klineType":` + strconv.Itoa(kt) + `,"klineNum":500,"codes":"` + code + `","timestamp":` +
			strconv.FormatInt(benchEnd(tf, i, 16).Unix(), 10) + `}`
		return benchRequest(http.MethodPost, infoway.KlinePath(mkt), infoway.HeaderAPIKey, body)
	})
}

func benchQOS(b *testing.B, tf vendor.Timeframe) {
	b.Helper()
	kt, ok := qos.KlineType(tf)
	require.True(b, ok)
	benchHandler(b, vendor.QOS, QOS, func(i int) *http.Request {
		// QOS keeps only its latest 1000 bars: the pages end inside them.
		body := `{"kline_reqs":[{"c":"CF:BTCUSDT","e":` + strconv.FormatInt(benchEnd(tf, i, 2).Unix(), 10) +
			`,"co":500,"a":0,"kt":` + strconv.Itoa(kt) + `}]}`
		return benchRequest(http.MethodPost, qos.PathHistory, qos.HeaderKey, body)
	})
}

func BenchmarkHandlerAllTick1m(b *testing.B) { benchAllTick(b, vendor.TF1m) }
func BenchmarkHandlerAllTick1h(b *testing.B) { benchAllTick(b, vendor.TF1h) }
func BenchmarkHandlerXdTick1m(b *testing.B)  { benchXdTick(b, vendor.TF1m) }
func BenchmarkHandlerXdTick1h(b *testing.B)  { benchXdTick(b, vendor.TF1h) }
func BenchmarkHandlerInfoway1m(b *testing.B) { benchInfoway(b, vendor.TF1m) }
func BenchmarkHandlerInfoway1h(b *testing.B) { benchInfoway(b, vendor.TF1h) }
func BenchmarkHandlerQOS1m(b *testing.B)     { benchQOS(b, vendor.TF1m) }

// Daily pages of stocks, the generator's costliest: a trading day is a node
// of the price path, but each page spans some 800 calendar days of sessions.
func BenchmarkHandlerInfoway1dUS(b *testing.B) {
	benchInfowayCode(b, vendor.TF1d, "AAPL.US", infoway.MktStock)
}

func BenchmarkHandlerInfoway1dHK(b *testing.B) {
	benchInfowayCode(b, vendor.TF1d, "00700.HK", infoway.MktStock)
}
func BenchmarkHandlerQOS1h(b *testing.B) { benchQOS(b, vendor.TF1h) }
