package sim

import (
	"math"
	"math/bits"
)

// Below statLevel the path is a segment tree of statistics: every aligned
// dyadic span of minutes (a node) carries its own open, high, low, close and
// volume, drawn top-down from a hash of (series key, node) conditioned on
// its parent, so that a node's statistics are exactly the aggregate of its
// two children's and, down the tree, of its minutes'. The aggregate of any
// range of minutes is then the combination of the O(log n) nodes that tile
// it: a 500-bar daily page costs some ten thousand node draws instead of the
// 200 000–700 000 minutes it covers.
//
// A node [l, r) of level k (2^k minutes) is split at its midpoint m:
//
//   - W(m), the close of the left child and the open of the right, is the
//     Brownian-bridge draw of the path above (the mean of the ends plus a
//     displacement from hash(m)), folded into the parent's [low, high];
//   - the parent's high goes to one child, whose high it is: the one whose
//     far end is nearer to it, steeply the likelier (see holds). The other
//     child's high is the maximum of a Brownian bridge between its ends
//     (exact in law for an unconditioned bridge, see excursion), folded
//     below the parent's high. Lows likewise;
//   - a child that holds an extreme must reach it: when its ends lie far
//     below the high for its span, W(m) is drawn up to within one to two
//     standard deviations of the span of it, as the path of a real bridge
//     conditioned on its maximum climbs towards it. So extremes are reached
//     by the path, not by one-minute spikes;
//   - the volume is split between the children by a hashed fraction.
//
// The roots are the nodes of level statLevel (2^16 minutes, 45 days, longer
// than any bar): their ends are the values of the path above, which are
// unchanged at every minute that is a multiple of 2^statLevel; their high and
// low are bridge maxima, their volume drawn around the mean.
const statLevel = 16

// Salts separate the random words a node draws from its midpoint's hash.
const (
	saltChoice = 0x5e9_c401ce
	saltHigh   = 0x5e9_0416
	saltLow    = 0x5e9_010b
	saltRoot   = 0x5e9_4007
)

// triStd is the standard deviation of the sum of two uniform 16-bit
// integers (a triangular distribution): 65536/√6.
const triStd = 26754.9

// tri maps 32 random bits to a symmetric triangular integer with standard
// deviation triStd.
func tri(h uint64) int64 { return int64(h&0xffff) + int64(h>>16&0xffff) - 65535 }

// excursion returns how far the maximum of a Brownian bridge of level k
// between ends a and b rises above the higher end, from 64 random bits. For
// a bridge of duration T and variance σ²T the maximum M satisfies
// (M−a)(M−b) = E with E exponential of mean σ²T/2, which is X²+Y² for X and
// Y normal with standard deviation σ√T/2: so M = (a+b)/2 + √((a−b)²/4 + X² +
// Y²). X and Y are triangular here, close enough in shape. The floats are
// each explicitly rounded, and IEEE square roots are correctly rounded, so
// the result is the same on every platform.
func (p *path) excursion(a, b int64, k int, h uint64) int64 {
	return excursionX(a, b, p.xmult[k], h)
}

// excursionX is excursion for a span whose bridge-maximum term is xm (see
// path.xmult).
func excursionX(a, b, xm int64, h uint64) int64 {
	x := float64((tri(h) * xm) >> ihShift)
	y := float64((tri(h>>32) * xm) >> ihShift)
	d := a - b
	if d < 0 {
		d = -d
	}
	hd := float64(d) / 2
	s := float64(hd * hd)
	s += float64(x * x)
	s += float64(y * y)
	return max(0, int64(math.Sqrt(s)-hd))
}

// root returns the statistics of the root node n, the minutes [n·2^statLevel,
// (n+1)·2^statLevel).
func (p *path) root(n int64) minuteBar {
	l := n << statLevel
	r := l + 1<<statLevel
	o, c := p.top(l), p.top(r)
	h := mix64(nodeHash(p.key, l+1<<(statLevel-1)) ^ saltRoot)
	// Volume factor 0.5–1.5 of the mean (in 1/65536).
	f := 32768 + h&0xffff
	return minuteBar{
		o: o, c: c,
		h: max(o, c) + p.excursion(o, c, statLevel, mix64(h^saltHigh)),
		l: min(o, c) - p.excursion(o, c, statLevel, mix64(h^saltLow)),
		v: mulShift16(p.rootVol, f),
	}
}

