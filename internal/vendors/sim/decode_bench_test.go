package sim

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/infoway"
	"github.com/syncd/syncd/internal/vendors/qos"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// replay answers every request with the simulator's answer to the first one,
// so a client benchmark measures the client's decoding (plus a loopback round
// trip), not the simulator's generation.
type replay struct {
	sim http.Handler

	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if r.body == nil {
		rec := httptest.NewRecorder()
		r.sim.ServeHTTP(rec, req)
		r.status, r.header, r.body = rec.Code, rec.Header().Clone(), bytes.Clone(rec.Body.Bytes())
	}
	status, header, body := r.status, r.header, r.body
	r.mu.Unlock()
	maps.Copy(w.Header(), header)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// replayURL serves vendor v's simulator, frozen at a Friday afternoon, through
// a replay.
func replayURL(b *testing.B, v string, h VendorHandler) string {
	b.Helper()
	srv, err := New(Config{Seed: 1, Clock: clock.NewFake(time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC)), RootVendor: v})
	require.NoError(b, err)
	require.NoError(b, srv.RegisterVendor(v, h))
	hs := httptest.NewServer(&replay{sim: srv})
	b.Cleanup(hs.Close)
	return hs.URL
}

// replayClient builds a client of vendor v on a fresh replay, so each
// sub-benchmark replays its own first answer.
func replayClient[C any](b *testing.B, v string, h VendorHandler, build func(baseURL string) (C, error)) C {
	b.Helper()
	c, err := build(replayURL(b, v, h))
	require.NoError(b, err)
	return c
}

// historian and latester are the client methods the decoder benchmarks call.
type historian interface {
	History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error)
}

type latester interface {
	Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error)
}

// benchHistory decodes the same history page on every iteration.
func benchHistory(b *testing.B, c historian, symbol string, n int) {
	b.Helper()
	benchHistoryEnd(b, c, symbol, time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC), n)
}

// benchHistoryEnd is benchHistory with the page's end time given; zero asks
// for the latest bars (for vendors that take no end time).
func benchHistoryEnd(b *testing.B, c historian, symbol string, end time.Time, n int) {
	b.Helper()
	ctx := context.Background()
	page, err := c.History(ctx, symbol, vendor.TF1m, end, n)
	require.NoError(b, err)
	require.Len(b, page.Bars, n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.History(ctx, symbol, vendor.TF1m, end, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "bars/s")
}

// benchLatest decodes the same latest-bars answer for n series on every
// iteration.
func benchLatest(b *testing.B, c latester, v string, n int, code func(i int) string) {
	b.Helper()
	series := make([]vendor.Series, n)
	for i := range series {
		series[i] = vendor.Series{Vendor: v, Symbol: code(i), Timeframe: vendor.TF1m}
	}
	ctx := context.Background()
	l, err := c.Latest(ctx, series)
	require.NoError(b, err)
	require.Len(b, l.Bars, n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Latest(ctx, series); err != nil {
			b.Fatal(err)
		}
	}
}

func crypto(i int) string    { return fmt.Sprintf("B%03dUSDT", i) }
func qosCrypto(i int) string { return fmt.Sprintf("CF:B%03dUSDT", i) }

func BenchmarkDecodeAllTick(b *testing.B) {
	c := func(b *testing.B) *alltick.Client {
		b.Helper()
		return replayClient(b, vendor.AllTick, AllTick, func(u string) (*alltick.Client, error) {
			return alltick.New(alltick.Config{BaseURL: u, Token: secret.New("bench")})
		})
	}
	b.Run("History500", func(b *testing.B) { benchHistory(b, c(b), "BTCUSDT", alltick.PageSize) })
	b.Run("Latest500Groups", func(b *testing.B) { benchLatest(b, c(b), vendor.AllTick, alltick.BatchMax, crypto) })
}

func BenchmarkDecodeInfoway(b *testing.B) {
	c := func(b *testing.B) *infoway.Client {
		b.Helper()
		return replayClient(b, vendor.Infoway, Infoway, func(u string) (*infoway.Client, error) {
			return infoway.New(infoway.Config{BaseURL: u, Token: secret.New("bench")})
		})
	}
	b.Run("History500", func(b *testing.B) { benchHistory(b, c(b), "BTCUSDT", 500) })
	b.Run("Latest100Groups", func(b *testing.B) { benchLatest(b, c(b), vendor.Infoway, 100, crypto) })
}

func BenchmarkDecodeQOS(b *testing.B) {
	c := func(b *testing.B) *qos.Client {
		b.Helper()
		return replayClient(b, vendor.QOS, QOS, func(u string) (*qos.Client, error) {
			return qos.New(qos.Config{BaseURL: u, Token: secret.New("bench")})
		})
	}
	b.Run("History1000", func(b *testing.B) { benchHistory(b, c(b), "CF:BTCUSDT", 1000) })
	b.Run("Latest10Groups", func(b *testing.B) { benchLatest(b, c(b), vendor.QOS, 10, qosCrypto) })
}

func BenchmarkDecodeXdTick(b *testing.B) {
	c := func(b *testing.B) *xdtick.Client {
		b.Helper()
		return replayClient(b, vendor.XdTick, XdTick, func(u string) (*xdtick.Client, error) {
			return xdtick.New(xdtick.Config{BaseURL: u, Token: secret.New("bench")})
		})
	}
	// XdTick takes no end time: the page is the latest bars.
	b.Run("History1000", func(b *testing.B) { benchHistoryEnd(b, c(b), "BTCUSDT", time.Time{}, xdtick.PageSize) })
	b.Run("Latest500Groups", func(b *testing.B) { benchLatest(b, c(b), vendor.XdTick, xdtick.BatchMax, crypto) })
}
