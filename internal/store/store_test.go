package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/incremental"
	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/vendor"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ser = vendor.Series{Vendor: "alltick", Symbol: "BTCUSDT", Timeframe: vendor.TF1m}

// newStore opens a migrated store on a fresh schema.
func newStore(t *testing.T) *Store {
	t.Helper()
	s := openStore(t, pgtest.Schema(t))
	_, err := s.Migrate(context.Background())
	require.NoError(t, err)
	return s
}

func openStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: url})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

func mkBar(t time.Time, i int) vendor.Bar {
	p := int64(8928717000000 + i*100)
	return vendor.Bar{Time: t, Open: decimal.New(p, 8), High: decimal.New(p+500, 8), Low: decimal.New(p-500, 8),
		Close: decimal.New(p+100, 8), Volume: decimal.New(int64(i)+1, 8), Turnover: decimal.Null{Decimal: decimal.New(int64(i)*7, 2), Valid: i%2 == 0}}
}

func page(start time.Time, n int) []backfill.Candle {
	out := make([]backfill.Candle, n)
	for i := range n {
		out[i] = backfill.Candle{Bar: mkBar(start.Add(time.Duration(i)*time.Minute), i), Final: true}
	}
	return out
}

func count(t *testing.T, s *Store, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestMigrateIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	a, b := openStore(t, url), openStore(t, url)
	files, err := migrationFiles()
	require.NoError(t, err)
	var wg sync.WaitGroup
	applied := make([]int, 2)
	errs := make([]error, 2)
	for i, s := range []*Store{a, b} {
		wg.Go(func() { applied[i], errs[i] = s.Migrate(context.Background()) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, len(files), applied[0]+applied[1], "each migration applied exactly once")
	n, err := a.Migrate(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)
	ok, err := a.Migrated(context.Background())
	require.NoError(t, err)
	require.True(t, ok)
}

func TestPartitionsOnDemandFrom2015ToNextMonth(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	partitioned, err := s.isPartitioned(ctx)
	require.NoError(t, err)
	if !partitioned {
		t.Skip("candles is a TimescaleDB hypertable in this image: chunks are TimescaleDB's")
	}
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	end := monthStart(time.Now()).AddDate(0, 1, 0)
	var bars []backfill.Candle
	months := 0
	for m := start; !m.After(end); m = m.AddDate(0, 1, 0) {
		bars = append(bars, backfill.Candle{Bar: mkBar(m.Add(90*time.Minute), months), Final: true})
		months++
	}
	w, err := s.Commit(ctx, backfill.Commit{Series: ser, Bars: bars})
	require.NoError(t, err)
	require.Equal(t, months, w.Inserted)
	require.Equal(t, months, count(t, s, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'candles'::regclass`))
	require.Equal(t, 0, count(t, s, `SELECT count(*) FROM pg_partitioned_table WHERE partrelid = 'candles'::regclass AND partdefid <> 0`),
		"no DEFAULT partition")
	require.Equal(t, months, count(t, s, `SELECT count(*) FROM candles`))

	// A second store (another process) learns existing partitions and writes on.
	other := openStore(t, s.pool.Config().ConnString())
	_, err = other.Commit(ctx, backfill.Commit{Series: ser, Bars: page(end.Add(time.Hour), 3)})
	require.NoError(t, err)
}

func TestSameBatchTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	bars := page(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), 500)
	w, err := s.Commit(ctx, backfill.Commit{Series: ser, Bars: bars})
	require.NoError(t, err)
	require.Equal(t, backfill.Written{Inserted: 500}, w)
	var before time.Time
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT max(updated_at) FROM candles`).Scan(&before))

	w, err = s.Commit(ctx, backfill.Commit{Series: ser, Bars: bars})
	require.NoError(t, err)
	require.Equal(t, backfill.Written{Unchanged: 500}, w)
	var after time.Time
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT max(updated_at) FROM candles`).Scan(&after))
	require.Equal(t, before, after, "updated_at untouched by an unchanged write")

	bars[42].Close = bars[42].High
	w, err = s.Commit(ctx, backfill.Commit{Series: ser, Bars: bars})
	require.NoError(t, err)
	require.Equal(t, backfill.Written{Updated: 1, Unchanged: 499}, w)
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM candles WHERE updated_at > $1`, before))

	// A final bar never becomes forming again.
	bars[0].Final = false
	w, err = s.Commit(ctx, backfill.Commit{Series: ser, Bars: bars[:1]})
	require.NoError(t, err)
	require.Equal(t, backfill.Written{Unchanged: 1}, w)
	require.Equal(t, 500, count(t, s, `SELECT count(*) FROM candles WHERE is_final`))
}

