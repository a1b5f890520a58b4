package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/quota"
)

// SetQuotaDay records the quota day d's plan, cap, reset and exhaustion, creating the row
// with nothing reserved if the day has none yet. The reserved count is never
// touched here.
func (s *Store) SetQuotaDay(ctx context.Context, d quota.Day) error {
	var until *time.Time
	if !d.ExhaustedUntil.IsZero() {
		u := d.ExhaustedUntil.UTC()
		until = &u
	}
	return s.tx(ctx, "record quota day", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
INSERT INTO quota_usage (vendor, key_fingerprint, day_start, reserved, plan, daily_cap, resets_at, exhausted_until)
VALUES ($1, $2, $3, 0, $4, $5, $6, $7)
ON CONFLICT (vendor, key_fingerprint, day_start) DO UPDATE SET plan = excluded.plan, daily_cap = excluded.daily_cap,
    resets_at = excluded.resets_at, exhausted_until = excluded.exhausted_until, updated_at = now()`,
			d.Vendor, d.KeyFingerprint, d.DayStart.UTC(), d.Plan, d.Cap, d.ResetsAt.UTC(), until)
		return err
	})
}
