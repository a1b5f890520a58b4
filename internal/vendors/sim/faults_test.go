package sim

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestParseFaults(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults(" 5xx=0.05, truncated=2% ,latency=0.1@250ms,timeout=0.01@20s,duplicate=1,highlow=0 ")
	require.NoError(t, err)
	require.InDelta(t, 0.05, f.Rate[FaultServerError], 1e-12)
	require.InDelta(t, 0.02, f.Rate[FaultTruncated], 1e-12)
	require.InDelta(t, 0.1, f.Rate[FaultLatency], 1e-12)
	require.Equal(t, 250*time.Millisecond, f.Latency)
	require.Equal(t, 20*time.Second, f.Timeout)
	require.InDelta(t, 1.0, f.Rate[FaultDuplicate], 0)
	again, err := ParseFaults(f.String())
	require.NoError(t, err)
	require.Equal(t, f, again)

	// A duration given with a zero rate is dropped: it cannot take effect,
	// and the canonical form must parse back to the same value.
	for _, spec := range []string{"latency=0@1s", "timeout=0%@20s"} {
		f, err := ParseFaults(spec)
		require.NoError(t, err, spec)
		require.Equal(t, Faults{}, f, spec)
	}

	for _, spec := range []string{"", "none"} {
		f, err := ParseFaults(spec)
		require.NoError(t, err)
		require.Equal(t, Faults{}, f)
		require.Equal(t, "none", f.String())
	}
	for _, bad := range []string{
		"5xx", "5xx=", "5xx=x", "5xx=1.5", "5xx=-0.1", "5xx=NaN", "5xx=120%", "oops=0.1",
		"none=0.1", "5xx=0.1,5xx=0.2", "5xx=0.6,timeout=0.5", "truncated=0.1@1s", "latency=0.1@-1s",
		"latency=0.1@11m", "latency=0.1@x", "5xx=0.1,,",
	} {
		_, err := ParseFaults(bad)
		require.Error(t, err, bad)
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"5xx=0.05,truncated=0.02", "latency=10%@1s", "timeout=1@1ns", "none", "", "duplicate=1,outoforder=0.5,highlow=1e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		got, err := ParseFaults(spec)
		if err != nil {
			return
		}
		require.NoError(t, got.Validate())
		sum := 0.0
		for _, k := range FaultKinds() {
			require.False(t, math.IsNaN(got.Rate[k]))
			require.GreaterOrEqual(t, got.Rate[k], 0.0)
			require.LessOrEqual(t, got.Rate[k], 1.0)
			if k.exclusive() {
				sum += got.Rate[k]
			}
		}
		require.LessOrEqual(t, sum, 1+1e-9)
		again, err := ParseFaults(got.String())
		require.NoError(t, err, "canonical form %q", got.String())
		require.Equal(t, got, again)
	})
}

// TestFaultRates: over many requests each kind fires at its configured rate
// (within five standard deviations), and decisions replay exactly.
func TestFaultRates(t *testing.T) {
	t.Parallel()
	f, err := ParseFaults("5xx=0.05,timeout=0.01,malformed=0.02,truncated=0.03,ratelimit=0.04,latency=0.2,duplicate=0.1,outoforder=0.07,highlow=0.005")
	require.NoError(t, err)
	const n = 200_000
	var count [numFaultKinds]int
	for i := range uint64(n) {
		d := f.Decide(99, "alltick/history", i)
		require.Equal(t, d, f.Decide(99, "alltick/history", i), "deterministic")
		count[d.Kind]++
		if d.Kind != FaultTimeout && d.Delay > 0 {
			count[FaultLatency]++
			require.LessOrEqual(t, d.Delay, DefaultLatency)
		}
		if d.Kind == FaultServerError {
			require.Contains(t, []int{500, 502, 503, 504}, d.Status)
		}
		if d.Duplicate {
			count[FaultDuplicate]++
		}
		if d.OutOfOrder {
			count[FaultOutOfOrder]++
		}
		if d.HighLow {
			count[FaultHighLow]++
		}
	}
	for _, k := range FaultKinds() {
		p := f.Rate[k]
		if k == FaultLatency {
			p *= 1 - f.Rate[FaultTimeout] // a timed-out request has no extra latency
		}
		sd := math.Sqrt(n * p * (1 - p))
		require.InDelta(t, n*p, float64(count[k]), 5*sd+1, "%s", k)
	}
	// Another seed or stream gives another sequence.
	diff := 0
	for i := range uint64(1000) {
		if f.Decide(99, "alltick/history", i) != f.Decide(100, "alltick/history", i) {
			diff++
		}
	}
	require.Greater(t, diff, 100)
	require.Equal(t, NoFault, Faults{}.Decide(1, "x", 1).Kind)
	require.False(t, Faults{}.Decide(1, "x", 1).Any())
}