func TestExactDecimalsRoundTrip(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	ts := time.Date(2026, 1, 21, 10, 46, 0, 0, time.UTC)
	b := vendor.Bar{Time: ts, Open: decimal.MustParse("89287.17000000"), High: decimal.MustParse("89287.17000000"),
		Low: decimal.MustParse("0.00000001"), Close: decimal.MustParse("0.00000001"), Volume: decimal.MustParse("0.99173000"),
		Turnover: decimal.Null{Decimal: decimal.MustParse("123456789012345678901234.5678"), Valid: true}}
	for _, fast := range []bool{false, true} {
		sr := ser
		if fast {
			sr.Symbol = "FAST"
		}
		_, err := s.Commit(ctx, backfill.Commit{Series: sr, Bars: []backfill.Candle{{Bar: b, Final: true}}, AllNew: fast})
		require.NoError(t, err)
		var o, h, l, c, v, tu string
		require.NoError(t, s.pool.QueryRow(ctx, `SELECT open::text, high::text, low::text, close::text, volume::text, turnover::text
FROM candles WHERE symbol = $1`, sr.Symbol).Scan(&o, &h, &l, &c, &v, &tu))
		require.Equal(t, []string{"89287.17000000", "89287.17000000", "0.00000001", "0.00000001", "0.99173000", "123456789012345678901234.5678"},
			[]string{o, h, l, c, v, tu})
		recent, err := s.RecentBars(ctx, []vendor.Series{sr}, 2)
		require.NoError(t, err)
		require.True(t, recent[sr][0].SameValues(b))
	}
}

func TestBarsAndStateCommitTogether(t *testing.T) {
	t.Parallel()
	for _, fast := range []bool{false, true} {
		t.Run(fmt.Sprintf("Fast%v", fast), func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			ctx := context.Background()
			injected := errors.New("injected failure after the bars were sent")
			s.failAfterBars = func() error { return injected }
			_, err := s.Commit(ctx, backfill.Commit{Series: ser, Bars: page(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 500), AllNew: fast,
				Coverage: []backfill.Coverage{{From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), State: backfill.CoverageFetched}}})
			require.ErrorIs(t, err, injected)
			require.Zero(t, count(t, s, `SELECT count(*) FROM candles`))
			require.Zero(t, count(t, s, `SELECT count(*) FROM sync_state`))
			require.Zero(t, count(t, s, `SELECT count(*) FROM coverage`))
			st, err := s.SeriesState(ctx, ser)
			require.NoError(t, err)
			require.False(t, st.HasData())
		})
	}
}

func TestFastPathAgreesWithUpsert(t *testing.T) {
	t.Parallel()
	a, b := newStore(t), newStore(t)
	ctx := context.Background()
	bars := page(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), 500)
	wa, err := a.Commit(ctx, backfill.Commit{Series: ser, Bars: bars, AllNew: true})
	require.NoError(t, err)
	wb, err := b.Commit(ctx, backfill.Commit{Series: ser, Bars: bars})
	require.NoError(t, err)
	require.Equal(t, wa, wb)
	dump := func(s *Store) []string {
		rows, err := s.pool.Query(ctx, `SELECT concat_ws('|', vendor, symbol, timeframe, ts, open, high, low, close, volume, turnover, is_final) FROM candles ORDER BY ts`)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	require.Equal(t, dump(a), dump(b))

	// The fast path meeting an existing row (a retried commit that had landed)
	// falls back to the idempotent upsert.
	w, err := a.Commit(ctx, backfill.Commit{Series: ser, Bars: bars, AllNew: true})
	require.NoError(t, err)
	require.Equal(t, backfill.Written{Unchanged: 500}, w)
}

