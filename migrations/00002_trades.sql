-- Latest trades, polled when SYNCD_TRADES=on. The latest-trade endpoints
-- answer the same tick again until a newer one happens, so a tick is keyed by
-- its time and the vendor's sequence ('' where the vendor gives none) and
-- stored once however often it is seen.

-- +goose Up
CREATE TABLE trades (
    vendor      text        NOT NULL,
    symbol      text        NOT NULL,
    ts          timestamptz NOT NULL,
    seq         text        NOT NULL DEFAULT '',
    price       numeric     NOT NULL,
    volume      numeric     NOT NULL,
    turnover    numeric,
    direction   smallint    NOT NULL DEFAULT 0 CHECK (direction IN (0, 1, 2)),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vendor, symbol, ts, seq)
);
COMMENT ON TABLE trades IS 'latest trades seen by syncd (SYNCD_TRADES=on); one row per tick';
COMMENT ON COLUMN trades.direction IS '0 unknown, 1 buy, 2 sell, as the vendor reports it';
COMMENT ON COLUMN trades.received_at IS 'when syncd first stored the tick';

-- +goose Down
DROP TABLE trades;
