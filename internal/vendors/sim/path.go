package sim

import (
	"hash/fnv"
	"math"
	"math/bits"
	"time"
)

// The price path is a Brownian bridge on a dyadic tree of minutes.
//
// Minute τ counts from 1970-01-01T00:00Z: wall-clock minutes, or, for stock
// markets, trading minutes laid out a block per local date (see dayBlocks in
// generator.go), which is what minute means below. The tree spans [0, 2^treeLevels]
// minutes (to the year 6053) with the log-price pinned to 0 at both ends;
// every other minute boundary is the midpoint of exactly one dyadic interval,
// and its value is the mean of that interval's end values plus a displacement
// drawn from a hash of (series key, τ). So the value at any minute needs only
// the treeLevels nodes above it (random access, no history to replay), a
// contiguous range of n minutes costs about n + 2·treeLevels hashes, and the
// same key always gives the same path.
//
// Displacements follow Brownian scaling (σ·√span/2) up to spans of capSpan
// minutes and stay at that size above it, so the path looks like a random
// walk at every horizon a chart shows yet stays within a band around the base
// price over decades instead of wandering off to zero or infinity.
//
// All arithmetic is on int64 nano-log units (1e-9 of natural log) and the one
// conversion to a price (expDet) uses only IEEE-exact operations with explicit
// rounding, so bars are byte-identical on every platform.
const (
	treeLevels = 31
	treeSpan   = int64(1) << treeLevels
	capLevel   = 18 // capSpan = 2^18 minutes, about half a year
	nano       = 1e9

	// ihStd is the standard deviation of the sum of four uniform 16-bit
	// integers (Irwin–Hall, n = 4): 65536·√(4/12).
	ihStd   = 37837.23
	ihShift = 20
)

// minuteOf returns t's minute index (floor).
func minuteOf(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 59) / 60
	}
	return s / 60
}

// timeOfMinute returns the instant at which minute τ starts.
func timeOfMinute(tau int64) time.Time { return time.Unix(tau*60, 0).UTC() }

// mix64 is the splitmix64 finaliser: a fast bijective mixer whose output
// bits look independent for inputs that differ in any bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// seriesKey derives a path's key from the simulator seed and the symbol.
// FNV-1a is fixed by its specification, unlike hash/maphash, so keys are
// stable across runs and releases.
func seriesKey(seed uint64, symbol string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(symbol))
	return mix64(seed ^ mix64(h.Sum64()^0x5151_5151))
}

// nodeHash is the random word of minute τ on the path with the given key.
func nodeHash(key uint64, tau int64) uint64 {
	return mix64(key ^ (uint64(tau) * 0x9e3779b97f4a7c15)) //nolint:gosec // hash mixing: wrapping is intended
}

// gauss maps a random word to an approximately normal integer with standard
// deviation ihStd, bounded to ±3.46 of them.
func gauss(h uint64) int64 {
	return int64(h&0xffff) + int64(h>>16&0xffff) + int64(h>>32&0xffff) + int64(h>>48) - 2*65535
}

// path is one series' log-price path: the key and the per-level multipliers.
type path struct {
	key     uint64
	sigma   float64               // per-minute log volatility, for the scales of uneven splits
	mult    [treeLevels + 1]int64 // midpoint displacement by level k (span 2^k), scaled by 2^ihShift/ihStd
	xmult   [statLevel + 1]int64  // bridge-maximum terms by level (σ√span/2), scaled by 2^ihShift/triStd
	reach   [statLevel + 1]int64  // σ√span by level, nano-log: how near a holding child's end comes to its extreme
	rootVol int64                 // mean volume coefficient of a root of the statistics tree
	// oddsScale[k] is 2·logitSteps/(σ²·2^k) in 1/nano-log², see holds.
	oddsScale [statLevel + 1]float64
	// days, for a path laid out in trading days (see dayBlocks), returns the
	// trading minutes of a local date, which split its block unevenly; nil
	// on wall-clock minutes.
	days func(day int64) int64
}

// newPath builds the path of key with per-minute log volatility sigma and
// mean volume coefficient volPerMin per minute.
func newPath(key uint64, sigma float64, volPerMin int64) path {
	p := path{key: key, sigma: sigma, rootVol: (volPerMin + volPerMin/4) << statLevel} // mean 1.25 per minute
	for k := 0; k <= treeLevels; k++ {
		span := math.Ldexp(1, min(k, capLevel))
		std := sigma * math.Sqrt(span) / 2 * nano
		p.mult[k] = int64(std * (1 << ihShift) / ihStd)
		if k <= statLevel {
			p.xmult[k] = int64(std * (1 << ihShift) / triStd)
			p.reach[k] = int64(2 * std)
			r := float64(p.reach[k])
			p.oddsScale[k] = 2 * logitSteps / float64(r*r)
		}
	}
	return p
}

// top returns W(τ) on the bridge above the statistics tree: the value at
// minutes that are multiples of 2^statLevel (elsewhere use at); minutes
// outside the tree read 0 (the pinned ends).
func (p *path) top(tau int64) int64 {
	if tau <= 0 || tau >= treeSpan {
		return 0
	}
	l, r, wl, wr := int64(0), treeSpan, int64(0), int64(0)
	for {
		m := (l + r) >> 1
		k := 63 - bits.LeadingZeros64(uint64(r-l))
		wm := (wl+wr)>>1 + (gauss(nodeHash(p.key, m))*p.mult[k])>>ihShift
		switch {
		case tau == m:
			return wm
		case tau < m:
			r, wr = m, wm
		default:
			l, wl = m, wm
		}
	}
}

// expDet returns e^x using only correctly rounded operations, each product
// explicitly rounded so the compiler cannot fuse it into an FMA. math.Exp has
// assembly versions on some architectures that may differ in the last bit,
// which could flip a rounded price digit between machines.
func expDet(x float64) float64 {
	const (
		ln2Hi  = 6.93147180369123816490e-01
		ln2Lo  = 1.90821492927058770002e-10
		invLn2 = 1.44269504088896338700e+00
	)
	k := math.Floor(float64(x*invLn2) + 0.5)
	r := x - float64(k*ln2Hi)
	r -= float64(k * ln2Lo)
	// Taylor series to r^12/12! in Horner form; |r| ≤ 0.35 keeps the relative
	// error near 1e-16, far below a price tick.
	p := 1.0 / 479001600
	p = float64(p*r) + 1.0/39916800
	p = float64(p*r) + 1.0/3628800
	p = float64(p*r) + 1.0/362880
	p = float64(p*r) + 1.0/40320
	p = float64(p*r) + 1.0/5040
	p = float64(p*r) + 1.0/720
	p = float64(p*r) + 1.0/120
	p = float64(p*r) + 1.0/24
	p = float64(p*r) + 1.0/6
	p = float64(p*r) + 1.0/2
	p = float64(p*r) + 1
	p = float64(p*r) + 1
	return math.Ldexp(p, int(k))
}