func TestStateGapsAndCoverage(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	_, err := s.Commit(ctx, backfill.Commit{Series: ser, Bars: page(t0, 10),
		Coverage: []backfill.Coverage{{From: t0, To: t0.Add(10 * time.Minute), State: backfill.CoverageFetched}},
		OpenGap:  &backfill.Gap{From: t0.Add(-time.Hour), To: t0}})
	require.NoError(t, err)
	_, err = s.Commit(ctx, backfill.Commit{Series: ser, Bars: page(t0.Add(-10*time.Minute), 10),
		Coverage: []backfill.Coverage{{From: t0.Add(-10 * time.Minute), To: t0, State: backfill.CoverageFetched}},
		GapFrom:  t0.Add(-time.Hour), MoveGap: true, GapTo: t0.Add(-10 * time.Minute),
		Quarantine: []backfill.Quarantined{{Time: t0, Reason: "ohlc: high < low", Raw: []byte(`{"high":"1"}`)}}})
	require.NoError(t, err)
	st, err := s.SeriesState(ctx, ser)
	require.NoError(t, err)
	require.Equal(t, t0.Add(-10*time.Minute), st.Oldest.UTC())
	require.Equal(t, t0.Add(9*time.Minute), st.Newest.UTC())
	require.Equal(t, []backfill.Gap{{From: t0.Add(-time.Hour), To: t0.Add(-10 * time.Minute)}}, utcGaps(st.Gaps))
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM coverage`), "adjacent fetched ranges merge")
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM quarantine WHERE reason LIKE 'ohlc:%'`))

	_, err = s.Commit(ctx, backfill.Commit{Series: ser, GapFrom: t0.Add(-time.Hour), CloseGap: true, Exhausted: true, ExhaustedAt: t0,
		Coverage: []backfill.Coverage{{From: t0.Add(-48 * time.Hour), To: t0.Add(-10 * time.Minute), State: backfill.CoverageUnavailable, Error: "cannot page back"}}})
	require.NoError(t, err)
	st, err = s.SeriesState(ctx, ser)
	require.NoError(t, err)
	require.Empty(t, st.Gaps)
	require.True(t, st.Exhausted)

	for range 2 {
		_, err = s.Commit(ctx, backfill.Commit{Series: ser, Coverage: []backfill.Coverage{{From: t0, To: t0.Add(time.Hour), State: backfill.CoverageFailed, Error: "HTTP 503"}}})
		require.NoError(t, err)
	}
	require.Equal(t, 2, count(t, s, `SELECT attempts FROM coverage WHERE state = 'failed'`))
	require.Equal(t, 1, count(t, s, `SELECT count(*) FROM sync_state WHERE last_error = 'HTTP 503'`))
}

func utcGaps(gs []backfill.Gap) []backfill.Gap {
	for i := range gs {
		gs[i].From, gs[i].To = gs[i].From.UTC(), gs[i].To.UTC()
	}
	return gs
}

