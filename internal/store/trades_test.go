package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

func TestTradesAreStoredOncePerTick(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 9, 30, 0, 123_000_000, time.UTC)
	a := vendor.Trade{Symbol: "BTCUSDT", Time: at, Price: decimal.MustParse("89287.17000000"), Volume: decimal.MustParse("0.00100000"),
		Seq: "1001", Direction: 1}
	b := vendor.Trade{Symbol: "BTCUSDT", Time: at.Add(time.Second), Price: decimal.MustParse("89288.01"), Volume: decimal.MustParse("2"),
		Turnover: decimal.Null{Decimal: decimal.MustParse("178576.02"), Valid: true}}
	n, err := s.WriteTrades(ctx, vendor.AllTick, []vendor.Trade{a})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	// The endpoint answers the same tick again until a newer one happens.
	n, err = s.WriteTrades(ctx, vendor.AllTick, []vendor.Trade{a, b})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	// Another vendor's identical tick is its own row.
	n, err = s.WriteTrades(ctx, vendor.XdTick, []vendor.Trade{a})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = s.WriteTrades(ctx, vendor.AllTick, nil)
	require.NoError(t, err)
	require.Zero(t, n)

	require.Equal(t, 3, count(t, s, `SELECT count(*) FROM trades`))
	var price, volume string
	var turnover *string
	var dir int
	var seq string
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT price::text, volume::text, turnover::text, direction, seq FROM trades
WHERE vendor = 'alltick' AND ts = $1`, at).Scan(&price, &volume, &turnover, &dir, &seq))
	require.Equal(t, "89287.17000000", price, "exact decimals")
	require.Equal(t, "0.00100000", volume)
	require.Nil(t, turnover)
	require.Equal(t, 1, dir)
	require.Equal(t, "1001", seq)
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT turnover::text, seq FROM trades WHERE vendor = 'alltick' AND ts = $1`,
		at.Add(time.Second)).Scan(&turnover, &seq))
	require.Equal(t, "178576.02", *turnover)
	require.Empty(t, seq)
}
