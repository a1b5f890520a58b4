package vendor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
)

func TestTimeframes(t *testing.T) {
	t.Parallel()
	for _, tf := range Timeframes {
		got, err := ParseTimeframe(" " + string(tf) + " ")
		require.NoError(t, err)
		require.Equal(t, tf, got)
	}
	_, err := ParseTimeframe("3m")
	require.Error(t, err)
	require.NotEqual(t, TF1m.Duration(), TF1M.Duration())
	jan31 := time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)
	require.Equal(t, time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), TF1M.Next(jan31))
	ny, _ := time.LoadLocation("America/New_York")
	beforeDST := time.Date(2025, 3, 8, 0, 0, 0, 0, ny)
	require.Equal(t, time.Date(2025, 3, 9, 0, 0, 0, 0, ny), TF1d.Next(beforeDST))
	require.True(t, TF4h.Intraday())
	require.False(t, TF1d.Intraday())
}

func TestErrorsWrapSentinels(t *testing.T) {
	t.Parallel()
	e := &APIError{Vendor: AllTick, Endpoint: EndpointHistory, HTTPStatus: 200, Code: "605", Message: "too many requests", Kind: ErrRateLimited}
	require.ErrorIs(t, e, ErrRateLimited)
	require.Equal(t, "alltick history: rate limited by vendor (HTTP 200, code 605: too many requests)", e.Error())
	require.True(t, Retryable(e))
	inv := &InvalidSymbolsError{Symbols: []string{"NOPE"}, Err: &APIError{Vendor: AllTick, Code: "600", Kind: ErrInvalidSymbol}}
	require.ErrorIs(t, inv, ErrInvalidSymbol)
	var ae *APIError
	require.ErrorAs(t, inv, &ae)
	require.False(t, Retryable(inv))
}

func TestLatestAccountsForEverySeries(t *testing.T) {
	t.Parallel()
	a := Series{Vendor: AllTick, Symbol: "A", Timeframe: TF1m}
	b := Series{Vendor: AllTick, Symbol: "B", Timeframe: TF1m}
	c := Series{Vendor: AllTick, Symbol: "C", Timeframe: TF1m}
	d := Series{Vendor: AllTick, Symbol: "D", Timeframe: TF1m}
	l := Latest{Bars: map[Series][]Bar{a: {{}}}, Invalid: map[Series]error{}, Missing: []Series{c}}
	l.MarkInvalid(b, ErrInvalidSymbol)
	l.MarkMissing([]Series{a, b, c, d})
	require.Equal(t, []Series{c, d}, l.Missing, "each series once, in Bars, Invalid or Missing")
	var ise *InvalidSymbolsError
	require.ErrorAs(t, l.Invalid[b], &ise)
	require.Equal(t, []string{"B"}, ise.Symbols)
	require.ErrorIs(t, l.Invalid[b], ErrInvalidSymbol)
}

func TestSortBarsKeepsTheLastOfEqualTimes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int, v int64) Bar {
		return Bar{Time: t0.Add(time.Duration(m) * time.Minute), Volume: decimal.New(v, 0)}
	}
	got := SortBars([]Bar{at(2, 1), at(0, 1), at(2, 2), at(1, 1), at(0, 2)})
	require.Len(t, got, 3)
	for i, b := range got {
		require.True(t, b.Time.Equal(t0.Add(time.Duration(i)*time.Minute)))
	}
	require.Equal(t, "2", got[0].Volume.String())
	require.Equal(t, "2", got[2].Volume.String())
	require.Empty(t, SortBars(nil))
}