// mulShift16 returns v·f/65536 rounded down, without overflow.
func mulShift16(v int64, f uint64) int64 {
	hi, lo := bits.Mul64(uint64(v), f) //nolint:gosec // v ≥ 0
	return int64(hi<<48 | lo>>16)      //nolint:gosec // < v·f/65536 ≤ v for f ≤ 65536, or the root's bounded mean
}

// split returns the two children of node nd, the minutes [l, l+2^k).
func (p *path) split(nd minuteBar, l int64, k int) (left, right minuteBar) {
	var ct cut
	p.divide(&nd, l, k, &ct)
	p.child(&nd, &ct, k, false, &left)
	p.child(&nd, &ct, k, true, &right)
	return left, right
}

// cut is how a node divides between its children: the value at the
// midpoint, which child holds the high and the low, the random words of the
// other children's extremes and the left child's volume.
type cut struct {
	x              int64
	hiLeft, loLeft bool
	hh, hl         uint64
	vl             int64
}

// divide draws into ct how node nd, the minutes [l, l+2^k), divides (see
// cut); the children follow with child, so that a walk skipping one pays only
// for the other. Results go through pointers because a page makes thousands
// of these calls, and copying the structs in and out of them was a tenth of
// its time.
func (p *path) divide(nd *minuteBar, l int64, k int, ct *cut) {
	h0 := nodeHash(p.key, l+1<<(k-1))
	hc := mix64(h0 ^ saltChoice)
	H, L := nd.h, nd.l
	// Which child holds the parent's high, and which its low.
	hiLeft := p.holds(k, H-nd.o, H-nd.c, hc&0xffff)
	loLeft := p.holds(k, nd.o-L, nd.c-L, hc>>16&0xffff)

	// The midpoint: the bridge draw, then settled so that each holding
	// child can reach its extreme.
	*ct = cut{
		x: (nd.o+nd.c)>>1 + (gauss(h0)*p.mult[k])>>ihShift, hiLeft: hiLeft, loLeft: loLeft,
		hh: mix64(h0 ^ saltHigh), hl: mix64(h0 ^ saltLow),
		// Volume fraction 0.35–0.65 to the left child.
		vl: mulShift16(nd.v, 22938+(hc>>48)*19661>>16),
	}
	p.settle(nd, ct, p.reach[k-1], p.reach[k-1], hc)
}

// settle moves the midpoint draw ct.x of node nd so that each child holding
// an extreme (ct.hiLeft, ct.loLeft) has its far end within a cap of it: the
// child's reach (reachL or reachR) times a factor of 1 to 2 from the choice
// word hc. When one child cannot reach both extremes, they go to different
// children, so that a shortfall is made up one level further down.
func (p *path) settle(nd *minuteBar, ct *cut, reachL, reachR int64, hc uint64) {
	fH, fL := int64(256+hc>>32&0xff), int64(256+hc>>40&0xff)
	capOf := func(left bool, f int64) int64 {
		if left {
			return reachL * f >> 8
		}
		return reachR * f >> 8
	}
	hiLeft, loLeft := ct.hiLeft, ct.loLeft
	lo, hi := p.pull(nd, hiLeft, loLeft, capOf(hiLeft, fH), capOf(loLeft, fL))
	if lo > hi && hiLeft == loLeft {
		lo1, hi1 := p.pull(nd, hiLeft, !loLeft, capOf(hiLeft, fH), capOf(!loLeft, fL))
		lo2, hi2 := p.pull(nd, !hiLeft, loLeft, capOf(!hiLeft, fH), capOf(loLeft, fL))
		if lo1-hi1 <= lo2-hi2 {
			lo, hi, ct.loLeft = lo1, hi1, !loLeft
		} else {
			lo, hi, ct.hiLeft = lo2, hi2, !hiLeft
		}
	}
	if lo > hi {
		ct.x = hi + (lo-hi)/2
	} else {
		ct.x = reflect(ct.x, lo, hi)
	}
}