func TestLiveWrites(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	other := vendor.Series{Vendor: "alltick", Symbol: "ETHUSDT", Timeframe: vendor.TF1m}
	w := incremental.Write{Bars: map[vendor.Series][]incremental.Candle{
		ser:   {{Bar: mkBar(t0, 1), Final: true}, {Bar: mkBar(t0.Add(time.Minute), 2)}},
		other: {{Bar: mkBar(t0, 3), Final: true}, {Bar: mkBar(t0.Add(time.Minute), 4)}},
	}, Quarantine: []incremental.Quarantined{{Series: other, Reason: "decode: bad number", Raw: []byte("{")}}}
	res, err := s.WriteLive(ctx, w)
	require.NoError(t, err)
	require.Equal(t, incremental.Written{Inserted: 4}, res)
	res, err = s.WriteLive(ctx, w)
	require.NoError(t, err)
	require.Equal(t, incremental.Written{Unchanged: 4}, res)
	recent, err := s.RecentBars(ctx, []vendor.Series{ser, other}, 1)
	require.NoError(t, err)
	require.Len(t, recent[ser], 1)
	require.Equal(t, t0.Add(time.Minute), recent[ser][0].Time.UTC())
	require.False(t, recent[ser][0].Final)
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM sync_state WHERE live_confirmed_at IS NOT NULL`))
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM quarantine`), "each write quarantines what it received")

	// A head gap the poller found commits with the bars that open it.
	later := t0.Add(time.Hour)
	w = incremental.Write{Bars: map[vendor.Series][]incremental.Candle{ser: {{Bar: mkBar(later, 5), Final: true}}},
		Gaps: []incremental.Gap{{Series: ser, From: t0.Add(time.Minute), To: later}}}
	_, err = s.WriteLive(ctx, w)
	require.NoError(t, err)
	st, err := s.SeriesState(ctx, ser)
	require.NoError(t, err)
	require.Len(t, st.Gaps, 1)
	require.True(t, st.Gaps[0].From.Equal(t0.Add(time.Minute)))
	require.True(t, st.Gaps[0].To.Equal(later))
}

