package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/failpoint"
	"github.com/syncd/syncd/internal/vendor"
)

// Row is one bar to write.
type Row struct {
	Series vendor.Series
	Bar    vendor.Bar
	Final  bool
}

// Counts reports what a write did to candles.
type Counts struct {
	Inserted, Updated, Unchanged int
}

var candleColumns = []string{"vendor", "symbol", "timeframe", "ts", "open", "high", "low", "close", "volume", "turnover", "is_final"}

// upsertSQL inserts new bars and updates only rows whose values changed, so a
// re-poll that changes nothing writes nothing and updated_at stays put; a bar
// once final stays final.
//
// Writes of one bar can arrive out of order: a heal's history page fetched
// while the bar was forming may commit after the poll that saw it newer, or
// final. So a forming snapshot never replaces a final bar, nor a forming one
// with more volume (a live bar's volume only grows): either would put older
// values over newer ones. A final bar still replaces anything, so a vendor's
// revision of a closed bar is stored.
//
// One INSERT … SELECT FROM unnest(typed arrays) measured fastest on 500-bar
// pages (docs/storage.md). Inserted and updated rows are told apart without
// xmax, which a partitioned table cannot return: an insert takes updated_at's
// default now(), the transaction's start, while an update sets
// clock_timestamp(), which is always later.
const upsertSQL = `
INSERT INTO candles AS c (vendor, symbol, timeframe, ts, open, high, low, close, volume, turnover, is_final)
SELECT v, s, tf, t, o, h, l, cl, vol, tu, f FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::numeric[], $6::numeric[],
                     $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::boolean[])
     AS u(v, s, tf, t, o, h, l, cl, vol, tu, f)
ON CONFLICT (vendor, symbol, timeframe, ts) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    volume = excluded.volume, turnover = excluded.turnover,
    is_final = c.is_final OR excluded.is_final, updated_at = clock_timestamp()
WHERE ((c.open, c.high, c.low, c.close, c.volume, c.turnover) IS DISTINCT FROM
       (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.turnover)
       AND (excluded.is_final OR (NOT c.is_final AND excluded.volume >= c.volume)))
   OR (excluded.is_final AND NOT c.is_final)
RETURNING c.updated_at = now()`

// dedupe keeps the last row of each key: one statement may not touch a row twice.
func dedupe(rows []Row) []Row {
	type key struct {
		s vendor.Series
		t int64
	}
	seen := make(map[key]int, len(rows))
	out := rows[:0:0]
	for _, r := range rows {
		k := key{r.Series, r.Bar.Time.UnixNano()}
		if i, ok := seen[k]; ok {
			out[i] = r
			continue
		}
		seen[k] = len(out)
		out = append(out, r)
	}
	return out
}

func (s *Store) upsertRows(ctx context.Context, tx pgx.Tx, rows []Row) (Counts, error) {
	rows = dedupe(rows)
	n := len(rows)
	if n == 0 {
		return Counts{}, nil
	}
	vendors, symbols, tfs := make([]string, n), make([]string, n), make([]string, n)
	ts := make([]time.Time, n)
	o, h, l, c, v := make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	tu := make([]decimal.Null, n)
	fin := make([]bool, n)
	for i, r := range rows {
		vendors[i], symbols[i], tfs[i] = r.Series.Vendor, r.Series.Symbol, string(r.Series.Timeframe)
		ts[i] = r.Bar.Time.UTC()
		o[i], h[i], l[i], c[i], v[i], tu[i] = r.Bar.Open, r.Bar.High, r.Bar.Low, r.Bar.Close, r.Bar.Volume, r.Bar.Turnover
		fin[i] = r.Final
	}
	res, err := tx.Query(ctx, upsertSQL, vendors, symbols, tfs, ts, o, h, l, c, v, tu, fin)
	if err != nil {
		return Counts{}, fmt.Errorf("upsert candles: %w", err)
	}
	inserted, err := pgx.CollectRows(res, pgx.RowTo[bool])
	if err != nil {
		return Counts{}, fmt.Errorf("upsert candles: %w", err)
	}
	failpoint.Hit(failpoint.DuringWrite)
	var cnt Counts
	for _, ins := range inserted {
		if ins {
			cnt.Inserted++
		} else {
			cnt.Updated++
		}
	}
	cnt.Unchanged = n - len(inserted)
	return cnt, nil
}

