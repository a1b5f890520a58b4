-- +goose Up
-- What `syncd status` needs to say about a key's day without asking the
-- running daemon: the plan and its daily cap, when the day resets, and until
-- when the cap is used up. The governor writes these when it opens a quota
-- day and when the cap runs out; reserved stays the crash-safe count.
ALTER TABLE quota_usage
    ADD COLUMN plan            text,
    ADD COLUMN daily_cap       bigint CHECK (daily_cap >= 0),
    ADD COLUMN resets_at       timestamptz,
    ADD COLUMN exhausted_until timestamptz;
COMMENT ON COLUMN quota_usage.daily_cap IS 'The plan''s daily cap; 0 means no cap, NULL not recorded (rows from before this column).';
COMMENT ON COLUMN quota_usage.resets_at IS 'When this quota day ends and the count starts again.';
COMMENT ON COLUMN quota_usage.exhausted_until IS 'Set while the cap is used up (by syncd''s count or the vendor''s answer): requests wait until then.';

-- +goose Down
ALTER TABLE quota_usage
    DROP COLUMN exhausted_until,
    DROP COLUMN resets_at,
    DROP COLUMN daily_cap,
    DROP COLUMN plan;