// pull returns the range the midpoint of node nd must lie in for the
// children holding its high and low to come within capH and capL of them;
// it is empty (lo > hi) if they cannot both.
func (p *path) pull(nd *minuteBar, hiLeft, loLeft bool, capH, capL int64) (lo, hi int64) {
	lo, hi = nd.l, nd.h
	if pick(hiLeft, nd.o, nd.c) < nd.h-capH {
		lo = max(lo, nd.h-capH)
	}
	if pick(loLeft, nd.o, nd.c) > nd.l+capL {
		hi = min(hi, nd.l+capL)
	}
	return lo, hi
}

// child sets out to the left or right child of node nd (level k) cut by ct.
func (p *path) child(nd *minuteBar, ct *cut, k int, right bool, out *minuteBar) {
	childOf(nd, ct, right, p.xmult[k-1], out)
}

// childOf sets out to the left or right child of node nd cut by ct, whose
// bridge-maximum term (see path.xmult) is xm.
func childOf(nd *minuteBar, ct *cut, right bool, xm int64, out *minuteBar) {
	a, b, v := nd.o, ct.x, ct.vl
	if right {
		a, b, v = ct.x, nd.c, nd.v-ct.vl
	}
	*out = minuteBar{o: a, c: b, v: v, h: nd.h, l: nd.l}
	if ct.hiLeft == right {
		top := max(a, b)
		out.h = reflect(top+excursionX(a, b, xm, ct.hh), top, nd.h)
	}
	if ct.loLeft == right {
		bottom := min(a, b)
		out.l = reflect(bottom-excursionX(a, b, xm, ct.hl), nd.l, bottom)
	}
}

// holds decides from 16 random bits u whether the left child of a node of
// level k holds one of its extremes, given the distances of the node's open
// (the left child's far end) and close (the right child's) from it. For a
// Brownian bridge of duration T whose maximum lies well above its ends, the
// odds that the left half holds it are about exp(−2(dOpen²−dClose²)/σ²T):
// the nearer end's half, steeply. An end at the extreme holds it.
func (p *path) holds(k int, dOpen, dClose int64, u uint64) bool {
	if left, decided := atExtreme(dOpen, dClose); decided {
		return left
	}
	o, c := float64(dOpen), float64(dClose)
	// z in steps of 1/logitSteps; left with probability 1/(1+e^z), from a
	// table.
	z := math.Floor(float64(float64(o*o)-float64(c*c)) * p.oddsScale[k])
	switch {
	case z >= logitMax*logitSteps:
		return u == 0
	case z <= -logitMax*logitSteps:
		return true
	}
	return u < uint64(leftOdds[int(z)+logitMax*logitSteps])
}

// atExtreme decides which child holds an extreme when the node's open or
// close is at it (distance 0): that end's child.
func atExtreme(dOpen, dClose int64) (left, decided bool) {
	switch {
	case dOpen == 0:
		return true, true
	case dClose == 0:
		return false, true
	}
	return false, false
}

// leftOdds[i] is 2^16/(1+e^z) for z = i/logitSteps − logitMax: beyond
// ±logitMax (e^12 > 2^16) the odds are 0 or 1 in 16 bits. expDet makes it
// the same table on every platform.
var leftOdds = func() (t [2*logitMax*logitSteps + 1]uint32) { //nolint:gochecknoglobals // immutable table
	for i := range t {
		z := float64(i)/logitSteps - logitMax
		t[i] = uint32(math.Floor(1 << 16 / float64(1+expDet(z))))
	}
	return t
}()

const (
	logitMax   = 12
	logitSteps = 16
)

// reflect folds x into [lo, hi] (lo ≤ hi) by reflecting it at the bounds,
// as often as it takes: a draw keeps its spread instead of piling up on a
// bound, as clamping would (two neighbouring bars would then share a high
// to the tick, or a bar lack a wick, far more often than in real markets).
func reflect(x, lo, hi int64) int64 {
	if x >= lo && x <= hi {
		return x
	}
	d := hi - lo
	if d == 0 {
		return lo
	}
	t := (x - lo) % (2 * d)
	if t < 0 {
		t += 2 * d
	}
	if t > d {
		t = 2*d - t
	}
	return lo + t
}

