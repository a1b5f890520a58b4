package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/incremental"
	"github.com/syncd/syncd/internal/vendor"
)

// RecentBars returns up to n newest stored bars of each series, ascending.
func (s *Store) RecentBars(ctx context.Context, series []vendor.Series, n int) (map[vendor.Series][]incremental.Candle, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	out := map[vendor.Series][]incremental.Candle{}
	if len(series) == 0 {
		return out, nil
	}
	vendors, symbols, tfs := make([]string, len(series)), make([]string, len(series)), make([]string, len(series))
	for i, ser := range series {
		vendors[i], symbols[i], tfs[i] = ser.Vendor, ser.Symbol, string(ser.Timeframe)
	}
	rows, err := s.pool.Query(ctx, `
SELECT q.v, q.s, q.tf, c.ts, c.open, c.high, c.low, c.close, c.volume, c.turnover, c.is_final
FROM unnest($1::text[], $2::text[], $3::text[]) AS q(v, s, tf)
CROSS JOIN LATERAL (
    SELECT ts, open, high, low, close, volume, turnover, is_final FROM candles WHERE vendor = q.v AND symbol = q.s AND timeframe = q.tf ORDER BY ts DESC LIMIT $4
) c ORDER BY q.v, q.s, q.tf, c.ts`, vendors, symbols, tfs, n)
	if err != nil {
		return nil, fmt.Errorf("read recent bars: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ser vendor.Series
		var tf string
		var c incremental.Candle
		if err := rows.Scan(&ser.Vendor, &ser.Symbol, &tf, &c.Time, &c.Open, &c.High, &c.Low, &c.Close, &c.Volume, &c.Turnover, &c.Final); err != nil {
			return nil, fmt.Errorf("read recent bars: %w", err)
		}
		ser.Timeframe = vendor.Timeframe(tf)
		out[ser] = append(out[ser], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read recent bars: %w", err)
	}
	return out, nil
}

// WriteLive upserts the latest bars of many series, moves their frontiers and
// freshness, and quarantines rejects, in one transaction.
func (s *Store) WriteLive(ctx context.Context, w incremental.Write) (incremental.Written, error) {
	var rows []Row
	for ser, cs := range w.Bars {
		for _, c := range cs {
			rows = append(rows, Row{Series: ser, Bar: c.Bar, Final: c.Final})
		}
	}
	if len(rows) > 0 {
		oldest, newest := span(rows)
		if err := s.EnsurePartitions(ctx, oldest, newest); err != nil {
			return incremental.Written{}, err
		}
	}
	q := make([]Quarantined, len(w.Quarantine))
	for i, r := range w.Quarantine {
		q[i] = Quarantined{Series: r.Series, Time: r.Time, Reason: r.Reason, Raw: r.Raw}
	}
	var cnt Counts
	err := s.tx(ctx, "write live bars", func(tx pgx.Tx) error {
		var err error
		if cnt, err = s.upsertRows(ctx, tx, rows); err != nil {
			return err
		}
		if err := liveFrontiers(ctx, tx, w); err != nil {
			return err
		}
		for _, g := range w.Gaps {
			key := []any{g.Series.Vendor, g.Series.Symbol, string(g.Series.Timeframe)}
			if err := openGap(ctx, tx, key, backfill.Gap{From: g.From, To: g.To}); err != nil {
				return fmt.Errorf("record head gap: %w", err)
			}
		}
		return insertQuarantine(ctx, tx, q)
	})
	if err != nil {
		return incremental.Written{}, err
	}
	return incremental.Written{Inserted: cnt.Inserted, Updated: cnt.Updated, Unchanged: cnt.Unchanged}, nil
}

// liveFrontiers moves every polled series' frontiers and marks it confirmed now.
func liveFrontiers(ctx context.Context, tx pgx.Tx, w incremental.Write) error {
	n := len(w.Bars)
	if n == 0 {
		return nil
	}
	vendors, symbols, tfs := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	oldest, newest := make([]time.Time, 0, n), make([]time.Time, 0, n)
	for ser, cs := range w.Bars {
		if len(cs) == 0 {
			continue
		}
		o, nw := cs[0].Time, cs[0].Time
		for _, c := range cs[1:] {
			if c.Time.Before(o) {
				o = c.Time
			}
			if c.Time.After(nw) {
				nw = c.Time
			}
		}
		vendors, symbols, tfs = append(vendors, ser.Vendor), append(symbols, ser.Symbol), append(tfs, string(ser.Timeframe))
		oldest, newest = append(oldest, o.UTC()), append(newest, nw.UTC())
	}
	_, err := tx.Exec(ctx, `
INSERT INTO sync_state (vendor, symbol, timeframe, oldest_ts, newest_ts, live_confirmed_at)
SELECT v, s, tf, o, n, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(v, s, tf, o, n)
ON CONFLICT (vendor, symbol, timeframe) DO UPDATE SET
    oldest_ts = LEAST(sync_state.oldest_ts, excluded.oldest_ts),
    newest_ts = GREATEST(sync_state.newest_ts, excluded.newest_ts),
    live_confirmed_at = now(), updated_at = now()`, vendors, symbols, tfs, oldest, newest)
	if err != nil {
		return fmt.Errorf("move live frontiers: %w", err)
	}
	return nil
}

// ReserveQuota atomically adds n to the reserved count of (vendor,
// keyFingerprint, dayStart) and returns the new total.
func (s *Store) ReserveQuota(ctx context.Context, vendorName, keyFingerprint string, dayStart time.Time, n int64) (int64, error) {
	var total int64
	err := s.tx(ctx, "reserve quota", func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
INSERT INTO quota_usage (vendor, key_fingerprint, day_start, reserved) VALUES ($1, $2, $3, $4)
ON CONFLICT (vendor, key_fingerprint, day_start) DO UPDATE SET reserved = quota_usage.reserved + excluded.reserved, updated_at = now()
RETURNING reserved`, vendorName, keyFingerprint, dayStart.UTC(), n).Scan(&total)
	})
	return total, err
}

// QuotaReserved returns the reserved count, 0 if none.
func (s *Store) QuotaReserved(ctx context.Context, vendorName, keyFingerprint string, dayStart time.Time) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	var total int64
	err := s.pool.QueryRow(ctx, `SELECT reserved FROM quota_usage WHERE vendor = $1 AND key_fingerprint = $2 AND day_start = $3`,
		vendorName, keyFingerprint, dayStart.UTC()).Scan(&total)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read quota: %w", err)
	}
	return total, nil
}
