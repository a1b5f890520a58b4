package sim

import (
	"math/bits"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
)

// TestTreeNodesAggregateChildren: at every level, a node's statistics are
// exactly the aggregate of its two children's, and valid (low ≤ open, close
// ≤ high), down random paths of random series, whatever the volatility.
func TestTreeNodesAggregateChildren(t *testing.T) {
	t.Parallel()
	g := newGen(t, 21)
	rng := rand.New(rand.NewPCG(21, 22))
	for i := range 60 {
		in := NewInstrument("TREE"+string(rune('A'+i%26)), vendor.MarketCrypto)
		in.DailyVol = []float64{0.001, 0.035, 0.5}[i%3]
		mdl := g.model(in)
		p := &mdl.path
		n := rng.Int64N(treeSpan >> statLevel)
		nd, l := p.root(n), n<<statLevel
		requireValid(t, nd)
		for k := statLevel; k > 0; k-- {
			left, right := p.split(nd, l, k)
			requireValid(t, left)
			requireValid(t, right)
			require.Equal(t, nd, left.then(right), "level %d at minute %d", k, l)
			if rng.IntN(2) == 0 {
				nd = left
			} else {
				nd, l = right, l+1<<(k-1)
			}
		}
		require.Equal(t, nd.o, p.at(l))
		require.Equal(t, nd.c, p.at(l+1))
	}
}

// TestUnevenSplitsAggregate: a node divided unevenly (a block into its
// trading day and night, a day at its largest power of two) has valid
// children that aggregate exactly to it, for random day lengths and
// volatilities, down to single minutes; and the path's value at a minute,
// read by descent (at), is the open of that minute's node.
func TestUnevenSplitsAggregate(t *testing.T) {
	t.Parallel()
	g := newGen(t, 31)
	rng := rand.New(rand.NewPCG(31, 32))
	for i := range 300 {
		in := NewInstrument("UNEVEN"+string(rune('A'+i%26)), vendor.MarketUS)
		in.DailyVol = []float64{0.001, 0.02, 0.5}[i%3]
		mdl := g.model(in)
		p := &mdl.path
		day := 1 + rng.Int64N(dayBlock-1) // the trading minutes of every date here
		p.days = func(int64) int64 { return day }
		// Down to a random block.
		n := rng.Int64N(treeSpan >> statLevel)
		nd, l := p.root(n), n<<statLevel
		for k := statLevel; k > blockLevel; k-- {
			left, right := p.split(nd, l, k)
			if rng.IntN(2) == 0 {
				nd = left
			} else {
				nd, l = right, l+1<<(k-1)
			}
		}
		// Then through the uneven splits, day or night, to a minute.
		size, t1 := int64(dayBlock), day
		for size > 1 {
			if t1 == 0 { // a power of two: the dyadic split
				t1 = size / 2
				left, right := p.split(nd, l, bits.TrailingZeros64(uint64(size)))
				require.Equal(t, nd, left.then(right), "size %d at minute %d", size, l)
				if rng.IntN(2) == 0 {
					nd, size = left, t1
				} else {
					nd, l, size = right, l+t1, size-t1
				}
			} else {
				u := p.uneven(t1, size-t1)
				var ct cut
				var left, right minuteBar
				p.divideUneven(&nd, l, &u, &ct)
				p.childUneven(&nd, &ct, &u, false, &left)
				p.childUneven(&nd, &ct, &u, true, &right)
				requireValid(t, left)
				requireValid(t, right)
				require.Equal(t, nd, left.then(right), "%d+%d at minute %d", t1, size-t1, l)
				if rng.IntN(2) == 0 {
					nd, size = left, t1
				} else {
					nd, l, size = right, l+t1, size-t1
				}
			}
			t1 = 0
			if size&(size-1) != 0 {
				t1 = int64(1) << (bits.Len64(uint64(size)) - 1)
			}
		}
		require.Equal(t, nd.o, p.at(l), "minute %d", l)
		require.Equal(t, nd.c, p.at(l+1), "minute %d", l+1)
	}
}

func requireValid(t *testing.T, m minuteBar) {
	t.Helper()
	require.LessOrEqual(t, m.l, min(m.o, m.c), "%+v", m)
	require.GreaterOrEqual(t, m.h, max(m.o, m.c), "%+v", m)
	require.GreaterOrEqual(t, m.v, int64(0), "%+v", m)
}

// TestBarsAggregateMinutesProperty: over random ranges of every market, every
// bar of every timeframe and anchor, final or forming at a random instant,
// equals the aggregate of the 1m bars in its period as served at the same
// instant, bars chain across closes, and a page (Last) is the range of its
// bars.
func TestBarsAggregateMinutesProperty(t *testing.T) {
	t.Parallel()
	g := newGen(t, 23)
	cal := g.Calendar()
	rng := rand.New(rand.NewPCG(23, 24))
	lo, hi := utc(2023, 1, 1, 0, 0).Unix()/60, utc(2027, 1, 1, 0, 0).Unix()/60
	markets := []vendor.Market{vendor.MarketCrypto, vendor.MarketFX, vendor.MarketCommodity, vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketJP}
	tfs := []vendor.Timeframe{vendor.TF5m, vendor.TF15m, vendor.TF30m, vendor.TF1h, vendor.TF2h, vendor.TF4h, vendor.TF1d, vendor.TF1w}
	for i := range 120 {
		m := markets[i%len(markets)]
		tf := tfs[rng.IntN(len(tfs))]
		s := spec("PROP-"+string(m), m, tf)
		s.Anchor = []calendar.Anchor{calendar.AnchorUTC, calendar.AnchorExchange}[rng.IntN(2)]
		end := timeOfMinute(lo + rng.Int64N(hi-lo))
		asOf := far
		if rng.IntN(2) == 0 { // the newest bar forming, mid-minute
			asOf = end.Add(time.Duration(rng.Int64N(int64(time.Minute))))
		}
		bars, err := g.Last(s, end, 1+rng.IntN(12), asOf)
		require.NoError(t, err)
		require.NotEmpty(t, bars)
		first := bars[0].Time
		ranged, err := g.Range(s, first, end.Add(time.Nanosecond), asOf)
		require.NoError(t, err)
		require.Equal(t, render(bars), render(ranged), "a page is the range of its bars")
		last := cal.BarSpan(m, tf, bars[len(bars)-1].Time, s.Anchor).End
		minutes, err := g.Range(spec(s.Symbol, m, vendor.TF1m), first, last, asOf)
		require.NoError(t, err)
		j := 0
		for bi, b := range bars {
			sp := cal.BarSpan(m, tf, b.Time, s.Anchor)
			var in []vendor.Bar
			for ; j < len(minutes) && minutes[j].Time.Before(sp.End); j++ {
				require.False(t, minutes[j].Time.Before(sp.Start))
				in = append(in, minutes[j])
			}
			require.NotEmpty(t, in, "%s %s %s", m, tf, b.Time)
			agg := aggregate(in)
			require.True(t, agg.Open.Identical(b.Open) && agg.High.Identical(b.High) && agg.Low.Identical(b.Low) &&
				agg.Close.Identical(b.Close) && agg.Volume.Identical(b.Volume),
				"%s %s %s as of %s: %v vs minutes %v", m, tf, s.Anchor, asOf, b, agg)
			if bi > 0 {
				require.True(t, b.Open.Identical(bars[bi-1].Close), "%s %s: bar %s does not open at the previous close", m, tf, b.Time)
			}
		}
		require.Equal(t, len(minutes), j, "minutes outside every bar")
	}
}