func TestFaultBodies(t *testing.T) {
	t.Parallel()
	// Colons inside strings (XdTick's startTime) are not name separators.
	body := []byte(`{"ret":200,"data":{"kline_list":[{"timestamp":"1","startTime":"2026-01-21T18:46:00","note":"a\":b"}]}}`)
	require.True(t, json.Valid(body))
	original := string(body)
	f, err := ParseFaults("malformed=1")
	require.NoError(t, err)
	sawHTML, sawEq := false, false
	for i := range uint64(64) {
		d := f.Decide(1, "v/e", i)
		require.Equal(t, FaultMalformed, d.Kind)
		bad := d.Malform(body)
		require.False(t, json.Valid(bad), "%s", bad)
		require.Equal(t, bad, d.Malform(body), "deterministic")
		sawHTML = sawHTML || bad[0] == '<'
		sawEq = sawEq || bad[0] == '{'
		cut := d.Truncate(body)
		require.NotEmpty(t, cut)
		require.Less(t, len(cut), len(body))
		require.Equal(t, body[:len(cut)], cut)
		require.False(t, json.Valid(cut))
	}
	require.True(t, sawHTML && sawEq, "both malformations occur")
	require.Equal(t, original, string(body), "input untouched")
}

func TestSpoilPage(t *testing.T) {
	t.Parallel()
	g := newGen(t, 1)
	s := spec("BTCUSDT", vendor.MarketCrypto, vendor.TF1m)
	bars, err := g.Range(s, utc(2025, 1, 1, 0, 0), utc(2025, 1, 1, 0, 10), far)
	require.NoError(t, err)
	orig := render(bars)
	next, ok, err := g.Bar(s, utc(2025, 1, 1, 0, 10), far)
	require.NoError(t, err)
	require.True(t, ok)

	dup := Fault{Duplicate: true}.SpoilPage(bars, &next)
	require.Len(t, dup, 11)
	require.True(t, dup[10].SameValues(next))
	require.Len(t, Fault{Duplicate: true}.SpoilPage(bars, nil), 11)
	require.Equal(t, orig, render(bars), "input untouched")

	for w := range uint64(20) {
		ooo := Fault{OutOfOrder: true, word: w}.SpoilPage(bars, nil)
		swapped := 0
		for i := 1; i < len(ooo); i++ {
			if !ooo[i-1].Time.Before(ooo[i].Time) {
				swapped++
			}
		}
		require.Equal(t, 1, swapped)

		hl := Fault{HighLow: true, word: w}.SpoilPage(bars, nil)
		bad := 0
		for _, b := range hl {
			if b.High.Cmp(b.Low) < 0 {
				bad++
			}
		}
		require.Equal(t, 1, bad)
	}
	flat := bars[0]
	flat.High, flat.Low = flat.Open, flat.Open
	hl := Fault{HighLow: true}.SpoilPage([]vendor.Bar{flat}, nil)
	require.Negative(t, hl[0].High.Cmp(hl[0].Low))
}

func TestFaultWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		require.NoError(t, Fault{Delay: 250 * time.Millisecond}.Wait(context.Background()))
		require.Equal(t, 250*time.Millisecond, time.Since(start))

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start = time.Now()
		err := Fault{Kind: FaultTimeout, Delay: DefaultTimeout}.Wait(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 2*time.Second, time.Since(start), "hangs until the client gives up")

		start = time.Now()
		require.NoError(t, Fault{Kind: FaultTimeout, Delay: 5 * time.Second}.Wait(context.Background()))
		require.Equal(t, 5*time.Second, time.Since(start), "bounded")
		require.NoError(t, Fault{}.Wait(context.Background()))
	})
}