func TestQuotaReservationIsAtomic(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := s.ReserveQuota(ctx, "alltick", "abcd", day, 5)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	got, err := s.QuotaReserved(ctx, "alltick", "abcd", day)
	require.NoError(t, err)
	require.EqualValues(t, 100, got)
	got, err = s.QuotaReserved(ctx, "alltick", "abcd", day.AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Zero(t, got)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	_, err := s.Commit(ctx, backfill.Commit{Series: ser, Bars: page(t0, 10), Exhausted: true, ExhaustedAt: t0,
		Coverage: []backfill.Coverage{{From: t0.Add(-time.Hour), To: t0, State: backfill.CoverageUnavailable, Error: "cannot page back"}},
		OpenGap:  &backfill.Gap{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}})
	require.NoError(t, err)
	_, err = s.ReserveQuota(ctx, "alltick", "fp", t0, 20)
	require.NoError(t, err)
	// Yesterday's row, exhausted: not today's, so not shown.
	require.NoError(t, s.SetQuotaDay(ctx, quota.Day{Vendor: "alltick", KeyFingerprint: "fp", Plan: "free", DayStart: t0.Add(-24 * time.Hour),
		ResetsAt: t0, Cap: 1000, ExhaustedUntil: t0}))
	// Today's: the governor records the cap and the reset, keeping the count.
	reset := t0.Add(24 * time.Hour)
	require.NoError(t, s.SetQuotaDay(ctx, quota.Day{Vendor: "alltick", KeyFingerprint: "fp", Plan: "free", DayStart: t0, ResetsAt: reset, Cap: 1000}))
	r, err := s.Status(ctx, t0.Add(3*time.Hour))
	require.NoError(t, err)
	require.Len(t, r.Series, 1)
	got := r.Series[0]
	require.EqualValues(t, 10, got.Bars)
	require.True(t, got.Exhausted)
	require.Len(t, got.OpenGaps, 1)
	require.Len(t, got.Unavailable, 1)
	require.Equal(t, "cannot page back", got.Unavailable[0].Reason)
	require.Len(t, r.Quota, 1)
	q := r.Quota[0]
	require.EqualValues(t, 20, q.Used)
	require.EqualValues(t, 1000, q.Cap)
	require.Equal(t, "free", q.Plan)
	require.Equal(t, reset, q.ResetsAt.UTC())
	require.Nil(t, q.ExhaustedUntil)

	// The cap runs out: status says until when, and the count stays.
	require.NoError(t, s.SetQuotaDay(ctx, quota.Day{Vendor: "alltick", KeyFingerprint: "fp", Plan: "free", DayStart: t0, ResetsAt: reset,
		Cap: 1000, ExhaustedUntil: reset}))
	r, err = s.Status(ctx, t0.Add(3*time.Hour))
	require.NoError(t, err)
	require.Len(t, r.Quota, 1)
	require.EqualValues(t, 20, r.Quota[0].Used)
	require.Equal(t, reset, r.Quota[0].ExhaustedUntil.UTC())
}

func TestCommitManyIsOneTransaction(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	eth := vendor.Series{Vendor: "alltick", Symbol: "ETHUSDT", Timeframe: vendor.TF1m}
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	pages := []backfill.Commit{
		{Series: ser, Bars: page(t0, 500), AllNew: true},
		{Series: eth, Bars: page(t0, 500), AllNew: true},
	}
	injected := errors.New("injected")
	s.failAfterBars = func() error { return injected }
	_, err := s.CommitMany(ctx, pages)
	require.ErrorIs(t, err, injected)
	require.Zero(t, count(t, s, `SELECT count(*) FROM candles`), "neither page committed")
	s.failAfterBars = nil
	ws, err := s.CommitMany(ctx, pages)
	require.NoError(t, err)
	require.Equal(t, []backfill.Written{{Inserted: 500}, {Inserted: 500}}, ws)
	require.Equal(t, 2, count(t, s, `SELECT count(*) FROM sync_state`))
	// A retried group whose first commit landed falls back to the upsert.
	ws, err = s.CommitMany(ctx, pages)
	require.NoError(t, err)
	require.Equal(t, []backfill.Written{{Unchanged: 500}, {Unchanged: 500}}, ws)
}

// A bar's writes can land out of order (a heal page fetched while the bar
// formed commits after the poll that saw it newer or final): older values
// must never replace newer ones.
func TestStaleFormingSnapshotsDoNotOverwrite(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	snap := func(vol int64, final bool) incremental.Write {
		b := mkBar(t0, 1)
		b.Volume = decimal.New(vol, 0)
		return incremental.Write{Bars: map[vendor.Series][]incremental.Candle{ser: {{Bar: b, Final: final}}}}
	}
	stored := func() (string, bool) {
		var vol string
		var final bool
		require.NoError(t, s.pool.QueryRow(ctx, `SELECT volume::text, is_final FROM candles WHERE ts = $1`, t0).Scan(&vol, &final))
		return vol, final
	}
	write := func(w incremental.Write) incremental.Written {
		res, err := s.WriteLive(ctx, w)
		require.NoError(t, err)
		return res
	}

	require.Equal(t, incremental.Written{Inserted: 1}, write(snap(5, false)))
	require.Equal(t, incremental.Written{Updated: 1}, write(snap(7, false)), "a newer forming snapshot replaces")
	require.Equal(t, incremental.Written{Unchanged: 1}, write(snap(6, false)), "an older forming snapshot does not")
	vol, final := stored()
	require.Equal(t, "7", vol)
	require.False(t, final)

	require.Equal(t, incremental.Written{Updated: 1}, write(snap(9, true)), "the final bar replaces")
	require.Equal(t, incremental.Written{Unchanged: 1}, write(snap(8, false)), "a forming snapshot never replaces a final bar")
	require.Equal(t, incremental.Written{Unchanged: 1}, write(snap(10, false)), "not even one with more volume")
	vol, final = stored()
	require.Equal(t, "9", vol)
	require.True(t, final)

	require.Equal(t, incremental.Written{Updated: 1}, write(snap(4, true)), "a vendor's revision of a final bar is stored")
	vol, final = stored()
	require.Equal(t, "4", vol)
	require.True(t, final)
}