func pick(left bool, a, b int64) int64 {
	if left {
		return a
	}
	return b
}

// at returns W(τ), the path's value at the start of minute τ; minutes
// outside the tree read 0 (the pinned ends).
func (p *path) at(tau int64) int64 {
	if tau <= 0 || tau >= treeSpan {
		return 0
	}
	n := tau >> statLevel
	l := n << statLevel
	if tau == l {
		return p.top(tau)
	}
	return p.within(p.root(n), l, statLevel, tau)
}

// within returns W(τ) for l < τ < l+2^k, inside node nd, the minutes [l,
// l+2^k).
func (p *path) within(nd minuteBar, l int64, k int, tau int64) int64 {
	for ; ; k-- {
		if n, ok := p.tradingDay(l, k); ok {
			return p.withinSplit(nd, l, n, dayBlock-n, tau)
		}
		left, right := p.split(nd, l, k)
		m := l + 1<<(k-1)
		switch {
		case tau == m:
			return left.c
		case tau < m:
			nd = left
		default:
			nd, l = right, m
		}
	}
}

// withinSplit is within for node nd, the minutes [l, l+t1+t2), divided
// unevenly at l+t1.
func (p *path) withinSplit(nd minuteBar, l, t1, t2, tau int64) int64 {
	u := p.uneven(t1, t2)
	var ct cut
	var c minuteBar
	p.divideUneven(&nd, l, &u, &ct)
	m := l + t1
	switch {
	case tau == m:
		return ct.x
	case tau < m:
		p.childUneven(&nd, &ct, &u, false, &c)
		return p.withinRun(c, l, t1, tau)
	}
	p.childUneven(&nd, &ct, &u, true, &c)
	return p.withinRun(c, m, t2, tau)
}

// withinRun is within for node nd, the minutes [l, l+n) of any length n: a
// power of two divides at its midpoint, any other length at its largest
// power of two (see uneven).
func (p *path) withinRun(nd minuteBar, l, n, tau int64) int64 {
	t1, k := splitOf(n)
	if t1 == 0 {
		return p.within(nd, l, k, tau)
	}
	return p.withinSplit(nd, l, t1, n-t1, tau)
}

// splitOf tells how a node of n > 0 minutes divides: a power of two, 2^k, at
// its midpoint (t1 = 0), any other length unevenly after its largest power
// of two, t1 (see uneven).
func splitOf(n int64) (t1 int64, k int) {
	if n&(n-1) == 0 {
		return 0, bits.TrailingZeros64(uint64(n)) //nolint:gosec // n > 0
	}
	return int64(1) << (bits.Len64(uint64(n)) - 1), 0 //nolint:gosec // n > 0
}

// tradingDay reports whether the node [l, l+2^k) is the block of a trading
// day on a path laid out in days (see dayBlocks), and if so the day's
// trading minutes n, after which the block divides into the night.
func (p *path) tradingDay(l int64, k int) (n int64, ok bool) {
	if k != blockLevel || p.days == nil {
		return 0, false
	}
	n = p.days(l >> blockLevel)
	return n, n > 0 && n < dayBlock
}

// An uneven split divides a node of n = t1+t2 minutes that is not an aligned
// dyadic span: a trading day laid out in its block (see dayBlocks) is one
// such node, [0, L) of the block, beside the night [L, 1024), so that its
// daily bar is a single node rather than the tiling of a range; the day
// divides further at its largest power of two, t1, leaving an aligned
// dyadic left child. The draws are those of a dyadic split with each scale
// taken at its own length: the midpoint is the bridge mean o + (c−o)·t1/n
// displaced by σ√(t1·t2/n); a child's high is a bridge maximum of its own
// length; the odds that the left child holds an extreme are t1 : t2 (the
// maximum of a bridge is uniform in time) times the factor of its ends'
// distances; the volume divides in proportion to the lengths, jittered. So
// a node's statistics stay exactly the aggregate of its children's.
type uneven struct {
	t1, t2 int64
	mult   int64    // midpoint displacement, scaled as path.mult
	reach  [2]int64 // σ√t of the left and right child, as path.reach
	xmult  [2]int64 // their bridge-maximum terms, as path.xmult
	odds   float64  // 2/(σ²n) in 1/nano-log²: the logit of the holder odds per unit of dOpen²−dClose²
}

