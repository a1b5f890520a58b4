package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/incremental"
	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/vendor"
)

// benchStore opens a migrated store in a schema of its own, with partitions
// for b.N pages of 500 1m bars from the returned start; Close is registered.
func benchStore(b *testing.B) (*Store, time.Time) {
	b.Helper()
	s, err := Open(context.Background(), Config{URL: pgtest.Schema(b)})
	require.NoError(b, err)
	b.Cleanup(s.Close)
	ctx := context.Background()
	_, err = s.Migrate(ctx)
	require.NoError(b, err)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(b, s.EnsurePartitions(ctx, start, start.Add(time.Duration(b.N*500+500)*time.Minute)))
	return s, start
}

// benchPages writes b.N pages of 500 new 1m bars, each page in its own
// transaction, with the mechanism chosen. Figures go in docs/storage.md.
func benchPages(b *testing.B, write func(ctx context.Context, s *Store, c backfill.Commit) error) {
	b.Helper()
	s, start := benchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		c := backfill.Commit{Series: ser, Bars: page(start.Add(time.Duration(i*500)*time.Minute), 500)}
		if err := write(ctx, s, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "bars/s")
}

func BenchmarkWritePage500(b *testing.B) {
	b.Run("UpsertUnnest", func(b *testing.B) {
		benchPages(b, func(ctx context.Context, s *Store, c backfill.Commit) error {
			_, err := s.Commit(ctx, c)
			return err
		})
	})
	b.Run("CopyTempThenMerge", func(b *testing.B) {
		benchPages(b, func(ctx context.Context, s *Store, c backfill.Commit) error {
			return s.tx(ctx, "bench", func(tx pgx.Tx) error { return tempMerge(ctx, tx, c) })
		})
	})
	b.Run("CopyFastPath", func(b *testing.B) {
		benchPages(b, func(ctx context.Context, s *Store, c backfill.Commit) error {
			c.AllNew = true
			_, err := s.Commit(ctx, c)
			return err
		})
	})
	b.Run("UpsertUnchanged", func(b *testing.B) {
		var first []backfill.Candle
		benchPages(b, func(ctx context.Context, s *Store, c backfill.Commit) error {
			if first == nil {
				first = c.Bars
			}
			c.Bars = first // the same page again: the poller's common case
			_, err := s.Commit(ctx, c)
			return err
		})
	})
}

// tempMerge is the mechanism the store measured against and did not take:
// binary COPY into a session temp table, then one merge statement.
func tempMerge(ctx context.Context, tx pgx.Tx, c backfill.Commit) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS stage (LIKE candles INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	rows := make([]Row, len(c.Bars))
	for i, cb := range c.Bars {
		rows[i] = Row{Series: c.Series, Bar: cb.Bar, Final: cb.Final}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage"}, candleColumns, copySource(rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO candles AS c (vendor, symbol, timeframe, ts, open, high, low, close, volume, turnover, is_final)
SELECT vendor, symbol, timeframe, ts, open, high, low, close, volume, turnover, is_final FROM stage
ON CONFLICT (vendor, symbol, timeframe, ts) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
    close = excluded.close, volume = excluded.volume, turnover = excluded.turnover, is_final = c.is_final OR excluded.is_final,
    updated_at = clock_timestamp()
WHERE (c.open, c.high, c.low, c.close, c.volume, c.turnover) IS DISTINCT FROM
      (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.turnover)
   OR (excluded.is_final AND NOT c.is_final)
RETURNING c.updated_at = now()`)
	return err
}

// BenchmarkCommitMany8 is deep backfill's group commit: eight fast-path pages
// of different series in one transaction, as backfill.Run batches them.
func BenchmarkCommitMany8(b *testing.B) {
	s, start := benchStore(b)
	ctx := context.Background()
	series := make([]vendor.Series, 8)
	for i := range series {
		series[i] = vendor.Series{Vendor: "alltick", Symbol: fmt.Sprintf("B%dUSDT", i), Timeframe: vendor.TF1m}
	}
	b.ResetTimer()
	for i := range b.N {
		cs := make([]backfill.Commit, len(series))
		for j, sr := range series {
			cs[j] = backfill.Commit{Series: sr, AllNew: true, Bars: page(start.Add(time.Duration(i*500)*time.Minute), 500)}
		}
		if _, err := s.CommitMany(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*8*500)/b.Elapsed().Seconds(), "bars/s")
}

// BenchmarkWriteLive500 is the poll tick's write: the closed and the forming
// bar of 500 series in one transaction, the forming one changed every time.
func BenchmarkWriteLive500(b *testing.B) {
	s, _ := benchStore(b)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	write := func(i int) incremental.Write {
		w := incremental.Write{Bars: map[vendor.Series][]incremental.Candle{}}
		for j := range 500 {
			sr := vendor.Series{Vendor: "alltick", Symbol: fmt.Sprintf("B%03dUSDT", j), Timeframe: vendor.TF1m}
			w.Bars[sr] = []incremental.Candle{{Bar: mkBar(at, 0), Final: true}, {Bar: mkBar(at.Add(time.Minute), i%7)}}
		}
		return w
	}
	_, err := s.WriteLive(ctx, write(0))
	require.NoError(b, err)
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.WriteLive(ctx, write(i+1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "bars/s")
}
