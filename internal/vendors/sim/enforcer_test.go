package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

var t0 = utc(2026, 11, 23, 3, 0) //nolint:gochecknoglobals // test constant

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestEnforcerPerSecond(t *testing.T) {
	t.Parallel()
	e := NewEnforcer(plan.Plan{PerSecond: 2})
	require.True(t, e.Admit(vendor.EndpointHistory, 1, at(0)).Allowed)
	require.True(t, e.Admit(vendor.EndpointHistory, 1, at(100*time.Millisecond)).Allowed)
	d := e.Admit(vendor.EndpointHistory, 1, at(200*time.Millisecond))
	require.False(t, d.Allowed)
	require.Equal(t, ReasonPerSecond, d.Reason)
	require.Equal(t, at(1100*time.Millisecond), d.RetryAt, "the refused arrival counts too")

	t.Run("WindowEdgesWithinPlan", func(t *testing.T) {
		t.Parallel()
		e := NewEnforcer(plan.Plan{PerSecond: 2})
		// Two at once, then two more exactly one second later, and so on:
		// no half-open 1 s window ever holds three.
		for i := range 20 {
			for range 2 {
				require.True(t, e.Admit(vendor.EndpointLatest, 1, at(time.Duration(i)*time.Second)).Allowed, "i=%d", i)
			}
		}
		require.Equal(t, ReasonPerSecond, e.Admit(vendor.EndpointLatest, 1, at(19*time.Second+999*time.Millisecond)).Reason)
	})
}

func TestEnforcerPerMinute(t *testing.T) {
	t.Parallel()
	e := NewEnforcer(plan.Plan{PerMinute: 10})
	for i := range 100 { // exactly 10 per minute, for 10 minutes
		require.True(t, e.Admit(vendor.EndpointHistory, 1, at(time.Duration(i)*6*time.Second)).Allowed, "i=%d", i)
	}
	e2 := NewEnforcer(plan.Plan{PerMinute: 10})
	for i := range 10 {
		require.True(t, e2.Admit(vendor.EndpointHistory, 1, at(time.Duration(i)*time.Second)).Allowed)
	}
	d := e2.Admit(vendor.EndpointLatest, 1, at(59*time.Second+999*time.Millisecond))
	require.Equal(t, ReasonPerMinute, d.Reason)
	require.True(t, e2.Admit(vendor.EndpointLatest, 1, at(61*time.Second)).Allowed, "the first two left the window")
}

func TestEnforcerSpacing(t *testing.T) {
	t.Parallel()
	p := plan.Plan{Spacing: map[vendor.Endpoint]time.Duration{vendor.EndpointLatest: 3 * time.Second}}
	e := NewEnforcer(p)
	require.True(t, e.Admit(vendor.EndpointLatest, 1, at(0)).Allowed)
	require.True(t, e.Admit(vendor.EndpointLatest, 1, at(3*time.Second)).Allowed, "exactly the spacing")
	require.True(t, e.Admit(vendor.EndpointHistory, 1, at(3*time.Second)).Allowed, "other endpoint unaffected")
	d := e.Admit(vendor.EndpointLatest, 1, at(5*time.Second))
	require.Equal(t, ReasonSpacing, d.Reason)
	require.Equal(t, at(8*time.Second), d.RetryAt)
	require.Equal(t, ReasonSpacing, e.Admit(vendor.EndpointLatest, 1, at(7*time.Second)).Reason, "the refused request reset the spacing clock")
	require.True(t, e.Admit(vendor.EndpointLatest, 1, at(10*time.Second)).Allowed)

	g := NewEnforcer(plan.Plan{GlobalSpacing: 10 * time.Second})
	require.True(t, g.Admit(vendor.EndpointLatest, 1, at(0)).Allowed)
	require.Equal(t, ReasonGlobalSpacing, g.Admit(vendor.EndpointHistory, 1, at(9*time.Second)).Reason)
	require.True(t, g.Admit(vendor.EndpointHistory, 1, at(19*time.Second)).Allowed)
}

