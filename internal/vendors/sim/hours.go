package sim

import (
	"sync"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
)

// Bars of an hour and longer are merged from hourly aggregates, and the
// aggregates of hours that have ended are cached: a daily page is 500 days of
// minutes, each visited to find the highs and lows, so without the cache
// every repeated or overlapping page (the latest page polled again, a
// duplicate fault's next page, the same series at 1d after 1h, a backfill
// resumed) walked them all again. An hour's aggregate depends only on the
// instrument and the hour (the open of a session's first minute is the last
// close, whichever page asks), so cached and fresh hours are the same bars.

// hourCacheDays bounds each of the cache's two generations, in blocks of
// one UTC day of one instrument (about 1 KB each: some 8 MB at most). A page
// needing more hours than a generation holds (weekly and monthly bars over
// decades) is swept minute by minute without the cache rather than
// flushing it.
const hourCacheDays = 1 << 12

const dayMinutes = 24 * 60

// hourBlock holds the cached hours of one UTC day.
type hourBlock struct {
	m    [24]minuteBar
	have uint32 // bit i: m[i] is set
}

// hourCache holds the aggregates of hours that have ended, per instrument
// and day. When the newer generation fills up it becomes the older one and
// the older is dropped; a hit in the older moves up, so days in use survive.
type hourCache struct {
	mu       sync.Mutex
	cur, old map[Instrument]map[int64]*hourBlock
	n        int // blocks in cur
}

// lookup fills in the cached hours among hs (ascending) that end by minute
// asOfMin: a later hour is still forming at asOfMin, whatever a caller with
// a later asOf left in the cache.
func (c *hourCache) lookup(in Instrument, hs []hourSlot, asOfMin int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur[in] == nil && c.old[in] == nil {
		return
	}
	var blk *hourBlock
	day := int64(-1)
	for i := range hs {
		h := hs[i].h
		if h+60 > asOfMin {
			break
		}
		if d := h / dayMinutes; d != day {
			day, blk = d, c.block(in, d)
		}
		if k := h % dayMinutes / 60; blk != nil && blk.have&(1<<k) != 0 {
			hs[i].m, hs[i].known = blk.m[k], true
		}
	}
}

// block returns the cached block of a day, moving it up from the older
// generation; nil if there is none.
func (c *hourCache) block(in Instrument, day int64) *hourBlock {
	if b := c.cur[in][day]; b != nil {
		return b
	}
	b := c.old[in][day]
	if b != nil {
		delete(c.old[in], day)
		c.add(in, day, b)
	}
	return b
}

func (c *hourCache) add(in Instrument, day int64, b *hourBlock) {
	if c.cur == nil || c.n >= hourCacheDays {
		c.old, c.cur, c.n = c.cur, make(map[Instrument]map[int64]*hourBlock), 0
	}
	s := c.cur[in]
	if s == nil {
		s = make(map[int64]*hourBlock)
		c.cur[in] = s
	}
	s[day] = b
	c.n++
}

// store caches the hours of hs marked fresh.
func (c *hourCache) store(in Instrument, hs []hourSlot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var blk *hourBlock
	day := int64(-1)
	for i := range hs {
		if !hs[i].fresh {
			continue
		}
		h := hs[i].h
		if d := h / dayMinutes; d != day {
			day, blk = d, c.block(in, d)
			if blk == nil {
				blk = &hourBlock{}
				c.add(in, d, blk)
			}
		}
		k := h % dayMinutes / 60
		blk.m[k], blk.have = hs[i].m, blk.have|1<<k
	}
}

// reset empties the cache.
func (c *hourCache) reset() {
	c.mu.Lock()
	c.cur, c.old, c.n = nil, nil, 0
	c.mu.Unlock()
}

// hourSlot is one hour of a page that holds an open minute.
type hourSlot struct {
	h     int64 // minute index of the hour's start
	bar   int   // index of the bar it belongs to
	m     minuteBar
	known bool // m came from the cache
	fresh bool // m was computed and the hour has ended: cache it
}

