package backfill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

// fakeVendor serves 1m bars every minute from genesis up to now (the newest
// forming), with the paging semantics a test picks.
type fakeVendor struct {
	mu        sync.Mutex
	now       func() time.Time
	genesis   time.Time
	pageSize  int
	bound     vendor.EndBound
	pagesBack bool
	depth     int // bars reachable back from now; 0 = all
	market    vendor.Market
	// fail returns an error for the n-th request (1-based), or nil.
	fail     func(n int, end time.Time) error
	badAt    map[time.Time]bool // bars served with high < low
	badOnce  bool               // each bad bar is served wrong once, then right
	requests int
	ends     []time.Time
}

func (f *fakeVendor) Capabilities(string) (vendor.Capabilities, error) {
	return vendor.Capabilities{Vendor: "fake", Market: f.market, PageSize: f.pageSize, PagesBack: f.pagesBack,
		EndBound: f.bound, Depth: f.depth, Timeframes: vendor.Timeframes}, nil
}

func fakeBar(t time.Time) vendor.Bar {
	p := 1000 + t.Unix()/60%97
	d := func(v int64) decimal.Decimal { return decimal.New(v*100+int64(t.Minute()), 2) }
	return vendor.Bar{Time: t, Open: d(p), High: d(p + 5), Low: d(p - 5), Close: d(p + 1), Volume: decimal.New(t.Unix()%1000, 0)}
}

func (f *fakeVendor) History(_ context.Context, _ string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	f.ends = append(f.ends, end)
	if f.fail != nil {
		if err := f.fail(f.requests, end); err != nil {
			return vendor.Page{}, err
		}
	}
	now := f.now().Truncate(time.Minute)
	if !end.IsZero() && !f.pagesBack {
		return vendor.Page{}, &vendor.APIError{Vendor: "fake", Kind: vendor.ErrUnsupported}
	}
	last := now
	if !end.IsZero() {
		last = end.Truncate(time.Minute)
		if f.bound == vendor.EndExclusive && last.Equal(end) {
			last = last.Add(-time.Minute)
		}
		if last.After(now) {
			last = now
		}
	}
	floor := f.genesis
	if f.depth > 0 {
		floor = maxTime(floor, now.Add(-time.Duration(f.depth-1)*time.Minute))
	}
	limit = min(limit, f.pageSize)
	var bars []vendor.Bar
	for t := last; !t.Before(floor) && len(bars) < limit; t = t.Add(-tf.Duration()) {
		b := fakeBar(t)
		if f.badAt[t] {
			b.High, b.Low = b.Low, b.High
			if f.badOnce {
				delete(f.badAt, t)
			}
		}
		bars = append(bars, b)
	}
	sort.Slice(bars, func(i, j int) bool { return bars[i].Time.Before(bars[j].Time) })
	return vendor.Page{Bars: bars, Requested: limit}, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// memStore is an in-memory Store that checks the fast-path promise.
type memStore struct {
	mu         sync.Mutex
	bars       map[time.Time]Candle
	st         State
	coverage   []Coverage
	quarantine []Quarantined
	commits    int
	failAt     int // fail the n-th Commit (1-based), once
}

func newMemStore() *memStore { return &memStore{bars: map[time.Time]Candle{}} }

func (m *memStore) SeriesState(context.Context, vendor.Series) (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	st.Gaps = append([]Gap(nil), m.st.Gaps...)
	return st, nil
}

// recordGap records (from, to) as the poller does with the bars that open it.
func (m *memStore) recordGap(from, to time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.Gaps = append(m.st.Gaps, Gap{From: from, To: to})
}

func (m *memStore) Commit(_ context.Context, c Commit) (Written, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits++
	if m.failAt == m.commits {
		m.failAt = 0
		return Written{}, errors.New("injected commit failure")
	}
	var w Written
	for _, b := range c.Bars {
		old, ok := m.bars[b.Time]
		switch {
		case ok && c.AllNew:
			return Written{}, fmt.Errorf("fast path conflict at %s", b.Time)
		case ok && old.SameValues(b.Bar) && old.Final == b.Final:
			w.Unchanged++
		case ok:
			w.Updated++
		default:
			w.Inserted++
		}
		b.Final = b.Final || old.Final
		m.bars[b.Time] = b
		if m.st.Oldest.IsZero() || b.Time.Before(m.st.Oldest) {
			m.st.Oldest = b.Time
		}
		if b.Time.After(m.st.Newest) {
			m.st.Newest = b.Time
		}
	}
	if c.Exhausted {
		m.st.Exhausted, m.st.ExhaustedAt = true, c.ExhaustedAt
	}
	if c.OpenGap != nil {
		m.st.Gaps = append(m.st.Gaps, *c.OpenGap)
	}
	for i := range m.st.Gaps {
		if !m.st.Gaps[i].From.Equal(c.GapFrom) {
			continue
		}
		if c.MoveGap {
			m.st.Gaps[i].To = c.GapTo
		}
		if c.CloseGap {
			m.st.Gaps = append(m.st.Gaps[:i], m.st.Gaps[i+1:]...)
			break
		}
	}
	for _, g := range c.Refetch {
		if !slices.ContainsFunc(m.st.Gaps, func(o Gap) bool { return o.From.Equal(g.From) }) {
			m.st.Gaps = append(m.st.Gaps, g)
		}
	}
	m.coverage = append(m.coverage, c.Coverage...)
	m.quarantine = append(m.quarantine, c.Quarantine...)
	return w, nil
}

// checkExact fails unless the store holds exactly the vendor's bars from..to.
func (m *memStore) checkExact(t *testing.T, from, to time.Time, bad map[time.Time]bool) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	want := 0
	for ts := from; !ts.After(to); ts = ts.Add(time.Minute) {
		if bad[ts] {
			if _, ok := m.bars[ts]; ok {
				t.Fatalf("bad bar %s stored", ts)
			}
			continue
		}
		want++
		got, ok := m.bars[ts]
		if !ok {
			t.Fatalf("bar %s missing", ts)
		}
		if !got.SameValues(fakeBar(ts)) {
			t.Fatalf("bar %s differs", ts)
		}
	}
	for ts := range m.bars {
		if ts.Before(from) || ts.After(to) {
			want++ // extra bars beyond the horizon are real vendor bars, allowed
		}
	}
	if len(m.bars) != want {
		t.Fatalf("stored %d bars, want %d", len(m.bars), want)
	}
}

// groupStore keeps one memStore per series and also commits groups,
// counting them. Each group takes delay, as a database transaction takes
// time: inside a synctest bubble the sleep ends only once every other
// goroutine is blocked, so the pages that arrive meanwhile are the same on
// every run, however the machine schedules.
type groupStore struct {
	mu              sync.Mutex
	per             map[vendor.Series]*memStore
	groups, grouped int
	delay           time.Duration
}

func (g *groupStore) of(s vendor.Series) *memStore {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.per[s] == nil {
		g.per[s] = newMemStore()
	}
	return g.per[s]
}

func (g *groupStore) SeriesState(ctx context.Context, s vendor.Series) (State, error) {
	return g.of(s).SeriesState(ctx, s)
}

func (g *groupStore) Commit(ctx context.Context, c Commit) (Written, error) {
	return g.of(c.Series).Commit(ctx, c)
}

func (g *groupStore) CommitMany(ctx context.Context, cs []Commit) ([]Written, error) {
	select {
	case <-time.After(g.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	g.groups++
	g.grouped += len(cs)
	g.mu.Unlock()
	out := make([]Written, len(cs))
	for i, c := range cs {
		w, err := g.Commit(ctx, c)
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}
