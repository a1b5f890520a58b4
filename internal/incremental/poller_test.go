package incremental

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 20, 12, 0, 30, 0, time.UTC)

// barAsOf is the vendor's view of the bar opening at t as of now: a forming bar
// whose high rises, low falls and volume grows, equal to the final bar once
// its minute is over.
func barAsOf(t, now time.Time) vendor.Bar {
	secs := int64(60)
	if el := now.Sub(t); el < time.Minute {
		secs = int64(el / time.Second)
	}
	base := 10000 + t.Unix()/60%50
	return vendor.Bar{Time: t,
		Open: decimal.New(base, 2), High: decimal.New(base+secs, 2), Low: decimal.New(base-secs/2, 2),
		Close: decimal.New(base+secs/3, 2), Volume: decimal.New(secs*7, 1)}
}

type fakeLatest struct {
	mu       sync.Mutex
	now      func() time.Time
	calls    [][]vendor.Series
	override map[time.Time]vendor.Bar
	invalid  map[vendor.Series]bool
	// closedAt, when set, is when the market closed: the vendor serves the last
	// two bars of the session from then on.
	closedAt time.Time
	// failing series come back missing, and the call returns an error with
	// whatever the other series got, as a client whose sub-request failed does.
	failing map[vendor.Series]bool
}

func (f *fakeLatest) Latest(_ context.Context, series []vendor.Series) (vendor.Latest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, series)
	now := f.now()
	if !f.closedAt.IsZero() && now.After(f.closedAt) {
		now = f.closedAt.Add(-time.Nanosecond)
	}
	out := vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}, Invalid: map[vendor.Series]error{}}
	for _, s := range series {
		if f.invalid[s] {
			out.Invalid[s] = vendor.ErrInvalidSymbol
			continue
		}
		if f.failing[s] {
			out.Missing = append(out.Missing, s)
			continue
		}
		cur := now.Truncate(time.Minute)
		bars := make([]vendor.Bar, 0, 2)
		for _, t := range []time.Time{cur.Add(-time.Minute), cur} {
			b := barAsOf(t, now)
			if o, ok := f.override[t]; ok {
				b = o
			}
			bars = append(bars, b)
		}
		out.Bars[s] = bars
	}
	if len(out.Missing) > 0 {
		return out, vendor.ErrTransient
	}
	return out, nil
}

type memStore struct {
	mu   sync.Mutex
	bars map[vendor.Series]map[time.Time]Candle
	gaps []Gap // recorded with the writes that opened them
	sent int   // bars handed to WriteLive
}

func (m *memStore) RecentBars(_ context.Context, series []vendor.Series, n int) (map[vendor.Series][]Candle, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[vendor.Series][]Candle{}
	for _, s := range series {
		var all []Candle
		for _, c := range m.bars[s] {
			all = append(all, c)
		}
		sortCandles(all)
		if len(all) > n {
			all = all[len(all)-n:]
		}
		if len(all) > 0 {
			out[s] = all
		}
	}
	return out, nil
}

func (m *memStore) WriteLive(_ context.Context, w Write) (Written, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gaps = append(m.gaps, w.Gaps...)
	var res Written
	for s, cs := range w.Bars {
		m.sent += len(cs)
		if m.bars[s] == nil {
			m.bars[s] = map[time.Time]Candle{}
		}
		for _, c := range cs {
			old, ok := m.bars[s][c.Time]
			switch {
			case !ok:
				res.Inserted++
			case old.SameValues(c.Bar) && old.Final == (c.Final || old.Final):
				res.Unchanged++
			default:
				res.Updated++
			}
			c.Final = c.Final || old.Final
			m.bars[s][c.Time] = c
		}
	}
	return res, nil
}

type heal struct {
	s        vendor.Series
	from, to time.Time
}

type recHealer struct {
	mu    sync.Mutex
	heals []heal
}

func (h *recHealer) RequestHeal(s vendor.Series, from, to time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.heals = append(h.heals, heal{s, from, to})
}

// usCalendar: open 14:30–21:00 UTC on weekdays (enough for these tests).
type usCalendar struct{}

func (usCalendar) IsOpen(m vendor.Market, t time.Time) bool {
	if m != vendor.MarketUS {
		return true
	}
	t = t.UTC()
	if t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
		return false
	}
	mins := t.Hour()*60 + t.Minute()
	return mins >= 14*60+30 && mins < 21*60
}

func (c usCalendar) ClosedThroughout(m vendor.Market, from, to time.Time) bool {
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		if c.IsOpen(m, t) {
			return false
		}
	}
	return true
}

type bundle struct {
	clk    *clock.Fake
	vendor *fakeLatest
	store  *memStore
	healer *recHealer
	poller *Poller
	series []vendor.Series
}

