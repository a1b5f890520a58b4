package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// toyVendor is a minimal wire handler showing the seam: GET /kline?symbol=&n=
// answers the newest n 1m crypto bars as JSON, 429 when the plan refuses.
func toyVendor(core *Core) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kline", func(w http.ResponseWriter, r *http.Request) {
		call := core.Begin(r.Context(), "toy", r.URL.Query().Get("token"), vendor.EndpointHistory, 1)
		if !call.Decision.Allowed {
			http.Error(w, string(call.Decision.Reason), http.StatusTooManyRequests)
			return
		}
		if err := call.Fault.Wait(r.Context()); err != nil {
			return
		}
		if call.Fault.Kind == FaultServerError {
			w.WriteHeader(call.Fault.Status)
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		s := Spec{Instrument: NewInstrument(r.URL.Query().Get("symbol"), vendor.MarketCrypto), Timeframe: vendor.TF1m}
		bars, err := core.Page(call, s, call.Now, n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusOK, bars)
	})
	return mux
}

type serverBundle struct {
	srv   *Server
	clock *clock.Fake
}

func setupServer(t *testing.T, cfg Config) *serverBundle {
	t.Helper()
	fake := clock.NewFake(utc(2026, 11, 23, 3, 0).Add(30 * time.Second))
	cfg.Clock = fake
	cfg.Logger = zaptest.NewLogger(t)
	cfg.RootVendor = "toy"
	srv, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor("toy", toyVendor))
	return &serverBundle{srv: srv, clock: fake}
}

func (b *serverBundle) do(t *testing.T, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), method, path, nil))
	return rec
}

//nolint:tparallel // the subtests read one server's counters in order
func TestServer(t *testing.T) {
	t.Parallel()
	b := setupServer(t, Config{Seed: 5, Plan: plan.Plan{PerSecond: 1}})

	t.Run("Healthz", func(t *testing.T) {
		rec := b.do(t, http.MethodGet, "/healthz")
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "ok\n", rec.Body.String())
	})

	rec := b.do(t, http.MethodGet, "/toy/kline?symbol=BTCUSDT&n=3&token=a")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var bars []map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &bars))
	require.Len(t, bars, 3)
	rec = b.do(t, http.MethodGet, "/kline?symbol=BTCUSDT&n=3&token=a") // root vendor, same key, same instant
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "per_second\n", rec.Body.String())
	rec = b.do(t, http.MethodGet, "/kline?symbol=BTCUSDT&n=3&token=b") // another key has its own plan state
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, 1, b.srv.Core().UsedToday("toy", "a"))

	rec = b.do(t, http.MethodGet, "/_sim/stats")
	require.Equal(t, http.StatusOK, rec.Code)
	var snap Snapshot
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &snap))
	require.Len(t, snap.Endpoints, 1)
	require.Equal(t, uint64(3), snap.Total.Requests)
	require.Equal(t, uint64(2), snap.Total.Accepted)
	require.Equal(t, uint64(1), snap.Total.Refused[ReasonPerSecond])

	rec = b.do(t, http.MethodPost, "/_sim/reset")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Zero(t, b.srv.Core().Stats().Total.Requests)
	require.Equal(t, 0, b.srv.Core().UsedToday("toy", "a"))
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/kline?symbol=BTCUSDT&n=1&token=a").Code, "plan usage forgotten")

	require.Error(t, b.srv.RegisterVendor("toy", toyVendor))
	require.ErrorIs(t, b.srv.RegisterVendor("a/b", toyVendor), ErrBadRequest)
	require.ErrorIs(t, b.srv.RegisterVendor("_sim", toyVendor), ErrBadRequest)
}

func TestServerTruth(t *testing.T) {
	t.Parallel()
	b := setupServer(t, Config{Seed: 5})
	from, to := utc(2026, 11, 23, 2, 50), utc(2026, 11, 23, 3, 10)
	rec := b.do(t, http.MethodGet, "/_sim/truth?symbol=BTCUSDT&market=crypto&tf=1m&from="+from.Format(time.RFC3339)+"&to="+strconv.FormatInt(to.Unix(), 10))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got []TruthBar
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	want, err := b.srv.Core().Truth(spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1m).withAnchorUTC(), from, to)
	require.NoError(t, err)
	require.Len(t, got, 10, "final bars only: 02:50 to 02:59, the 03:00 bar is forming")
	for i, g := range got {
		require.Equal(t, want[i].Time.Unix(), g.TS)
		require.True(t, g.Close.Identical(want[i].Close))
		require.True(t, g.Volume.Identical(want[i].Volume))
	}
	for _, q := range []string{
		"symbol=BTCUSDT&market=crypto&tf=3m&from=0&to=60",
		"market=crypto&tf=1m&from=0&to=60",
		"symbol=X&market=crypto&tf=1m&from=yesterday&to=60",
		"symbol=X&market=crypto&tf=1m&from=0&to=60&anchor=local",
		"symbol=X&market=crypto&tf=1m&from=0&to=2000000000",
	} {
		require.Equal(t, http.StatusBadRequest, b.do(t, http.MethodGet, "/_sim/truth?"+q).Code, q)
	}
}