// copySource hands pgx one reused row of values (pgx encodes each row before
// asking for the next): prices as pointers, which decimal's codec encodes
// without boxing a copy, and the series' texts boxed once per run of rows of
// the same series. What is left is one boxed time per row.
func copySource(rows []Row) pgx.CopyFromSource {
	vals := make([]any, len(candleColumns))
	var last vendor.Series
	return pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		if i == 0 || r.Series != last {
			last = r.Series
			vals[0], vals[1], vals[2] = r.Series.Vendor, r.Series.Symbol, string(r.Series.Timeframe)
		}
		vals[3] = r.Bar.Time.UTC()
		vals[4], vals[5], vals[6], vals[7] = &r.Bar.Open, &r.Bar.High, &r.Bar.Low, &r.Bar.Close
		vals[8], vals[9], vals[10] = &r.Bar.Volume, &r.Bar.Turnover, r.Final
		return vals, nil
	})
}

// copyRows inserts rows that cannot conflict with binary COPY, the fastest
// way into PostgreSQL. A conflict (the caller's promise broken, or a retried
// transaction whose first commit did land) fails with a unique violation.
func (s *Store) copyRows(ctx context.Context, tx pgx.Tx, rows []Row) (Counts, error) {
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"candles"}, candleColumns, copySource(rows))
	if err != nil {
		return Counts{}, fmt.Errorf("copy candles: %w", err)
	}
	failpoint.Hit(failpoint.DuringWrite)
	return Counts{Inserted: int(n)}, nil
}

// span returns the oldest and newest bar times.
func span(rows []Row) (oldest, newest time.Time) {
	for i, r := range rows {
		if i == 0 || r.Bar.Time.Before(oldest) {
			oldest = r.Bar.Time
		}
		if i == 0 || r.Bar.Time.After(newest) {
			newest = r.Bar.Time
		}
	}
	return oldest, newest
}

// Quarantined is a rejected element for the quarantine table.
type Quarantined struct {
	Series vendor.Series
	Time   time.Time // zero when unknown
	Reason string
	Raw    []byte
}

func insertQuarantine(ctx context.Context, tx pgx.Tx, q []Quarantined) error {
	if len(q) == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"quarantine"}, []string{"vendor", "symbol", "timeframe", "ts", "reason", "payload"},
		pgx.CopyFromSlice(len(q), func(i int) ([]any, error) {
			r := q[i]
			var ts *time.Time
			if !r.Time.IsZero() {
				t := r.Time.UTC()
				ts = &t
			}
			return []any{r.Series.Vendor, nullIfEmpty(r.Series.Symbol), nullIfEmpty(string(r.Series.Timeframe)), ts, r.Reason, string(r.Raw)}, nil
		}))
	if err != nil {
		return fmt.Errorf("insert quarantine: %w", err)
	}
	return nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// moveFrontiers widens a series' oldest/newest frontiers to include [oldest, newest].
func moveFrontiers(ctx context.Context, tx pgx.Tx, s vendor.Series, oldest, newest time.Time) error {
	_, err := tx.Exec(ctx, `
INSERT INTO sync_state (vendor, symbol, timeframe, oldest_ts, newest_ts) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (vendor, symbol, timeframe) DO UPDATE SET
    oldest_ts = LEAST(sync_state.oldest_ts, excluded.oldest_ts),
    newest_ts = GREATEST(sync_state.newest_ts, excluded.newest_ts),
    updated_at = now()
WHERE sync_state.oldest_ts IS DISTINCT FROM LEAST(sync_state.oldest_ts, excluded.oldest_ts)
   OR sync_state.newest_ts IS DISTINCT FROM GREATEST(sync_state.newest_ts, excluded.newest_ts)`,
		s.Vendor, s.Symbol, string(s.Timeframe), oldest.UTC(), newest.UTC())
	if err != nil {
		return fmt.Errorf("move frontiers: %w", err)
	}
	return nil
}