func setup(t *testing.T, market vendor.Market, symbols ...string) *bundle {
	t.Helper()
	clk := clock.NewFake(t0)
	b := &bundle{clk: clk, vendor: &fakeLatest{now: clk.Now}, store: &memStore{bars: map[vendor.Series]map[time.Time]Candle{}}, healer: &recHealer{}}
	caps := map[vendor.Series]vendor.Capabilities{}
	for _, sym := range symbols {
		s := vendor.Series{Vendor: "fake", Symbol: sym, Timeframe: vendor.TF1m}
		b.series = append(b.series, s)
		caps[s] = vendor.Capabilities{Market: market, BatchMax: 2}
	}
	p, err := New(Config{Client: b.vendor, Store: b.store, Series: b.series, Caps: caps, Interval: 3 * time.Second,
		Healer: b.healer, Calendar: usCalendar{}, Clock: clk})
	require.NoError(t, err)
	b.poller = p
	return b
}

func TestTickWritesClosedAndFormingBars(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT")
	ctx := context.Background()
	require.NoError(t, b.poller.Init(ctx))
	res, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Requests)
	require.Equal(t, 2, res.Written.Inserted)
	s := b.series[0]
	closed, forming := t0.Truncate(time.Minute).Add(-time.Minute), t0.Truncate(time.Minute)
	require.True(t, b.store.bars[s][closed].Final)
	require.False(t, b.store.bars[s][forming].Final)

	// The same instant polled again changes nothing, and the closed bar,
	// stored final, is not even written again.
	res, err = b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, Written{Unchanged: 2}, res.Written)
	require.Equal(t, 3, b.store.sent)

	// The forming bar moves as a live bar moves: an update, not a revision.
	b.clk.Advance(20 * time.Second)
	res, err = b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Written.Updated)
	require.Zero(t, res.Revisions)

	// Next minute: the bar that was forming comes back closed, with its final values.
	b.clk.Advance(40 * time.Second)
	res, err = b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Gaps)
	require.True(t, b.store.bars[s][forming].Final)
	require.True(t, b.store.bars[s][forming].SameValues(barAsOf(forming, forming.Add(time.Minute))))
	require.NotEmpty(t, b.poller.Freshness()[s])

	// A restarted poller knows from the database which bars are stored final.
	sent := b.store.sent
	p2, err := New(b.poller.cfg)
	require.NoError(t, err)
	require.NoError(t, p2.Init(ctx))
	_, err = p2.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, sent+1, b.store.sent, "only the forming bar")
}

func TestGapHandedToBackfill(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT")
	s := b.series[0]
	last := t0.Truncate(time.Minute).Add(-time.Hour)
	b.store.bars[s] = map[time.Time]Candle{last: {Bar: barAsOf(last, t0), Final: true}}
	ctx := context.Background()
	require.NoError(t, b.poller.Init(ctx))
	res, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Gaps)
	require.Equal(t, []heal{{s, last, t0.Truncate(time.Minute).Add(-time.Minute)}}, b.healer.heals)
	// The gap is stored with the bars that open it: a stop before the heal
	// must not forget it, since those bars move the head past it.
	require.Equal(t, []Gap{{Series: s, From: last, To: t0.Truncate(time.Minute).Add(-time.Minute)}}, b.store.gaps)
}

func TestUnsettledFormingBarIsHealed(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT")
	ctx := context.Background()
	require.NoError(t, b.poller.Init(ctx))
	_, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	// Two minutes pass between polls: the bar that was forming is never seen closed.
	b.clk.Advance(2 * time.Minute)
	res, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Gaps)
	closed := t0.Truncate(time.Minute).Add(-time.Minute)
	require.Equal(t, closed, b.healer.heals[0].from)
}

func TestClosedMarketNotPolledAndNotAGap(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketUS, "AAPL.US")
	s := b.series[0]
	// Friday 20:59 UTC: the last bar of the session is stored as final.
	fri := time.Date(2026, 11, 20, 20, 59, 0, 0, time.UTC)
	b.store.bars[s] = map[time.Time]Candle{fri: {Bar: barAsOf(fri, fri.Add(time.Minute)), Final: true}}
	ctx := context.Background()
	require.NoError(t, b.poller.Init(ctx))
	// Saturday: polled once to settle, then not again.
	b.clk.Set(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	b.vendor.closedAt = fri.Add(time.Minute)
	res, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Requests)
	res, err = b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Requests)
	require.Equal(t, 1, res.Skipped)

	// Monday's open: the bars jump from Friday's close, which is not a gap.
	b.poller.mu.Lock()
	b.poller.heads[s] = []Candle{{Bar: barAsOf(fri, fri.Add(time.Minute)), Final: true}}
	b.poller.mu.Unlock()
	b.clk.Set(time.Date(2026, 11, 23, 14, 31, 10, 0, time.UTC))
	b.vendor.closedAt = time.Time{}
	res, err = b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Requests)
	require.Zero(t, res.Gaps)
	require.Empty(t, b.healer.heals)
}