// uneven returns the scales of a split of a node into t1 and t2 minutes. The
// floats are each explicitly rounded and IEEE square roots are correctly
// rounded, so they are the same on every platform.
func (p *path) uneven(t1, t2 int64) uneven {
	n := float64(t1 + t2)
	sn := float64(p.sigma * nano)
	std := func(t float64) float64 { return float64(sn * math.Sqrt(t)) } // σ√t, nano-log
	u := uneven{t1: t1, t2: t2}
	mid := float64(sn * math.Sqrt(float64(float64(float64(t1)*float64(t2))/n)))
	u.mult = int64(float64(mid*(1<<ihShift)) / ihStd)
	for i, t := range [2]float64{float64(t1), float64(t2)} {
		s := std(t)
		u.reach[i] = int64(s)
		u.xmult[i] = int64(float64(float64(s/2)*(1<<ihShift)) / triStd)
	}
	r := std(n)
	u.odds = 2 / float64(r*r)
	return u
}

// divideUneven draws into ct how node nd, the minutes [l, l+t1+t2), divides
// at l+t1 (see uneven and divide).
func (p *path) divideUneven(nd *minuteBar, l int64, u *uneven, ct *cut) {
	h0 := nodeHash(p.key, l+u.t1)
	hc := mix64(h0 ^ saltChoice)
	H, L := nd.h, nd.l
	hiLeft := u.holds(H-nd.o, H-nd.c, hc&0xffff)
	loLeft := u.holds(nd.o-L, nd.c-L, hc>>16&0xffff)
	n := u.t1 + u.t2
	// The left child's share of the volume: t1/n, moved by up to 30 % of the
	// shorter child's share either way, so it stays within [0, 1].
	jitter := (int64(hc>>48) - 32768) * 19661 >> 15 // ±0.3 in 1/65536
	f := (u.t1<<16 + min(u.t1, u.t2)*jitter) / n
	*ct = cut{
		x: nd.o + (nd.c-nd.o)*u.t1/n + (gauss(h0)*u.mult)>>ihShift, hiLeft: hiLeft, loLeft: loLeft,
		hh: mix64(h0 ^ saltHigh), hl: mix64(h0 ^ saltLow),
		vl: mulShift16(nd.v, uint64(f)), //nolint:gosec // 0 ≤ f ≤ 65536
	}
	p.settle(nd, ct, u.reach[0], u.reach[1], hc)
}

// childUneven sets out to the left or right child of node nd divided by ct
// (see uneven and child).
func (p *path) childUneven(nd *minuteBar, ct *cut, u *uneven, right bool, out *minuteBar) {
	side := 0
	if right {
		side = 1
	}
	childOf(nd, ct, right, u.xmult[side], out)
}

// holds decides from 16 random bits r whether the left child holds an
// extreme of the node, given its open's and close's distances from it: with
// odds t1·e^(−z/2) : t2·e^(z/2), z = 2(dOpen²−dClose²)/σ²n, which for equal
// halves is the rule of path.holds. An end at the extreme holds it.
func (u *uneven) holds(dOpen, dClose int64, r uint64) bool {
	if left, decided := atExtreme(dOpen, dClose); decided {
		return left
	}
	o, c := float64(dOpen), float64(dClose)
	z := float64(float64(float64(o*o)-float64(c*c)) * u.odds)
	z = min(max(z, -40), 40) // e^±40 is certainty in 16 bits, and stays finite
	q := float64(float64(float64(u.t2)/float64(u.t1)) * expDet(z))
	return r < uint64(math.Floor(float64(65536/float64(1+q))))
}
