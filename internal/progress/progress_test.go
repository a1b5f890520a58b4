package progress

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/vendor"
)

var (
	now = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	s   = vendor.Series{Vendor: "alltick", Symbol: "BTCUSDT", Timeframe: vendor.TF1m}
)

func TestFraction(t *testing.T) {
	t.Parallel()
	p := backfill.Progress{Horizon: now.Add(-100 * time.Second)}
	d, tot := fraction(p, now)
	require.Equal(t, [2]int64{0, 100}, [2]int64{d, tot})
	p.Oldest = now.Add(-25 * time.Second)
	d, _ = fraction(p, now)
	require.EqualValues(t, 25, d)
	p.Oldest = now.Add(-500 * time.Second)
	d, _ = fraction(p, now)
	require.EqualValues(t, 100, d)
}

func TestLogThrottlesAndReportsEnd(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	cur := now
	l := NewLog(zap.New(core), 10*time.Second, func() time.Time { return cur })
	p := backfill.Progress{Series: s, Horizon: now.Add(-time.Hour), Oldest: now.Add(-time.Minute), Bars: 60}
	l.Update(p)
	l.Update(p) // within the interval: not logged
	cur = cur.Add(11 * time.Second)
	l.Update(p)
	p.Done, p.Err = true, errors.New("boom")
	l.Update(p)
	require.Equal(t, 2, logs.FilterMessage("backfill progress").Len())
	require.Equal(t, 1, logs.FilterMessage("backfill series failed").Len())
}

func TestTerminalDraws(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	term := NewTerminal(&out, []vendor.Series{s}, func() time.Time { return now })
	term.Update(backfill.Progress{Series: s, Horizon: now.Add(-time.Hour), Oldest: now.Add(-30 * time.Minute), Bars: 1800})
	term.Update(backfill.Progress{Series: s, Horizon: now.Add(-time.Hour), Oldest: now.Add(-time.Hour), Bars: 3600, Done: true})
	term.Close()
	require.Contains(t, out.String(), "alltick:BTCUSDT:1m")
	require.Contains(t, out.String(), "3600 bars")
}
