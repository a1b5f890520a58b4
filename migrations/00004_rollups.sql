-- syncd schema, version 3: 5-minute, 1-hour and 1-day bars rolled up from the
-- stored 1-minute bars, as candles_5m, candles_1h and candles_1d.
--
-- With TimescaleDB (candles is a hypertable) they are continuous aggregates:
-- materialized in the background by refresh policies, and real-time
-- (materialized_only = false), so the buckets not materialized yet are
-- computed from candles at query time and the newest bar is always there.
-- Without it they are plain views with the same names and columns, computed
-- at query time. Either way every bucket is aligned to UTC (a day starts at
-- 00:00 UTC) and has the columns
--
--   vendor, symbol, ts (bucket open), open, high, low, close, volume,
--   turnover (null when no 1m bar in the bucket has one), bars (1m bars in it)
--
-- Buckets are never invented: a bucket without 1m bars has no row, and one
-- with fewer 1m bars than minutes (a gap, a closed market, a forming bucket)
-- says so in bars.
--
-- The compression policy of candles itself is in version 1. The aggregates
-- are not compressed: backfill keeps writing history older than any
-- compression horizon, so the refresh windows below start at the beginning of
-- time (start_offset NULL; a refresh only re-materializes invalidated
-- buckets), and TimescaleDB up to 2.18 (the compose file pins 2.17) refuses a
-- compression policy on an aggregate whose refresh window reaches into the
-- compressed region.

-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
    continuous boolean := false;
    version    text;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
       AND NOT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'candles'::regclass) THEN
        SELECT extversion INTO version FROM pg_extension WHERE extname = 'timescaledb';
        -- 2.7 brought finalized continuous aggregates (any aggregate, first and
        -- last included, on real-time views); older versions get plain views.
        IF string_to_array(split_part(version, '-', 1), '.')::int[] < ARRAY[2, 7] THEN
            RAISE WARNING 'timescaledb % is older than 2.7; candles_5m, candles_1h and candles_1d are plain views', version;
        ELSE
            BEGIN
                -- WITH NO DATA: creating with data refreshes, which cannot run
                -- inside goose's migration transaction. The policies fill them.
                CREATE MATERIALIZED VIEW candles_5m
                WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                SELECT vendor, symbol, time_bucket(INTERVAL '5 minutes', ts) AS ts,
                       first(open, ts) AS open, max(high) AS high, min(low) AS low, last(close, ts) AS close,
                       sum(volume) AS volume, sum(turnover) AS turnover, count(*) AS bars
                FROM candles
                WHERE timeframe = '1m'
                GROUP BY vendor, symbol, time_bucket(INTERVAL '5 minutes', ts)
                WITH NO DATA;

                CREATE MATERIALIZED VIEW candles_1h
                WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                SELECT vendor, symbol, time_bucket(INTERVAL '1 hour', ts) AS ts,
                       first(open, ts) AS open, max(high) AS high, min(low) AS low, last(close, ts) AS close,
                       sum(volume) AS volume, sum(turnover) AS turnover, count(*) AS bars
                FROM candles
                WHERE timeframe = '1m'
                GROUP BY vendor, symbol, time_bucket(INTERVAL '1 hour', ts)
                WITH NO DATA;

                CREATE MATERIALIZED VIEW candles_1d
                WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
                SELECT vendor, symbol, time_bucket(INTERVAL '1 day', ts) AS ts,
                       first(open, ts) AS open, max(high) AS high, min(low) AS low, last(close, ts) AS close,
                       sum(volume) AS volume, sum(turnover) AS turnover, count(*) AS bars
                FROM candles
                WHERE timeframe = '1m'
                GROUP BY vendor, symbol, time_bucket(INTERVAL '1 day', ts)
                WITH NO DATA;

                -- The bucket still forming is left to the real-time part
                -- (end_offset one bucket back); everything older is kept
                -- materialized, backfilled history included.
                PERFORM add_continuous_aggregate_policy('candles_5m', start_offset => NULL,
                    end_offset => INTERVAL '5 minutes', schedule_interval => INTERVAL '5 minutes');
                PERFORM add_continuous_aggregate_policy('candles_1h', start_offset => NULL,
                    end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '30 minutes');
                PERFORM add_continuous_aggregate_policy('candles_1d', start_offset => NULL,
                    end_offset => INTERVAL '1 day', schedule_interval => INTERVAL '1 hour');
                continuous := true;
            EXCEPTION WHEN OTHERS THEN
                -- A database that has the extension but refuses the aggregates
                -- (an edition without them, a changed API) still gets the
                -- rollups, and syncd still starts.
                RAISE WARNING 'continuous aggregates could not be created (%); candles_5m, candles_1h and candles_1d are plain views', SQLERRM;
            END;
        END IF;
    END IF;

    IF NOT continuous THEN
        -- date_bin with a UTC origin buckets like time_bucket, whatever the
        -- session's TimeZone. The first open and the last close are taken in
        -- time order within the bucket.
        CREATE VIEW candles_5m AS
        SELECT vendor, symbol, date_bin(INTERVAL '5 minutes', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS ts,
               (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
               (array_agg(close ORDER BY ts DESC))[1] AS close,
               sum(volume) AS volume, sum(turnover) AS turnover, count(*) AS bars
        FROM candles
        WHERE timeframe = '1m'
        GROUP BY vendor, symbol, date_bin(INTERVAL '5 minutes', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00');

        CREATE VIEW candles_1h AS
        SELECT vendor, symbol, date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS ts,
               (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
               (array_agg(close ORDER BY ts DESC))[1] AS close,
               sum(volume) AS volume, sum(turnover) AS turnover, count(*) AS bars
        FROM candles
        WHERE timeframe = '1m'
        GROUP BY vendor, symbol, date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00');

        CREATE VIEW candles_1d AS
        SELECT vendor, symbol, date_bin(INTERVAL '1 day', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS ts,
               (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
               (array_agg(close ORDER BY ts DESC))[1] AS close,
               sum(volume) AS volume, sum(turnover) AS turnover, count(*) AS bars
        FROM candles
        WHERE timeframe = '1m'
        GROUP BY vendor, symbol, date_bin(INTERVAL '1 day', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00');
    END IF;

    -- A continuous aggregate's user-facing relation is a view too; should a
    -- version refuse comments on it, the rollups matter more than the words.
    BEGIN
        COMMENT ON VIEW candles_5m IS '5-minute bars rolled up from the 1m bars in candles (UTC buckets; bars = 1m bars in the bucket).';
        COMMENT ON VIEW candles_1h IS '1-hour bars rolled up from the 1m bars in candles (UTC buckets; bars = 1m bars in the bucket).';
        COMMENT ON VIEW candles_1d IS '1-day bars rolled up from the 1m bars in candles (UTC days; bars = 1m bars in the bucket).';
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'comment on the rollup views: %', SQLERRM;
    END;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        IF EXISTS (SELECT 1 FROM timescaledb_information.continuous_aggregates
                   WHERE view_schema = current_schema() AND view_name = 'candles_5m') THEN
            -- Dropping a continuous aggregate drops its refresh policy too.
            DROP MATERIALIZED VIEW candles_1d;
            DROP MATERIALIZED VIEW candles_1h;
            DROP MATERIALIZED VIEW candles_5m;
            RETURN;
        END IF;
    END IF;
    DROP VIEW IF EXISTS candles_1d, candles_1h, candles_5m;
END
$$;
-- +goose StatementEnd
