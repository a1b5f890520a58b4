package incremental

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

// fakeTrader answers the latest trade of each known symbol, refuses codes in
// bad, and fails with err after answering when err is set.
type fakeTrader struct {
	mu    sync.Mutex
	at    time.Time
	bad   []string
	err   error
	asked [][]string
	extra []vendor.Trade
}

func (f *fakeTrader) Trades(_ context.Context, symbols []string) ([]vendor.Trade, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, slices.Clone(symbols))
	var out []vendor.Trade
	var refused []string
	for _, s := range symbols {
		if slices.Contains(f.bad, s) {
			refused = append(refused, s)
			continue
		}
		out = append(out, vendor.Trade{Symbol: s, Time: f.at, Price: decimal.MustParse("1.50"), Volume: decimal.MustParse("3")})
	}
	out = append(out, f.extra...)
	if len(refused) > 0 {
		return out, &vendor.InvalidSymbolsError{Symbols: refused, Err: vendor.ErrInvalidSymbol}
	}
	return out, f.err
}

// memTrades stores ticks keyed like the trades table.
type memTrades struct {
	mu   sync.Mutex
	rows map[string]vendor.Trade
	err  error
}

func (m *memTrades) WriteTrades(_ context.Context, v string, trades []vendor.Trade) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	n := 0
	for _, t := range trades {
		k := v + "|" + t.Symbol + "|" + t.Time.String() + "|" + t.Seq
		if _, ok := m.rows[k]; !ok {
			m.rows[k] = t
			n++
		}
	}
	return n, nil
}

type closedUS struct{}

func (closedUS) IsOpen(m vendor.Market, _ time.Time) bool { return m != vendor.MarketUS }
func (closedUS) ClosedThroughout(m vendor.Market, _, _ time.Time) bool {
	return m == vendor.MarketUS
}

func newTradePoller(t *testing.T, tr *fakeTrader, st *memTrades, symbols ...string) *TradePoller {
	t.Helper()
	p, err := NewTradePoller(TradeConfig{Client: tr, Store: st, Vendor: vendor.AllTick, Symbols: symbols, Interval: time.Second,
		Markets: map[string]vendor.Market{"AAPL.US": vendor.MarketUS, "BTCUSDT": vendor.MarketCrypto}, Calendar: closedUS{},
		Clock: clock.NewFake(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	return p
}

func TestTradePoller(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 11, 59, 58, 0, time.UTC)

	t.Run("RepeatedTickStoredOnce", func(t *testing.T) {
		t.Parallel()
		tr, st := &fakeTrader{at: at}, &memTrades{rows: map[string]vendor.Trade{}}
		p := newTradePoller(t, tr, st, "BTCUSDT", "ETHUSDT")
		res, err := p.Tick(t.Context())
		require.NoError(t, err)
		require.Equal(t, TradeTick{Polled: 2, Received: 2, Stored: 2}, res)
		res, err = p.Tick(t.Context())
		require.NoError(t, err)
		require.Equal(t, TradeTick{Polled: 2, Received: 2, Stored: 0}, res)
		require.Len(t, st.rows, 2)
	})

	t.Run("RefusedSymbolDroppedOthersStored", func(t *testing.T) {
		t.Parallel()
		tr, st := &fakeTrader{at: at, bad: []string{"NOPE"}}, &memTrades{rows: map[string]vendor.Trade{}}
		p := newTradePoller(t, tr, st, "BTCUSDT", "NOPE")
		_, err := p.Tick(t.Context())
		require.NoError(t, err)
		_, err = p.Tick(t.Context())
		require.NoError(t, err)
		require.Equal(t, [][]string{{"BTCUSDT", "NOPE"}, {"BTCUSDT"}}, tr.asked)
		require.Len(t, st.rows, 1)
	})

	t.Run("ClosedMarketNotPolled", func(t *testing.T) {
		t.Parallel()
		tr, st := &fakeTrader{at: at}, &memTrades{rows: map[string]vendor.Trade{}}
		p := newTradePoller(t, tr, st, "AAPL.US", "BTCUSDT")
		res, err := p.Tick(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, res.Polled)
		require.Equal(t, [][]string{{"BTCUSDT"}}, tr.asked)

		only := newTradePoller(t, tr, st, "AAPL.US")
		res, err = only.Tick(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Polled)
		require.Len(t, tr.asked, 1, "no request when every market is closed")
	})

	t.Run("PartialAnswerStoredThenErrorReported", func(t *testing.T) {
		t.Parallel()
		tr, st := &fakeTrader{at: at, err: vendor.ErrRateLimited}, &memTrades{rows: map[string]vendor.Trade{}}
		p := newTradePoller(t, tr, st, "BTCUSDT")
		res, err := p.Tick(t.Context())
		require.ErrorIs(t, err, vendor.ErrRateLimited)
		require.Equal(t, 1, res.Stored)
	})

	t.Run("UnrequestedSymbolsIgnored", func(t *testing.T) {
		t.Parallel()
		tr := &fakeTrader{at: at, extra: []vendor.Trade{{Symbol: "OTHER", Time: at}}}
		st := &memTrades{rows: map[string]vendor.Trade{}}
		p := newTradePoller(t, tr, st, "BTCUSDT")
		res, err := p.Tick(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, res.Received)
		require.Len(t, st.rows, 1)
	})

	t.Run("StoreFailureReported", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("database down")
		tr, st := &fakeTrader{at: at}, &memTrades{rows: map[string]vendor.Trade{}, err: boom}
		p := newTradePoller(t, tr, st, "BTCUSDT")
		_, err := p.Tick(t.Context())
		require.ErrorIs(t, err, boom)
	})

	t.Run("ConfigChecked", func(t *testing.T) {
		t.Parallel()
		_, err := NewTradePoller(TradeConfig{})
		require.Error(t, err)
		_, err = NewTradePoller(TradeConfig{Client: &fakeTrader{}, Store: &memTrades{}, Vendor: vendor.AllTick, Symbols: []string{"X"}})
		require.ErrorContains(t, err, "Interval")
	})
}

func TestTradeServiceStartStopStress(t *testing.T) {
	t.Parallel()
	tr, st := &fakeTrader{at: time.Now()}, &memTrades{rows: map[string]vendor.Trade{}}
	p := newTradePoller(t, tr, st, "BTCUSDT")
	done := make(chan struct{}, 1)
	svc := NewTradeService(p, nil, func(TradeTick, error) {
		select {
		case done <- struct{}{}:
		default:
		}
	})
	for range 3 {
		require.NoError(t, svc.Start(t.Context()))
		require.NoError(t, svc.Start(t.Context()))
		<-done
		svc.Stop()
		svc.Stop()
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	require.GreaterOrEqual(t, len(tr.asked), 3)
}
