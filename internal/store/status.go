package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/status"
)

// Status reads what `syncd status` shows for every series the database knows
// and today's quota rows (quota days that have not ended at now).
func (s *Store) Status(ctx context.Context, now time.Time) (status.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	r := status.Report{GeneratedAt: now}
	rows, err := s.pool.Query(ctx, `
SELECT st.vendor, st.symbol, st.timeframe, st.oldest_ts, st.newest_ts, st.history_exhausted, st.live_confirmed_at,
       st.last_error, st.last_error_at,
       (SELECT count(*) FROM candles c WHERE c.vendor = st.vendor AND c.symbol = st.symbol AND c.timeframe = st.timeframe),
       (SELECT count(*) FROM quarantine q WHERE q.vendor = st.vendor AND q.symbol = st.symbol AND q.timeframe = st.timeframe)
FROM sync_state st ORDER BY st.vendor, st.symbol, st.timeframe`)
	if err != nil {
		return r, fmt.Errorf("read status: %w", err)
	}
	r.Series, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (status.Series, error) {
		var ss status.Series
		var lastErr *string
		err := row.Scan(&ss.Vendor, &ss.Symbol, &ss.Timeframe, &ss.Oldest, &ss.Newest, &ss.Exhausted, &ss.LiveConfirmedAt,
			&lastErr, &ss.LastErrorAt, &ss.Bars, &ss.Quarantined)
		if lastErr != nil {
			ss.LastError = *lastErr
		}
		if ss.Newest != nil {
			lag := now.Sub(*ss.Newest).Seconds()
			ss.LagSeconds = &lag
		}
		return ss, err
	})
	if err != nil {
		return r, fmt.Errorf("read status: %w", err)
	}
	for i := range r.Series {
		ss := &r.Series[i]
		ranges, err := s.pool.Query(ctx, `
SELECT gap_from, gap_to, 'gap', '' FROM sync_gaps WHERE vendor = $1 AND symbol = $2 AND timeframe = $3
UNION ALL
SELECT range_from, range_to, state, coalesce(last_error, '') FROM coverage
WHERE vendor = $1 AND symbol = $2 AND timeframe = $3 AND state IN ('empty', 'unavailable', 'failed')
ORDER BY 1`, ss.Vendor, ss.Symbol, ss.Timeframe)
		if err != nil {
			return r, fmt.Errorf("read ranges: %w", err)
		}
		all, err := pgx.CollectRows(ranges, func(row pgx.CollectableRow) (status.Range, error) {
			var rg status.Range
			err := row.Scan(&rg.From, &rg.To, &rg.State, &rg.Reason)
			return rg, err
		})
		if err != nil {
			return r, fmt.Errorf("read ranges: %w", err)
		}
		ss.OpenGaps, ss.Unavailable = []status.Range{}, []status.Range{}
		for _, rg := range all {
			if rg.State == "gap" {
				ss.OpenGaps = append(ss.OpenGaps, rg)
			} else {
				ss.Unavailable = append(ss.Unavailable, rg)
			}
		}
	}
	// Today's rows: the day has started and not reset yet (rows from before
	// resets_at was recorded count as one-day long).
	qrows, err := s.pool.Query(ctx, `
SELECT vendor, key_fingerprint, day_start, reserved, coalesce(plan, ''), coalesce(daily_cap, 0), resets_at, exhausted_until
FROM quota_usage
WHERE day_start <= $1 AND coalesce(resets_at, day_start + interval '1 day') > $1
ORDER BY vendor, key_fingerprint, day_start DESC`, now)
	if err != nil {
		return r, fmt.Errorf("read quota: %w", err)
	}
	r.Quota, err = pgx.CollectRows(qrows, func(row pgx.CollectableRow) (status.Quota, error) {
		var q status.Quota
		err := row.Scan(&q.Vendor, &q.KeyFingerprint, &q.DayStart, &q.Used, &q.Plan, &q.Cap, &q.ResetsAt, &q.ExhaustedUntil)
		if q.ExhaustedUntil != nil && !q.ExhaustedUntil.After(now) {
			q.ExhaustedUntil = nil // over: the pause has ended
		}
		return q, err
	})
	if err != nil {
		return r, fmt.Errorf("read quota: %w", err)
	}
	return r, nil
}
