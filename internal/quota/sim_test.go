package quota_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// arrivals records when each vendor request reached the simulator, on the
// simulator's clock.
type arrivals struct {
	clk clock.Clock
	h   http.Handler
	mu  sync.Mutex
	at  []time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/_sim/") {
		a.mu.Lock()
		a.at = append(a.at, a.clk.Now())
		a.mu.Unlock()
	}
	a.h.ServeHTTP(w, r)
}

// allowedRate is the most requests per second p admits when every endpoint in
// eps always has work queued: the tightest of the shared limits and the sum of
// the endpoints' own spacings.
func allowedRate(p plan.Plan, eps []vendor.Endpoint) float64 {
	var perEP float64
	for _, ep := range eps {
		d := p.Spacing[ep]
		if d == 0 {
			return sharedRate(p)
		}
		perEP += 1 / d.Seconds()
	}
	return min(perEP, sharedRate(p))
}

func sharedRate(p plan.Plan) float64 {
	r := 1e9
	if p.GlobalSpacing > 0 {
		r = min(r, 1/p.GlobalSpacing.Seconds())
	}
	if p.PerSecond > 0 {
		r = min(r, float64(p.PerSecond))
	}
	if p.PerMinute > 0 {
		r = min(r, float64(p.PerMinute)/60)
	}
	return r
}

// TestGovernorKeepsEveryAllTickPlanAgainstTheSimulator runs the real
// governor and AllTick client against the simulator enforcing the same plan,
// with history, latest-bars and trades work always queued on three lanes.
// Slow plans run on a scaled clock shared by both sides. The vendor side must
// refuse nothing, and the requests must come at 95 % or more of the rate the
// plan allows.
func TestGovernorKeepsEveryAllTickPlanAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	// The margin covers how late the simulator sees a request after it left.
	// Over loopback that is the server goroutine's scheduling, which on a
	// shared 2-core machine under -race (fuzzers running beside) reaches
	// 25 ms and more now and then, far past a network path's jitter that the
	// default 10 ms is for. So the test allows 50 ms of real time, and runs
	// each plan on a clock slow or fast enough that 50 ms real is 2.5 % of
	// the plan's tightest interval, the margin's cost. The scaled clock is
	// shared by the simulator and the governor, so the margin is in its units.
	const realMargin = 50 * time.Millisecond
	cases := []struct {
		plan  string
		speed float64       // simulated seconds per real second
		run   time.Duration // real time
	}{
		{"free", 5, 9 * time.Second},           // 1 per 10 s: 4 requests after the window that starts full
		{"basic", 0.5, 9 * time.Second},        // 1 per s: 4 requests
		{"premium", 0.5, 3 * time.Second},      // 10 per s: 15 requests
		{"professional", 0.5, 3 * time.Second}, // 20 per s: 30 requests
	}
	eps := []vendor.Endpoint{vendor.EndpointHistory, vendor.EndpointLatest, vendor.EndpointTrades}
	for _, tc := range cases {
		t.Run(tc.plan, func(t *testing.T) {
			t.Parallel()
			p, err := plan.Lookup(vendor.AllTick, tc.plan)
			require.NoError(t, err)
			// A Wednesday morning; the symbols are crypto, served round the clock.
			clk := clock.NewScaled(clock.System{}, time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC), tc.speed)
			srv, err := sim.New(sim.Config{Clock: clk, Plan: p, Seed: 7, Logger: zaptest.NewLogger(t, zaptest.Level(zapcore.DebugLevel))})
			require.NoError(t, err)
			require.NoError(t, srv.RegisterVendor(vendor.AllTick, sim.AllTick))
			rec := &arrivals{clk: clk, h: srv}
			hs := httptest.NewServer(rec)
			defer hs.Close()

			gov, err := quota.New(quota.Config{Plan: p, Clock: clk, Margin: time.Duration(float64(realMargin) * tc.speed)})
			require.NoError(t, err)
			client, err := alltick.New(alltick.Config{BaseURL: hs.URL + "/alltick", Token: secret.New("sim-token"),
				HTTPClient: hs.Client(), Gate: gov, BatchMax: p.BatchMax, TradeMax: p.TradeCodesMax})
			require.NoError(t, err)

			ctx, cancel := context.WithTimeout(context.Background(), tc.run)
			defer cancel()
			symbols := []string{"BTCUSDT", "ETHUSDT"}
			series := []vendor.Series{{Vendor: vendor.AllTick, Symbol: "BTCUSDT", Timeframe: vendor.TF1m}, {Vendor: vendor.AllTick, Symbol: "ETHUSDT", Timeframe: vendor.TF1m}}
			work := map[string]func(context.Context) error{
				"history-a": func(ctx context.Context) error {
					_, err := client.History(gov.Lane(ctx, false), "BTCUSDT", vendor.TF1m, clk.Now(), 10)
					return err
				},
				"history-b": func(ctx context.Context) error {
					_, err := client.History(gov.Lane(ctx, true), "ETHUSDT", vendor.TF1m, clk.Now(), 10)
					return err
				},
				"latest": func(ctx context.Context) error {
					_, err := client.Latest(gov.Live(ctx), series)
					return err
				},
				"trades": func(ctx context.Context) error {
					_, err := client.Trades(gov.Lane(ctx, true), symbols)
					return err
				},
			}
			var wg sync.WaitGroup
			errs := make(chan error, len(work))
			for name, do := range work {
				wg.Go(func() {
					for ctx.Err() == nil {
						if err := do(ctx); err != nil && ctx.Err() == nil {
							errs <- errors.Join(errors.New(name), err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)

			snap, err := sim.FetchStats(t.Context(), hs.Client(), hs.URL)
			require.NoError(t, err)
			require.Empty(t, snap.Total.Refused, "the simulator refused requests")
			for err := range errs {
				require.NoError(t, err)
			}
			rec.mu.Lock()
			at := slices.Clone(rec.at)
			rec.mu.Unlock()
			// Every arrival was accepted, except those the end of the run cut
			// short (at most one in flight per worker).
			require.LessOrEqual(t, snap.Total.Accepted, uint64(len(at)))
			require.LessOrEqual(t, uint64(len(at))-snap.Total.Accepted, uint64(len(work)))
			require.GreaterOrEqual(t, len(at), 4)
			slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
			rate := float64(len(at)-1) / at[len(at)-1].Sub(at[0]).Seconds()
			allowed := allowedRate(p, eps)
			t.Logf("%s: %d requests, %.3f/s of %.3f/s allowed (%.1f %%)", tc.plan, len(at), rate, allowed, 100*rate/allowed)
			require.GreaterOrEqual(t, rate, 0.95*allowed, "the governor leaves the plan unused")
		})
	}
}
