package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/vendor"
)

// SeriesState reads what the backfill engine needs about a series.
func (s *Store) SeriesState(ctx context.Context, ser vendor.Series) (backfill.State, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	var st backfill.State
	var oldest, newest, exhaustedAt *time.Time
	err := s.pool.QueryRow(ctx, `SELECT oldest_ts, newest_ts, history_exhausted, exhausted_at FROM sync_state
WHERE vendor = $1 AND symbol = $2 AND timeframe = $3`, ser.Vendor, ser.Symbol, string(ser.Timeframe)).
		Scan(&oldest, &newest, &st.Exhausted, &exhaustedAt)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("read sync state: %w", err)
	}
	st.Oldest, st.Newest, st.ExhaustedAt = deref(oldest), deref(newest), deref(exhaustedAt)
	rows, err := s.pool.Query(ctx, `SELECT gap_from, gap_to FROM sync_gaps WHERE vendor = $1 AND symbol = $2 AND timeframe = $3
ORDER BY gap_from`, ser.Vendor, ser.Symbol, string(ser.Timeframe))
	if err != nil {
		return st, fmt.Errorf("read gaps: %w", err)
	}
	st.Gaps, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (backfill.Gap, error) {
		var g backfill.Gap
		err := r.Scan(&g.From, &g.To)
		return g, err
	})
	if err != nil {
		return st, fmt.Errorf("read gaps: %w", err)
	}
	return st, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// Commit applies one backfill page in one transaction: its bars (by COPY when
// the engine promises they are all new, else by upsert), the frontiers, the
// coverage ledger, quarantine and gap progress.
func (s *Store) Commit(ctx context.Context, c backfill.Commit) (backfill.Written, error) {
	rows := make([]Row, len(c.Bars))
	for i, b := range c.Bars {
		rows[i] = Row{Series: c.Series, Bar: b.Bar, Final: b.Final}
	}
	if len(rows) > 0 {
		oldest, newest := span(rows)
		if err := s.EnsurePartitions(ctx, oldest, newest); err != nil {
			return backfill.Written{}, err
		}
	}
	q := make([]Quarantined, len(c.Quarantine))
	for i, r := range c.Quarantine {
		q[i] = Quarantined{Series: c.Series, Time: r.Time, Reason: r.Reason, Raw: r.Raw}
	}
	fast := c.AllNew
	var cnt Counts
	err := s.tx(ctx, "commit backfill page", func(tx pgx.Tx) error {
		var err error
		if fast {
			cnt, err = s.copyRows(ctx, tx, rows)
		} else {
			cnt, err = s.upsertRows(ctx, tx, rows)
		}
		if err != nil {
			return err
		}
		if s.failAfterBars != nil {
			if err := s.failAfterBars(); err != nil {
				return err
			}
		}
		return s.commitBookkeeping(ctx, tx, c, rows, q)
	})
	if fast && isCode(err, codeUniqueViolation) {
		// A retried commit whose first attempt landed, or a bar the poller wrote
		// meanwhile: fall back to the idempotent path.
		fast = false
		err = s.tx(ctx, "commit backfill page", func(tx pgx.Tx) error {
			var err error
			if cnt, err = s.upsertRows(ctx, tx, rows); err != nil {
				return err
			}
			return s.commitBookkeeping(ctx, tx, c, rows, q)
		})
	}
	if err != nil {
		return backfill.Written{}, err
	}
	return backfill.Written{Inserted: cnt.Inserted, Updated: cnt.Updated, Unchanged: cnt.Unchanged}, nil
}

