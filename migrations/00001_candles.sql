-- syncd schema, version 1: candles and the bookkeeping that proves them complete.
--
-- candles is partitioned by time. Where the timescaledb extension can be
-- created it becomes a hypertable (7-day chunks, compressed after 30 days,
-- segmented by series, ordered by ts). Otherwise it is a native RANGE-
-- partitioned table whose monthly partitions syncd creates ahead of writes;
-- there is deliberately no DEFAULT partition, so no row can land in a
-- catch-all nobody looks at. docs/storage.md explains the widths.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'timescaledb is installed but cannot be created (%); using native partitions', SQLERRM;
        END;
    END IF;

    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        CREATE TABLE candles (
            vendor     text        NOT NULL,
            symbol     text        NOT NULL,
            timeframe  text        NOT NULL,
            ts         timestamptz NOT NULL,
            open       numeric     NOT NULL,
            high       numeric     NOT NULL,
            low        numeric     NOT NULL,
            close      numeric     NOT NULL,
            volume     numeric     NOT NULL,
            turnover   numeric,
            is_final   boolean     NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (vendor, symbol, timeframe, ts)
        );
        PERFORM create_hypertable('candles', 'ts', chunk_time_interval => INTERVAL '7 days');
        ALTER TABLE candles SET (
            timescaledb.compress,
            timescaledb.compress_segmentby = 'vendor, symbol, timeframe',
            timescaledb.compress_orderby = 'ts'
        );
        PERFORM add_compression_policy('candles', INTERVAL '30 days');
    ELSE
        CREATE TABLE candles (
            vendor     text        NOT NULL,
            symbol     text        NOT NULL,
            timeframe  text        NOT NULL,
            ts         timestamptz NOT NULL,
            open       numeric     NOT NULL,
            high       numeric     NOT NULL,
            low        numeric     NOT NULL,
            close      numeric     NOT NULL,
            volume     numeric     NOT NULL,
            turnover   numeric,
            is_final   boolean     NOT NULL DEFAULT false,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (vendor, symbol, timeframe, ts)
        ) PARTITION BY RANGE (ts);
    END IF;
END
$$;
-- +goose StatementEnd

ALTER TABLE candles
    ADD CONSTRAINT candles_ohlc CHECK (low <= high AND low <= open AND open <= high AND low <= close AND close <= high),
    ADD CONSTRAINT candles_volume CHECK (volume >= 0 AND (turnover IS NULL OR turnover >= 0));

COMMENT ON TABLE candles IS 'One row per OHLCV bar, exactly as the vendor sent it. Rows are only inserted or updated by syncd.';
COMMENT ON COLUMN candles.ts IS 'Bar open time.';
COMMENT ON COLUMN candles.is_final IS 'false while the bar is still forming; never goes back to false.';
COMMENT ON COLUMN candles.updated_at IS 'Last time one of the row''s values changed.';

CREATE TABLE sync_state (
    vendor            text        NOT NULL,
    symbol            text        NOT NULL,
    timeframe         text        NOT NULL,
    oldest_ts         timestamptz,
    newest_ts         timestamptz,
    history_exhausted boolean     NOT NULL DEFAULT false,
    exhausted_at      timestamptz,
    live_confirmed_at timestamptz,
    last_error        text,
    last_error_at     timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor, symbol, timeframe),
    CHECK (oldest_ts IS NULL OR newest_ts IS NULL OR oldest_ts <= newest_ts)
);
COMMENT ON TABLE sync_state IS 'Per series: the oldest and newest stored bar (the two frontiers), committed with the bars.';
COMMENT ON COLUMN sync_state.history_exhausted IS 'The vendor''s history was walked to its end (down to exhausted_at); it is not walked again.';
COMMENT ON COLUMN sync_state.live_confirmed_at IS 'When a live poll last confirmed the forming bar (freshness).';

CREATE TABLE sync_gaps (
    vendor     text        NOT NULL,
    symbol     text        NOT NULL,
    timeframe  text        NOT NULL,
    gap_from   timestamptz NOT NULL,
    gap_to     timestamptz NOT NULL,
    opened_at  timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor, symbol, timeframe, gap_from),
    CHECK (gap_from < gap_to)
);
COMMENT ON TABLE sync_gaps IS 'Open gaps: bars missing strictly between gap_from and gap_to, still being healed (gap_to moves down as pages commit).';

CREATE TABLE coverage (
    id         bigserial   PRIMARY KEY,
    vendor     text        NOT NULL,
    symbol     text        NOT NULL,
    timeframe  text        NOT NULL,
    range_from timestamptz NOT NULL,
    range_to   timestamptz NOT NULL,
    state      text        NOT NULL CHECK (state IN ('fetched', 'empty', 'unavailable', 'failed')),
    attempts   integer     NOT NULL DEFAULT 1,
    last_error text,
    first_at   timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (range_from < range_to),
    UNIQUE (vendor, symbol, timeframe, range_from, range_to, state)
);
CREATE INDEX coverage_series ON coverage (vendor, symbol, timeframe, state, range_from);
COMMENT ON TABLE coverage IS 'What is known about each time range of a series: fetched (a bar missing inside means no trades), empty (the vendor confirmed it has none), unavailable (the vendor cannot serve it), failed (fetching failed; retried).';

CREATE TABLE quarantine (
    id          bigserial   PRIMARY KEY,
    vendor      text        NOT NULL,
    symbol      text,
    timeframe   text,
    ts          timestamptz,
    reason      text        NOT NULL,
    payload     text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_series ON quarantine (vendor, symbol, timeframe, ts);
COMMENT ON TABLE quarantine IS 'Vendor data that failed decoding or validation, with the reason and the raw payload; never in candles.';

CREATE TABLE quota_usage (
    vendor          text        NOT NULL,
    key_fingerprint text        NOT NULL,
    day_start       timestamptz NOT NULL,
    reserved        bigint      NOT NULL CHECK (reserved >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor, key_fingerprint, day_start)
);
COMMENT ON TABLE quota_usage IS 'Requests reserved against the daily cap per vendor and key fingerprint (never the key). Reserved in blocks, so it may exceed requests actually made, never fall short.';

-- +goose Down
DROP TABLE quota_usage;
DROP TABLE quarantine;
DROP TABLE coverage;
DROP TABLE sync_gaps;
DROP TABLE sync_state;
DROP TABLE candles;
