package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

const insertTradesSQL = `
INSERT INTO trades (vendor, symbol, ts, seq, price, volume, turnover, direction)
SELECT $1, t.* FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[], $8::smallint[]) AS t
ON CONFLICT DO NOTHING`

// WriteTrades stores the trades of vendorName, each tick once: a tick seen
// again (same symbol, time and sequence) is left as it is. It returns how
// many were new.
func (s *Store) WriteTrades(ctx context.Context, vendorName string, trades []vendor.Trade) (int, error) {
	n := len(trades)
	if n == 0 {
		return 0, nil
	}
	symbols, seqs := make([]string, n), make([]string, n)
	ts := make([]time.Time, n)
	price, volume := make([]decimal.Decimal, n), make([]decimal.Decimal, n)
	turnover := make([]decimal.Null, n)
	dir := make([]int16, n)
	for i, t := range trades {
		symbols[i], seqs[i], ts[i] = t.Symbol, t.Seq, t.Time.UTC()
		price[i], volume[i], turnover[i] = t.Price, t.Volume, t.Turnover
		dir[i] = int16(min(max(t.Direction, 0), 2))
	}
	var inserted int64
	err := s.tx(ctx, "write trades", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertTradesSQL, vendorName, symbols, ts, seqs, price, volume, turnover, dir)
		if err != nil {
			return fmt.Errorf("insert trades: %w", err)
		}
		inserted = tag.RowsAffected()
		return nil
	})
	return int(inserted), err
}