// byHours aggregates the minutes of ivs (see sweep) into bars of s by way
// of hourly aggregates. It returns nil when the bars do not split into whole
// UTC hours (an exchange off UTC by a fraction of an hour) or the page
// spans too many hours; the caller sweeps the minutes then.
func (g *Generator) byHours(mdl *model, s Spec, ivs []calendar.Interval, gap bool, gapW int64, asOf time.Time) []logBar {
	n := 0
	for _, iv := range ivs {
		n += int(ceilMinute(iv.End)-minuteOf(iv.Start))/60 + 2
	}
	if n > hourCacheDays*24/2 {
		return nil
	}
	// The hours holding an open minute, and the bar each belongs to, in a
	// buffer pooled because a daily page has 12 000 of them.
	hs := g.slots(n)
	defer g.slotPool.Put(&hs)
	var opens []time.Time
	end := int64(-1)
	for _, iv := range ivs {
		a, b := minuteOf(iv.Start), ceilMinute(iv.End)
		for h := a - a%60; h < b; h += 60 {
			if k := len(hs); k > 0 && hs[k-1].h == h {
				continue
			}
			if h >= end {
				sp := g.span(s, h)
				start := minuteOf(sp.Start)
				if end = minuteOf(sp.End); start%60 != 0 || end%60 != 0 {
					return nil
				}
				opens = append(opens, sp.Start)
			}
			hs = append(hs, hourSlot{h: h, bar: len(opens) - 1})
		}
	}

	asOfMin := minuteOf(asOf)
	g.hours.lookup(s.Instrument, hs, asOfMin)
	hourly := s
	hourly.Timeframe = vendor.TF1h
	for i := 0; i < len(hs); {
		if hs[i].known {
			i++
			continue
		}
		j := i + 1
		for j < len(hs) && !hs[j].known {
			j++
		}
		if !g.sweepHours(mdl, hourly, ivs, gap, gapW, asOf, hs[i:j]) {
			return nil
		}
		for k := i; k < j; k++ {
			hs[k].fresh = hs[k].h+60 <= asOfMin // ended: final from now on
		}
		i = j
	}
	g.hours.store(s.Instrument, hs)

	out := make([]logBar, len(opens))
	for i := range hs {
		b := &out[hs[i].bar]
		if i == 0 || hs[i-1].bar != hs[i].bar {
			*b = logBar{open: opens[hs[i].bar], m: hs[i].m}
			continue
		}
		b.m = b.m.then(hs[i].m)
	}
	return out
}

// slots returns an empty slot buffer with room for n.
func (g *Generator) slots(n int) []hourSlot {
	if p, ok := g.slotPool.Get().(*[]hourSlot); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]hourSlot, 0, n)
}

// sweepHours computes the aggregates of a run of hours consecutive in the
// page from the parts of ivs inside them, giving each part's first minute
// the open the whole page's sweep gives it. It reports false if the sweep
// does not yield one bar per hour.
func (g *Generator) sweepHours(mdl *model, hourly Spec, ivs []calendar.Interval, gap bool, gapW int64, asOf time.Time, hs []hourSlot) bool {
	lo, hi := timeOfMinute(hs[0].h), timeOfMinute(hs[len(hs)-1].h+60)
	var parts []calendar.Interval
	runGap, runW := false, int64(0)
	for k, iv := range ivs {
		if !iv.End.After(lo) {
			continue
		}
		if !iv.Start.Before(hi) {
			break
		}
		p := iv
		if len(parts) == 0 && !p.Start.Before(lo) {
			// The part starts where its session does: after a close.
			if k == 0 {
				runGap, runW = gap, gapW
			} else {
				runGap, runW = true, mdl.path.at(ceilMinute(ivs[k-1].End))
			}
		}
		if p.Start.Before(lo) {
			p.Start = lo
		}
		if p.End.After(hi) {
			p.End = hi
		}
		parts = append(parts, p)
	}
	lbs := g.sweep(mdl, hourly, parts, runGap, runW, asOf, make([]logBar, 0, len(hs)))
	if len(lbs) != len(hs) {
		return false
	}
	for i, lb := range lbs {
		if minuteOf(lb.open) != hs[i].h {
			return false
		}
		hs[i].m = lb.m
	}
	return true
}

// ceilMinute returns the index of the first minute starting at or after t.
func ceilMinute(t time.Time) int64 { return minuteOf(t.Add(time.Minute - time.Nanosecond)) }