func TestRevisionCountedAndWritten(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT")
	ctx := context.Background()
	require.NoError(t, b.poller.Init(ctx))
	_, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	closed := t0.Truncate(time.Minute).Add(-time.Minute)
	revised := barAsOf(closed, t0)
	revised.Close = revised.High // a different, still valid close
	b.vendor.override = map[time.Time]vendor.Bar{closed: revised}
	res, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Revisions)
	require.Equal(t, 1, res.Written.Updated)
	require.True(t, b.store.bars[b.series[0]][closed].SameValues(revised))
}

func TestInvalidSeriesDropped(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT", "NOPE")
	b.vendor.invalid = map[vendor.Series]bool{b.series[1]: true}
	ctx := context.Background()
	_, err := b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Contains(t, b.poller.Invalid(), b.series[1])
	_, err = b.poller.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, []vendor.Series{b.series[0]}, b.vendor.calls[1])
}

func TestPartialLatestResultApplied(t *testing.T) {
	t.Parallel()
	b := setup(t, vendor.MarketCrypto, "BTCUSDT", "NOPE")
	b.vendor.invalid = map[vendor.Series]bool{b.series[1]: true}
	b.vendor.failing = map[vendor.Series]bool{b.series[0]: true}
	ctx := context.Background()
	require.NoError(t, b.poller.Init(ctx))
	// One sub-request failed and the other found a bad code: the error is
	// reported, and the verdict it paid for is kept.
	_, err := b.poller.Tick(ctx)
	require.ErrorIs(t, err, vendor.ErrTransient)
	require.Contains(t, b.poller.Invalid(), b.series[1])

	// Now the bad code is known and another series fails: its bars still land.
	c := setup(t, vendor.MarketCrypto, "BTCUSDT", "ETHUSDT")
	c.vendor.failing = map[vendor.Series]bool{c.series[1]: true}
	require.NoError(t, c.poller.Init(ctx))
	res, err := c.poller.Tick(ctx)
	require.ErrorIs(t, err, vendor.ErrTransient)
	require.Equal(t, 2, res.Written.Inserted)
	require.Len(t, c.store.bars[c.series[0]], 2)
	require.Equal(t, 1, res.Missing)
	require.NotEmpty(t, c.poller.Freshness()[c.series[0]])
}

func TestPack(t *testing.T) {
	t.Parallel()
	mk := func(sym string, tf vendor.Timeframe) vendor.Series {
		return vendor.Series{Vendor: "v", Symbol: sym, Timeframe: tf}
	}
	series := make([]vendor.Series, 0, 14)
	caps := map[vendor.Series]vendor.Capabilities{}
	for i := range 7 {
		for _, tf := range []vendor.Timeframe{vendor.TF1m, vendor.TF1h} {
			s := mk(string(rune('A'+i)), tf)
			series = append(series, s)
			key := "US"
			if i >= 5 {
				key = "HK"
			}
			caps[s] = vendor.Capabilities{BatchMax: 100, BatchOneTimeframe: true, BatchKey: key}
		}
	}
	reqs, err := Pack(series, caps, 3)
	require.NoError(t, err)
	// HK: 2 series per timeframe → 1 request each; US: 5 per timeframe → 2 each.
	require.Len(t, reqs, 6)
	seen := map[vendor.Series]int{}
	for _, r := range reqs {
		require.LessOrEqual(t, len(r), 3)
		key, tf := caps[r[0]].BatchKey, r[0].Timeframe
		for _, s := range r {
			seen[s]++
			require.Equal(t, key, caps[s].BatchKey)
			require.Equal(t, tf, s.Timeframe)
		}
	}
	require.Len(t, seen, len(series))
	for _, n := range seen {
		require.Equal(t, 1, n)
	}
	require.Equal(t, 18*time.Second, RefreshPeriod(reqs, 3*time.Second))

	_, err = Pack([]vendor.Series{mk("X", vendor.TF1m)}, caps, 0)
	require.Error(t, err)
}

func TestPlanWarnsWhenRotationIsSlowerThanBars(t *testing.T) {
	t.Parallel()
	series := make([]vendor.Series, 0, 50)
	caps := map[vendor.Series]vendor.Capabilities{}
	for i := range 50 {
		s := vendor.Series{Vendor: "v", Symbol: string(rune('A' + i)), Timeframe: vendor.TF1m}
		series = append(series, s)
		caps[s] = vendor.Capabilities{BatchMax: 5}
	}
	p, err := New(Config{Client: &fakeLatest{}, Store: &memStore{}, Series: series, Caps: caps, Interval: 10 * time.Second})
	require.NoError(t, err)
	n, period, slow := p.Plan()
	require.Equal(t, 10, n)
	require.Equal(t, 100*time.Second, period)
	require.True(t, slow)
}