func (s *Store) commitBookkeeping(ctx context.Context, tx pgx.Tx, c backfill.Commit, rows []Row, q []Quarantined) error {
	ser := c.Series
	if len(rows) > 0 {
		oldest, newest := span(rows)
		if err := moveFrontiers(ctx, tx, ser, oldest, newest); err != nil {
			return err
		}
	}
	if c.Exhausted {
		if _, err := tx.Exec(ctx, `
INSERT INTO sync_state (vendor, symbol, timeframe, history_exhausted, exhausted_at) VALUES ($1, $2, $3, true, $4)
ON CONFLICT (vendor, symbol, timeframe) DO UPDATE SET history_exhausted = true, exhausted_at = excluded.exhausted_at, updated_at = now()`,
			ser.Vendor, ser.Symbol, string(ser.Timeframe), nullTime(c.ExhaustedAt)); err != nil {
			return fmt.Errorf("mark history exhausted: %w", err)
		}
	}
	for _, cov := range c.Coverage {
		if err := recordCoverage(ctx, tx, ser, cov); err != nil {
			return err
		}
	}
	if err := insertQuarantine(ctx, tx, q); err != nil {
		return err
	}
	return applyGap(ctx, tx, c)
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// recordCoverage adds a ledger entry. A fetched range adjacent below an
// existing fetched range extends it, so a walk of ten thousand pages leaves one
// row, not ten thousand; a repeated failure counts an attempt.
func recordCoverage(ctx context.Context, tx pgx.Tx, ser vendor.Series, cov backfill.Coverage) error {
	if !cov.From.Before(cov.To) {
		return nil
	}
	args := []any{ser.Vendor, ser.Symbol, string(ser.Timeframe), cov.From.UTC(), cov.To.UTC()}
	if cov.State == backfill.CoverageFetched {
		tag, err := tx.Exec(ctx, `UPDATE coverage SET range_from = LEAST(range_from, $4), range_to = GREATEST(range_to, $5), updated_at = now()
WHERE id = (SELECT id FROM coverage WHERE vendor = $1 AND symbol = $2 AND timeframe = $3 AND state = 'fetched'
            AND range_from <= $5 AND range_to >= $4 ORDER BY range_from LIMIT 1)`, args...)
		if err != nil {
			return fmt.Errorf("extend coverage: %w", err)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
	}
	_, err := tx.Exec(ctx, `
INSERT INTO coverage (vendor, symbol, timeframe, range_from, range_to, state, last_error) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (vendor, symbol, timeframe, range_from, range_to, state) DO UPDATE SET
    attempts = coverage.attempts + 1, last_error = excluded.last_error, updated_at = now()`,
		append(args, cov.State, nullIfEmpty(cov.Error))...)
	if err != nil {
		return fmt.Errorf("record coverage: %w", err)
	}
	if cov.State == backfill.CoverageFailed {
		if _, err := tx.Exec(ctx, `
INSERT INTO sync_state (vendor, symbol, timeframe, last_error, last_error_at) VALUES ($1, $2, $3, $4, now())
ON CONFLICT (vendor, symbol, timeframe) DO UPDATE SET last_error = excluded.last_error, last_error_at = now(), updated_at = now()`,
			ser.Vendor, ser.Symbol, string(ser.Timeframe), cov.Error); err != nil {
			return fmt.Errorf("record last error: %w", err)
		}
	}
	return nil
}

func applyGap(ctx context.Context, tx pgx.Tx, c backfill.Commit) error {
	ser := c.Series
	key := []any{ser.Vendor, ser.Symbol, string(ser.Timeframe)}
	var err error
	switch {
	case c.OpenGap != nil:
		err = openGap(ctx, tx, key, *c.OpenGap)
	case c.CloseGap:
		_, err = tx.Exec(ctx, `DELETE FROM sync_gaps WHERE vendor = $1 AND symbol = $2 AND timeframe = $3 AND gap_from = $4`,
			append(key, c.GapFrom.UTC())...)
	case c.MoveGap:
		_, err = tx.Exec(ctx, `UPDATE sync_gaps SET gap_to = $5, updated_at = now()
WHERE vendor = $1 AND symbol = $2 AND timeframe = $3 AND gap_from = $4`, append(key, c.GapFrom.UTC(), c.GapTo.UTC())...)
	}
	if err != nil {
		return fmt.Errorf("record gap: %w", err)
	}
	for _, g := range c.Refetch {
		if err := openGap(ctx, tx, key, g); err != nil {
			return fmt.Errorf("record gap to refetch: %w", err)
		}
	}
	return nil
}

// openGap records a gap; one already open from the same bar keeps the wider end.
func openGap(ctx context.Context, tx pgx.Tx, key []any, g backfill.Gap) error {
	_, err := tx.Exec(ctx, `INSERT INTO sync_gaps (vendor, symbol, timeframe, gap_from, gap_to) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (vendor, symbol, timeframe, gap_from) DO UPDATE SET gap_to = GREATEST(sync_gaps.gap_to, excluded.gap_to), updated_at = now()`,
		append(slices.Clip(key), g.From.UTC(), g.To.UTC())...)
	return err
}

// CommitMany applies several backfill pages, usually of different series, in
// one transaction: the fast path's group commit. Either all commit or none.
func (s *Store) CommitMany(ctx context.Context, cs []backfill.Commit) ([]backfill.Written, error) {
	type prepared struct {
		rows []Row
		q    []Quarantined
	}
	preps := make([]prepared, len(cs))
	var oldest, newest time.Time
	for i, c := range cs {
		rows := make([]Row, len(c.Bars))
		for j, b := range c.Bars {
			rows[j] = Row{Series: c.Series, Bar: b.Bar, Final: b.Final}
		}
		q := make([]Quarantined, len(c.Quarantine))
		for j, r := range c.Quarantine {
			q[j] = Quarantined{Series: c.Series, Time: r.Time, Reason: r.Reason, Raw: r.Raw}
		}
		preps[i] = prepared{rows, q}
		if len(rows) > 0 {
			o, n := span(rows)
			if oldest.IsZero() || o.Before(oldest) {
				oldest = o
			}
			if n.After(newest) {
				newest = n
			}
		}
	}
	if !oldest.IsZero() {
		if err := s.EnsurePartitions(ctx, oldest, newest); err != nil {
			return nil, err
		}
	}
	out := make([]backfill.Written, len(cs))
	run := func(fast bool) error {
		return s.tx(ctx, "commit backfill pages", func(tx pgx.Tx) error {
			for i, c := range cs {
				var cnt Counts
				var err error
				if fast && c.AllNew {
					cnt, err = s.copyRows(ctx, tx, preps[i].rows)
				} else {
					cnt, err = s.upsertRows(ctx, tx, preps[i].rows)
				}
				if err != nil {
					return err
				}
				if err := s.commitBookkeeping(ctx, tx, c, preps[i].rows, preps[i].q); err != nil {
					return err
				}
				out[i] = backfill.Written{Inserted: cnt.Inserted, Updated: cnt.Updated, Unchanged: cnt.Unchanged}
			}
			if s.failAfterBars != nil {
				return s.failAfterBars()
			}
			return nil
		})
	}
	err := run(true)
	if isCode(err, codeUniqueViolation) {
		err = run(false)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