func TestEnforcerDailyCap(t *testing.T) {
	t.Parallel()
	utc8 := time.FixedZone("UTC+8", 8*3600)
	e := NewEnforcer(plan.Plan{PerDay: 5, ResetZone: utc8})
	start := utc(2026, 11, 23, 15, 0) // 23:00 UTC+8
	for i := range 5 {
		require.True(t, e.Admit(vendor.EndpointHistory, 1, start.Add(time.Duration(i)*time.Minute)).Allowed)
	}
	require.Equal(t, 5, e.UsedToday(start.Add(10*time.Minute)))
	d := e.Admit(vendor.EndpointHistory, 1, start.Add(10*time.Minute))
	require.Equal(t, ReasonDaily, d.Reason)
	require.Equal(t, utc(2026, 11, 23, 16, 0), d.RetryAt.UTC())
	require.Equal(t, 5, e.UsedToday(start.Add(11*time.Minute)), "refused requests are not billed")
	require.True(t, e.Admit(vendor.EndpointHistory, 1, utc(2026, 11, 23, 16, 0)).Allowed, "new quota day")
	require.Equal(t, 1, e.UsedToday(utc(2026, 11, 23, 16, 1)))
	e.Reset()
	require.Equal(t, 0, e.UsedToday(utc(2026, 11, 23, 16, 1)))
}

func TestEnforcerBatch(t *testing.T) {
	t.Parallel()
	e := NewEnforcer(plan.Plan{BatchMax: 5, TradeCodesMax: 3})
	require.True(t, e.Admit(vendor.EndpointLatest, 5, at(0)).Allowed)
	d := e.Admit(vendor.EndpointLatest, 6, at(time.Second))
	require.Equal(t, ReasonBatch, d.Reason)
	require.True(t, d.RetryAt.IsZero())
	require.Equal(t, ReasonBatch, e.Admit(vendor.EndpointTrades, 4, at(2*time.Second)).Reason)
	require.True(t, e.Admit(vendor.EndpointHistory, 100, at(3*time.Second)).Allowed, "history has no batch cap")
}

func TestEnforcerUnlimited(t *testing.T) {
	t.Parallel()
	e := NewEnforcer(plan.Plan{})
	for range 10000 {
		require.True(t, e.Admit(vendor.EndpointLatest, 1000, at(0)).Allowed)
	}
	big := NewEnforcer(plan.Plan{PerSecond: 1_000_000, PerMinute: 50_000_000})
	for i := range 5000 {
		require.True(t, big.Admit(vendor.EndpointLatest, 1, at(time.Duration(i))).Allowed)
	}
}

// TestEnforcerWithinPlanProperty: random traffic from a client that obeys the
// plan (checked by brute force over its own admitted history) is never
// refused, and the first request it would send too early is.
func TestEnforcerWithinPlanProperty(t *testing.T) {
	t.Parallel()
	p := plan.Plan{
		Spacing:       map[vendor.Endpoint]time.Duration{vendor.EndpointLatest: 2 * time.Second, vendor.EndpointHistory: 500 * time.Millisecond},
		GlobalSpacing: 100 * time.Millisecond,
		PerSecond:     3, PerMinute: 40, PerDay: 2000, BatchMax: 10,
	}
	rng := rand.New(rand.NewPCG(9, 9))
	e := NewEnforcer(p)
	var sent []time.Time
	sentEP := map[vendor.Endpoint][]time.Time{}
	obeys := func(ep vendor.Endpoint, tt time.Time) bool {
		if n := len(sentEP[ep]); n > 0 && tt.Sub(sentEP[ep][n-1]) < p.Spacing[ep] {
			return false
		}
		if n := len(sent); n > 0 && tt.Sub(sent[n-1]) < p.GlobalSpacing {
			return false
		}
		inSec, inMin := 0, 0
		for _, s := range sent {
			if tt.Sub(s) < time.Second {
				inSec++
			}
			if tt.Sub(s) < time.Minute {
				inMin++
			}
		}
		return inSec < p.PerSecond && inMin < p.PerMinute
	}
	now := t0
	for range 1500 {
		ep := []vendor.Endpoint{vendor.EndpointLatest, vendor.EndpointHistory, vendor.EndpointTrades}[rng.IntN(3)]
		now = now.Add(time.Duration(rng.IntN(400)) * 10 * time.Millisecond)
		if !obeys(ep, now) {
			continue
		}
		d := e.Admit(ep, 1+rng.IntN(p.BatchMax), now)
		require.True(t, d.Allowed, "%s at %s: %s %s", ep, now, d.Reason, d.Detail)
		sent = append(sent, now)
		sentEP[ep] = append(sentEP[ep], now)
	}
	require.Greater(t, len(sent), 300)
}