func (s Spec) withAnchorUTC() Spec { s.Anchor = 0; return s }

func TestCoreFaultsAndClock(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("duplicate=1,5xx=0.5")
	require.NoError(t, err)
	b := setupServer(t, Config{Seed: 8, Faults: f})
	core := b.srv.Core()
	s := spec("ETHUSDT", vendor.MarketCrypto, vendor.TF1m)
	fives := 0
	for range 40 {
		call := core.Begin(context.Background(), "toy", "k", vendor.EndpointHistory, 1)
		require.True(t, call.Decision.Allowed)
		require.True(t, call.Fault.Duplicate)
		if call.Fault.Kind == FaultServerError {
			fives++
		}
		end := call.Now.Add(-time.Hour)
		page, err := core.Page(call, s, end, 5)
		require.NoError(t, err)
		require.Len(t, page, 6)
		require.Equal(t, page[4].Time.Add(time.Minute), page[5].Time, "the bar across the newer boundary")
	}
	st := core.Stats()
	require.Equal(t, uint64(40), st.Total.Faults["duplicate"])
	require.Equal(t, uint64(fives), st.Total.Faults["5xx"])
	require.Greater(t, fives, 5)

	// Replay: a reset restarts the fault sequence.
	core.Reset()
	first := core.Begin(context.Background(), "toy", "k", vendor.EndpointHistory, 1)
	require.Equal(t, uint64(0), first.N)

	// AsOf and Speed: the simulator's time starts at AsOf and runs 60× faster.
	fake := clock.NewFake(utc(2026, 1, 1, 0, 0))
	srv, err := New(Config{Clock: fake, AsOf: utc(2025, 3, 7, 20, 59), Speed: 60})
	require.NoError(t, err)
	require.Equal(t, utc(2025, 3, 7, 20, 59), srv.Core().Now())
	fake.Advance(time.Second)
	require.Equal(t, utc(2025, 3, 7, 21, 0), srv.Core().Now())

	_, err = New(Config{Faults: Faults{Rate: [numFaultKinds]float64{FaultServerError: 2}}})
	require.Error(t, err)
}

func TestCoreConcurrent(t *testing.T) {
	t.Parallel()
	b := setupServer(t, Config{Seed: 2, Plan: plan.Plan{PerMinute: 100}})
	core := b.srv.Core()
	s := spec("SOLUSDT", vendor.MarketCrypto, vendor.TF1m)
	var wg sync.WaitGroup
	seen := make([][]uint64, 8)
	for g := range 8 {
		wg.Go(func() {
			for range 50 {
				call := core.Begin(context.Background(), "toy", "k", vendor.EndpointLatest, 1)
				seen[g] = append(seen[g], call.N)
				if call.Decision.Allowed {
					_, err := core.Latest(call, s, 2)
					require.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	st := core.Stats()
	require.Equal(t, uint64(400), st.Total.Requests)
	require.Equal(t, uint64(100), st.Total.Accepted, "all at one instant: the minute window admits exactly its limit")
	require.Equal(t, uint64(300), st.Total.Refused[ReasonPerMinute])
	all := map[uint64]bool{}
	for _, ns := range seen {
		for _, n := range ns {
			all[n] = true
		}
	}
	require.Len(t, all, 400, "request numbers are unique")
}

// TestArrivalStampedBeforeTheHandler: the plan sees a request at the moment
// the server received it, not when its handler got round to admitting it, so
// a handler slowed by a busy machine does not shrink the spacing it sees.
func TestArrivalStampedBeforeTheHandler(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(utc(2026, 1, 1, 0, 0))
	srv, err := New(Config{Clock: fake})
	require.NoError(t, err)
	var got []time.Time
	require.NoError(t, srv.RegisterVendor("slow", func(core *Core) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fake.Advance(300 * time.Millisecond) // reading and decoding the body, slowly
			got = append(got, core.Begin(r.Context(), "slow", "k", vendor.EndpointHistory, 1).Now)
			w.WriteHeader(http.StatusNoContent)
		})
	}))
	for range 2 {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/slow/x", nil))
	}
	require.Equal(t, []time.Time{utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 0, 0).Add(300 * time.Millisecond)}, got)
	// Outside the server (tests, a ctx it did not stamp) the clock's now.
	require.Equal(t, fake.Now(), srv.Core().Begin(context.Background(), "slow", "k", vendor.EndpointHistory, 1).Now)
}
