package sim

import (
	"fmt"
	"math/big"
	"math/bits"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

// MaxBars caps the bars one generator call returns, so a mistaken range
// (decades of minutes) fails fast instead of exhausting memory.
const MaxBars = 1_000_000

const minuteMS = 60_000

// Generator produces deterministic bars. Every bar is an aggregate of 1-minute
// bars read off one price path per symbol, so:
//
//   - bars are random-access: the bar at any time costs a few tree descents
//     (O(log n) node draws, whatever its length), never the history before
//     it;
//   - every timeframe agrees with every other: a 1h bar is exactly the
//     aggregate (first open, max high, min low, last close, summed volume) of
//     its 1m bars, a 1d bar of its 1h bars;
//   - adjacent bars chain exactly: each bar opens at the previous bar's close,
//     across nights, weekends, lunch breaks and holidays too. While a market
//     is closed its price is frozen at the last close; the move that happened
//     meanwhile (overnight; not over a lunch break, see dayBlocks) shows up
//     inside the first minute of the next session, like an opening auction,
//     so that minute's range is wide;
//   - bars exist only where the calendar has the market open for at least one
//     minute of the bar's period.
//
// The path carries the statistics of every aligned dyadic span of minutes
// (see tree.go), which are exactly the aggregates of their minutes, so a
// bar is the combination of the few spans that tile it. A Generator has no
// mutable state and is safe for concurrent use.
type Generator struct {
	seed uint64
	cal  *calendar.Calendar
}

// NewGenerator returns a generator for seed. Different seeds give unrelated
// paths for the same symbol.
func NewGenerator(seed uint64, cal *calendar.Calendar) *Generator {
	return &Generator{seed: seed, cal: cal}
}

// Calendar returns the calendar the generator places sessions with.
func (g *Generator) Calendar() *calendar.Calendar { return g.cal }

// minuteBar is a minute, a node of the statistics tree or a bar in log space
// (nano-log prices, volume coefficient).
type minuteBar struct{ o, h, l, c, v int64 }

// Range returns the bars of s whose open time lies in [from, to), as the
// simulator shows them at asOf: only bars whose first trading minute began
// before asOf, the last one possibly still forming (see Bar). Bars are
// ascending by time. Nothing exists before 1970-01-01T00:00Z.
func (g *Generator) Range(s Spec, from, to, asOf time.Time) ([]vendor.Bar, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	start, end, ok := g.bounds(s, from, to)
	if !ok {
		return nil, nil
	}
	if n := end.Sub(start) / s.Timeframe.Duration(); n > MaxBars {
		return nil, fmt.Errorf("%w: about %d bars in [%s, %s)", ErrTooLarge, n, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	limit := end
	if asOf.Before(limit) {
		limit = asOf
	}
	if !start.Before(limit) {
		return nil, nil
	}
	return g.generate(s, g.cal.Sessions(s.Market, start, limit), nil, asOf), nil
}

// bounds returns [start, end): start is the first bar open ≥ from (and ≥ the
// epoch), end the end of the last bar opening before to.
func (g *Generator) bounds(s Spec, from, to time.Time) (start, end time.Time, ok bool) {
	if from.Unix() < 0 {
		from = time.Unix(0, 0).UTC()
	}
	if limit := timeOfMinute(treeSpan - 1); to.After(limit) {
		to = limit
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, false
	}
	first := g.cal.BarSpan(s.Market, s.Timeframe, from, s.Anchor)
	start = first.Start
	if start.Before(from) {
		start = first.End
	}
	last := g.cal.BarSpan(s.Market, s.Timeframe, to.Add(-time.Nanosecond), s.Anchor)
	if last.Start.Before(start) {
		return time.Time{}, time.Time{}, false
	}
	return start, last.End, true
}

// Last returns up to n bars of s with open time ≤ end, the most recent ones,
// as shown at asOf (ascending; the newest may be forming). It is the shape of
// a backward history page.
func (g *Generator) Last(s Spec, end time.Time, n int, asOf time.Time) ([]vendor.Bar, error) {
	pg, ok, err := g.lastPage(s, end, n, asOf)
	if err != nil || !ok {
		return nil, err
	}
	return g.generate(s, pg.ivs, pg.spans, asOf), nil
}

// OldestOfLast returns the open time of the oldest of the n most recent bars
// of s with open time ≤ end as shown at asOf, without generating any of them;
// ok is false when no bar exists. A vendor that serves only its latest n bars
// (QOS) uses it to find where its history ends.
func (g *Generator) OldestOfLast(s Spec, end time.Time, n int, asOf time.Time) (time.Time, bool, error) {
	pg, ok, err := g.lastPage(s, end, n, asOf)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	return pg.spans[0].Start, true, nil
}

// page is where a page's bars lie: its session intervals (ascending, the
// first clipped to the first bar's open) and its bars' spans.
type page struct{ ivs, spans []calendar.Interval }

// lastPage finds the n most recent bars of s with open time ≤ end as shown
// at asOf with the calendar alone; ok is false when no bar exists.
func (g *Generator) lastPage(s Spec, end time.Time, n int, asOf time.Time) (page, bool, error) {
	if err := s.Validate(); err != nil {
		return page{}, false, err
	}
	if n <= 0 || n > MaxBars {
		return page{}, false, fmt.Errorf("%w: bar count %d outside 1–%d", ErrBadRequest, n, MaxBars)
	}
	if asOf.Before(end) {
		end = asOf
	}
	to := end.Add(time.Nanosecond)
	// Widen the window until it holds n bars or reaches the epoch.
	// A market that closes needs more wall-clock time than n bars' worth:
	// overnight for minutes and hours, weekends and holidays for days (a
	// year of 365 days has 240–252 trading days, so 1.6 times as many
	// calendar days do; the loop widens the window if not).
	window := time.Duration(n) * s.Timeframe.Duration()
	if !g.cal.AlwaysOpen(s.Market) {
		if s.Timeframe.Intraday() {
			window *= 3
		} else {
			window = window * 8 / 5
		}
	}
	zero := time.Unix(0, 0).UTC()
	for {
		from := to.Add(-window)
		if from.Before(zero) || window > 200*365*24*time.Hour {
			from = zero
		}
		pg := g.opens(s, from, to, asOf)
		if len(pg.spans) >= n || from.Equal(zero) {
			if len(pg.spans) == 0 {
				return page{}, false, nil
			}
			pg.spans = pg.spans[max(0, len(pg.spans)-n):]
			start := pg.spans[0].Start
			for len(pg.ivs) > 0 && !pg.ivs[0].End.After(start) {
				pg.ivs = pg.ivs[1:]
			}
			if pg.ivs[0].Start.Before(start) {
				pg.ivs[0].Start = start
			}
			return pg, true, nil
		}
		window *= 2
	}
}

// opens returns the sessions and the spans of the bars of s opening in
// [from, to) that have trading time before limit.
func (g *Generator) opens(s Spec, from, to, limit time.Time) page {
	start, end, ok := g.bounds(s, from, to)
	if !ok {
		return page{}
	}
	if limit.Before(end) {
		end = limit
	}
	pg := page{ivs: g.cal.Sessions(s.Market, start, end)}
	if !s.Timeframe.Intraday() {
		pg.spans = make([]calendar.Interval, 0, len(pg.ivs)+1) // a bar per trading day at most
	}
	var sp calendar.Interval // the bar last listed
	for _, iv := range pg.ivs {
		// One span per bar: the sessions inside a daily bar share it.
		for t := iv.Start; t.Before(iv.End); t = sp.End {
			if !t.Before(sp.End) {
				sp = g.span(s, minuteOf(t))
				pg.spans = append(pg.spans, sp)
			}
		}
	}
	return pg
}

// span returns the bar of s containing minute τ. Intraday bars are UTC
// multiples of their length, computed here on minute indices because this
// runs once per bar in the hot paths; longer bars ask the calendar.
func (g *Generator) span(s Spec, tau int64) calendar.Interval {
	if k := intradayMinutes(s.Timeframe); k > 0 {
		o := tau - tau%k
		return calendar.Interval{Start: timeOfMinute(o), End: timeOfMinute(o + k)}
	}
	return g.cal.BarSpan(s.Market, s.Timeframe, timeOfMinute(tau), s.Anchor)
}

// intradayMinutes returns an intraday timeframe's length in minutes, 0 for
// daily and longer.
func intradayMinutes(tf vendor.Timeframe) int64 {
	switch tf {
	case vendor.TF1m:
		return 1
	case vendor.TF5m:
		return 5
	case vendor.TF15m:
		return 15
	case vendor.TF30m:
		return 30
	case vendor.TF1h:
		return 60
	case vendor.TF2h:
		return 120
	case vendor.TF4h:
		return 240
	}
	return 0
}

// Bar returns the bar of s that opens at open, as shown at asOf. Before the
// bar's period ends it is forming: its high only rises and its low only falls
// as asOf advances, its volume only grows, its close moves, and from the end
// of its period on it equals the final bar exactly. ok is false when no such
// bar exists (not a bar boundary, market closed, or not begun at asOf).
func (g *Generator) Bar(s Spec, open, asOf time.Time) (vendor.Bar, bool, error) {
	bars, err := g.Range(s, open, open.Add(time.Nanosecond), asOf)
	if err != nil || len(bars) == 0 || !bars[0].Time.Equal(open) {
		return vendor.Bar{}, false, err
	}
	return bars[0], true, nil
}

// Final returns the ground truth for end-to-end tests: every bar of s opening
// in [from, to) whose period has ended at now (Time + timeframe ≤ now), with
// the values the simulator will serve for it from then on.
func (g *Generator) Final(s Spec, from, to, now time.Time) ([]vendor.Bar, error) {
	bars, err := g.Range(s, from, to, now)
	if err != nil || len(bars) == 0 {
		return bars, err
	}
	last := bars[len(bars)-1]
	if g.cal.BarSpan(s.Market, s.Timeframe, last.Time, s.Anchor).End.After(now) {
		bars = bars[:len(bars)-1]
	}
	return bars, nil
}

// IsFinal reports whether the bar of s opening at open has ended at now.
func (g *Generator) IsFinal(s Spec, open, now time.Time) bool {
	return !g.cal.BarSpan(s.Market, s.Timeframe, open, s.Anchor).End.After(now)
}

// generate aggregates the minutes of the session intervals ivs (ascending,
// the first one starting in the first bar, the last one ending at most at
// the last bar's end, possibly mid-minute at asOf) into bars. spans, if not
// nil, are the bars' spans, as opens lists them.
func (g *Generator) generate(s Spec, ivs, spans []calendar.Interval, asOf time.Time) []vendor.Bar {
	if len(ivs) == 0 {
		return nil
	}
	mdl := g.model(s.Instrument)
	gap, gapW := g.gapBefore(&mdl, s.Market, ivs[0].Start)
	segs, opens := g.segments(s, mdl.path.days != nil, ivs, spans, gap, asOf)
	w := walker{mdl: &mdl, segs: segs, lastC: gapW, asOfMS: int64(asOf.Sub(timeOfMinute(minuteOf(asOf))) / time.Millisecond), bars: make([]minuteBar, len(opens))}
	first, last := segs[0].a>>statLevel, (segs[len(segs)-1].b-1)>>statLevel
	for n := first; n <= last; n++ {
		if w.wants(n<<statLevel, (n+1)<<statLevel) {
			root := mdl.path.root(n)
			w.visit(&root, n<<statLevel, statLevel)
		}
	}
	out := make([]vendor.Bar, len(opens))
	for i, b := range w.bars {
		out[i] = mdl.bar(opens[i], b)
	}
	return out
}

// gapBefore tells whether the minute at first opens a session (the market
// was closed just before) and, if so, the value its open takes: the last
// close before it (the price was frozen while the market was closed).
func (g *Generator) gapBefore(mdl *model, m vendor.Market, first time.Time) (bool, int64) {
	if g.cal.IsOpen(m, first.Add(-time.Nanosecond)) {
		return false, 0
	}
	if lc, ok := g.cal.LastClose(m, first); ok {
		return true, mdl.path.at(minuteOf(lc) + g.slotOffset(mdl.path.days != nil, m, lc.Add(-time.Minute)))
	}
	return true, mdl.path.at(minuteOf(first) + g.slotOffset(mdl.path.days != nil, m, first))
}

// dayBlock is the number of path minutes a trading day of a market with
// sessions takes (see dayBlocks): a node of the statistics tree, of level
// blockLevel, longer than the longest trading day (390 minutes).
const (
	blockLevel = 10
	dayBlock   = 1 << blockLevel
)

// dayBlocks reports whether the path of market m is laid out in trading
// days: local date d takes the slots [d·dayBlock, (d+1)·dayBlock), its
// trading minutes first, one slot each and in order, a lunch break left out;
// the slots after them stand for the night. The path moves there, and the
// move shows in the next session's first minute, as it does across any
// closed time. Stock markets, whose trading day is a few hours of one local
// date, are laid out so; markets open around the clock keep wall-clock
// minutes.
//
// A bar's statistics are combined from the tree nodes that tile its minutes,
// and each end of that range that is not a boundary high in the tree costs a
// descent of some ten node splits. On wall-clock minutes a daily US bar has
// two such ends (a 13:30Z or 14:30Z open, a 20:00Z or 21:00Z close), and a
// Hong Kong or Shanghai day four (its lunch break's too). Laid out in days,
// and with each block split unevenly into its day and its night (see
// uneven), a trading day is one node of the tree and its daily bar costs one
// split.
func dayBlocks(m vendor.Market) bool {
	switch m {
	case vendor.MarketUS, vendor.MarketHK, vendor.MarketCN, vendor.MarketJP:
		return true
	}
	return false
}

// slotOffset returns what to add to the minute index of instant t, at which
// m is open, for its slot on the path; the same offset holds for the rest of
// t's session. It is 0 on wall-clock minutes.
func (g *Generator) slotOffset(blocks bool, m vendor.Market, t time.Time) int64 {
	if !blocks {
		return 0
	}
	day, elapsed, ok := g.cal.SessionDay(m, t)
	if !ok {
		// Unreachable: callers pass instants inside sessions of the same
		// calendar. Wall-clock minutes keep the page well formed if not.
		return 0
	}
	return int64(day)*dayBlock + int64(elapsed/time.Minute) - minuteOf(t)
}

// A segment is a run of open minutes inside one bar, [a, b) in the path's
// minutes (slotOffset), not the clock's. It aggregates
// as the tree's nodes do, except that the first minute of a session opens at
// the close before it (segOpening) and the minute under way at the as-of
// instant is seen partly (segPartial, a segment of its own).
type segment struct {
	a, b int64
	bar  int
	kind uint8 // segOpening | segPartial, or 0
}

const (
	segOpening = 1 << iota
	segPartial
)

// segments cuts the session intervals ivs (ascending; the first one after a
// close when gap) into segments at bar boundaries, and returns them with the
// open times of the bars. spans, if not nil, are the bars' spans.
func (g *Generator) segments(s Spec, blocks bool, ivs, spans []calendar.Interval, gap bool, asOf time.Time) ([]segment, []time.Time) {
	// A session interval cut at bar boundaries gives one segment per bar it
	// touches, plus one for a partial minute.
	n := 2
	for _, iv := range ivs {
		n += int(iv.Duration()/s.Timeframe.Duration()) + 2
	}
	segs := make([]segment, 0, n)
	// A bar per span when the spans are known; at most one per segment else.
	nOpens := len(spans)
	if spans == nil {
		nOpens = n
	}
	opens := make([]time.Time, 0, nOpens)
	asOfMin := int64(-1)
	if asOf.After(timeOfMinute(minuteOf(asOf))) {
		asOfMin = minuteOf(asOf)
	}
	end := int64(-1) // end of the bar last opened
	for i, iv := range ivs {
		a, b := minuteOf(iv.Start), ceilMinute(iv.End)
		// A session lies in one trading day, so in one block: its minutes
		// keep their order and spacing on the path.
		off := g.slotOffset(blocks, s.Market, iv.Start)
		for t := a; t < b; {
			if t >= end {
				var sp calendar.Interval
				if k := len(opens); k < len(spans) && minuteOf(spans[k].Start) <= t && t < minuteOf(spans[k].End) {
					sp = spans[k]
				} else {
					sp = g.span(s, t)
				}
				opens = append(opens, sp.Start)
				end = minuteOf(sp.End)
			}
			sg := segment{a: t, b: min(b, end), bar: len(opens) - 1}
			if t == a && (gap || i > 0) {
				sg.kind |= segOpening
			}
			if sg.b > asOfMin && sg.a <= asOfMin {
				if sg.a < asOfMin {
					sg.b = asOfMin
				} else {
					sg.kind |= segPartial
				}
			}
			if sg.kind&segPartial != 0 {
				sg.b = sg.a + 1
			}
			t = sg.b
			sg.a, sg.b = sg.a+off, sg.b+off
			// A bar's sessions that meet on the path (a lunch break, in
			// days laid out in blocks) are one range there: the afternoon
			// opens at the path's value, the morning's close, so its
			// opening changes nothing, and one range costs one descent in
			// the tree instead of two.
			if n := len(segs); n > 0 && segs[n-1].bar == sg.bar && segs[n-1].b == sg.a &&
				(segs[n-1].kind|sg.kind)&segPartial == 0 {
				segs[n-1].b = sg.b
				continue
			}
			segs = append(segs, sg)
		}
	}
	return segs, opens
}

// walker aggregates the statistics tree's nodes into the bars of a page,
// left to right.
type walker struct {
	mdl    *model
	segs   []segment // the page's, ascending
	si     int       // the first segment not wholly left of the node visited
	bars   []minuteBar
	filled int   // bars[:filled] have a value
	lastC  int64 // close of the last minute aggregated: the next session's open
	asOfMS int64 // milliseconds into the as-of minute
}

// visit aggregates node nd, the minutes [l, l+2^k), which holds minutes of
// the segments (see wants): whole if inside one segment, else by its
// children.
func (w *walker) visit(nd *minuteBar, l int64, k int) {
	sg := &w.segs[w.si]
	if sg.a <= l && l+1<<k <= sg.b {
		w.add(nd, l, sg)
		return
	}
	p := &w.mdl.path
	if n, ok := p.tradingDay(l, k); ok {
		w.visitSplit(nd, l, n, dayBlock-n)
		return
	}
	var ct cut
	var c minuteBar
	p.divide(nd, l, k, &ct)
	m := l + 1<<(k-1)
	if w.wants(l, m) {
		p.child(nd, &ct, k, false, &c)
		w.visit(&c, l, k-1)
	}
	if w.wants(m, m+1<<(k-1)) {
		p.child(nd, &ct, k, true, &c)
		w.visit(&c, m, k-1)
	}
}

// visitRun is visit for node nd, the minutes [l, l+n) of any length n: a
// power of two divides at its midpoint, any other length at its largest
// power of two (see uneven).
func (w *walker) visitRun(nd *minuteBar, l, n int64) {
	t1, k := splitOf(n)
	if t1 == 0 {
		w.visit(nd, l, k)
		return
	}
	if sg := &w.segs[w.si]; sg.a <= l && l+n <= sg.b {
		w.add(nd, l, sg)
		return
	}
	w.visitSplit(nd, l, t1, n-t1)
}

// visitSplit aggregates node nd, the minutes [l, l+t1+t2), divided unevenly
// at l+t1.
func (w *walker) visitSplit(nd *minuteBar, l, t1, t2 int64) {
	p := &w.mdl.path
	u := p.uneven(t1, t2)
	var ct cut
	var c minuteBar
	p.divideUneven(nd, l, &u, &ct)
	if w.wants(l, l+t1) {
		p.childUneven(nd, &ct, &u, false, &c)
		w.visitRun(&c, l, t1)
	}
	if w.wants(l+t1, l+t1+t2) {
		p.childUneven(nd, &ct, &u, true, &c)
		w.visitRun(&c, l+t1, t2)
	}
}

// wants reports whether the minutes [l, r), right of everything visited so
// far, hold minutes of the segments.
func (w *walker) wants(l, r int64) bool {
	for w.si < len(w.segs) && w.segs[w.si].b <= l {
		w.si++
	}
	return w.si < len(w.segs) && w.segs[w.si].a < r
}

// add aggregates node nd, starting at minute l and wholly inside segment
// sg, into sg's bar.
func (w *walker) add(node *minuteBar, l int64, sg *segment) {
	nd := *node
	if sg.kind&segOpening != 0 && l == sg.a {
		// The price was frozen at the last close; the move made while the
		// market was closed shows inside the session's first minute, so
		// inside the first node holding it, whose open it becomes.
		nd.o, nd.h, nd.l = w.lastC, max(nd.h, w.lastC), min(nd.l, w.lastC)
	}
	if sg.kind&segPartial != 0 {
		nd = w.mdl.partial(sg.a, nd, w.asOfMS)
	}
	w.lastC = nd.c
	if sg.bar < w.filled {
		w.bars[sg.bar] = w.bars[sg.bar].then(nd)
		return
	}
	w.bars[sg.bar], w.filled = nd, sg.bar+1
}

// then returns the aggregate of a followed by b.
func (a minuteBar) then(b minuteBar) minuteBar {
	return minuteBar{o: a.o, h: max(a.h, b.h), l: min(a.l, b.l), c: b.c, v: a.v + b.v}
}

// partial returns minute τ as seen ms milliseconds into it. Inside the minute
// the price runs in straight lines from the open through the high and the low
// (in an order and at times from the minute's hash) to the close, so the seen
// high and low only widen, the close moves along the line, the volume grows
// in proportion, and at 60 000 ms everything equals the full minute.
func (m *model) partial(tau int64, mb minuteBar, ms int64) minuteBar {
	h := mix64(nodeHash(m.key, tau) ^ 0x7e57_0f_ba55)
	u4 := int64(h >> 48)
	tA := 6000 + (u4&0xff)*94      // 6–30 s
	tB := 30000 + (u4>>8&0x7f)*188 // 30–54 s
	x1, x2 := mb.h, mb.l
	if u4>>15 == 1 {
		x1, x2 = mb.l, mb.h
	}
	ts := [4]int64{0, tA, tB, minuteMS}
	vs := [4]int64{mb.o, x1, x2, mb.c}
	hi, lo := bits.Mul64(uint64(mb.v), uint64(ms))           //nolint:gosec // v ≥ 0, 0 < ms < 60 000
	v, _ := bits.Div64(hi, lo, minuteMS)                     // < v: no overflow
	out := minuteBar{o: mb.o, h: mb.o, l: mb.o, v: int64(v)} //nolint:gosec // < mb.v
	for i := 1; i < 4; i++ {
		if ms >= ts[i] {
			out.h, out.l = max(out.h, vs[i]), min(out.l, vs[i])
			continue
		}
		x := vs[i-1] + (vs[i]-vs[i-1])*(ms-ts[i-1])/(ts[i]-ts[i-1])
		out.h, out.l, out.c = max(out.h, x), min(out.l, x), x
		return out
	}
	out.c = mb.c
	return out
}

// bar converts an accumulated bar to decimals. Turnover is volume times the
// typical price (H+L+2C)/4, rounded down to the price's tick.
func (m *model) bar(open time.Time, a minuteBar) vendor.Bar {
	o := m.lastC
	if !m.hasLast || a.o != m.lastW {
		o = m.price(a.o)
	}
	h, l, c := m.price(a.h), m.price(a.l), m.price(a.c)
	// Bars chain, so the next bar's open is usually this close: skip its exp.
	m.lastW, m.lastC, m.hasLast = a.c, c, true
	typ := uint64((h + l + 2*c) / 4) //nolint:gosec // hash mixing: wrapping is intended
	return vendor.Bar{
		Time:     open.UTC(),
		Open:     decimal.New(o, m.priceScale),
		High:     decimal.New(h, m.priceScale),
		Low:      decimal.New(l, m.priceScale),
		Close:    decimal.New(c, m.priceScale),
		Volume:   decimal.New(a.v, m.volScale),
		Turnover: decimal.Null{Decimal: m.turnover(uint64(a.v), typ), Valid: true}, //nolint:gosec // hash mixing: wrapping is intended
	}
}

func (m *model) turnover(v, price uint64) decimal.Decimal {
	hi, lo := bits.Mul64(v, price)
	div := uint64(m.pow10v) //nolint:gosec // hash mixing: wrapping is intended
	if hi < div {
		q, _ := bits.Div64(hi, lo, div)
		if q <= 1<<62 {
			return decimal.New(int64(q), m.priceScale)
		}
	}
	x := new(big.Int).Mul(new(big.Int).SetUint64(v), new(big.Int).SetUint64(price))
	x.Quo(x, new(big.Int).SetUint64(div))
	return decimal.NewFromBig(x, m.priceScale)
}

// ceilMinute returns the index of the first minute starting at or after t.
func ceilMinute(t time.Time) int64 { return minuteOf(t.Add(time.Minute - time.Nanosecond)) }
