// Package progress shows how `syncd backfill` advances: live bars per series on
// a terminal, periodic structured log lines otherwise (a pipe, a container log).
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/backfill"
	"github.com/syncd/syncd/internal/vendor"
)

// Reporter receives backfill progress. Update must not block for long.
type Reporter interface {
	Update(p backfill.Progress)
	// Close stops drawing and flushes; call it once, after the last Update.
	Close()
}

// fraction is how far a series has come from now back to its horizon, in
// seconds covered out of seconds wanted.
func fraction(p backfill.Progress, now time.Time) (done, total int64) {
	total = int64(now.Sub(p.Horizon) / time.Second)
	if total <= 0 {
		return 1, 1
	}
	if p.Oldest.IsZero() {
		return 0, total
	}
	done = min(int64(now.Sub(p.Oldest)/time.Second), total)
	return max(done, 0), total
}

// Terminal draws one bar per series with stored bars, percentage and an ETA.
type Terminal struct {
	p    *mpb.Progress
	now  func() time.Time
	mu   sync.Mutex
	bars map[vendor.Series]*termBar
}

type termBar struct {
	bar    *mpb.Bar
	stored atomic.Int64
	total  int64
}

// NewTerminal returns a Terminal drawing to w (a TTY) for series.
func NewTerminal(w io.Writer, series []vendor.Series, now func() time.Time) *Terminal {
	t := &Terminal{p: mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh(), mpb.WithWidth(40)), now: now, bars: map[vendor.Series]*termBar{}}
	for _, s := range series {
		tb := &termBar{}
		tb.bar = t.p.New(1, mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(s.String(), decor.WCSyncSpaceR)),
			mpb.AppendDecorators(
				decor.Percentage(decor.WCSyncSpace),
				decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%d bars", tb.stored.Load()) }, decor.WCSyncSpace),
				decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done"),
			))
		t.bars[s] = tb
	}
	return t
}

// Update moves the series' bar.
func (t *Terminal) Update(p backfill.Progress) {
	t.mu.Lock()
	tb, ok := t.bars[p.Series]
	t.mu.Unlock()
	if !ok {
		return
	}
	tb.stored.Store(int64(p.Bars))
	if p.Heal {
		return
	}
	done, total := fraction(p, t.now())
	if tb.total != total {
		tb.total = total
		tb.bar.SetTotal(total, false)
	}
	if p.Done {
		if p.Err != nil {
			tb.bar.Abort(false)
			return
		}
		tb.bar.SetTotal(total, true)
		return
	}
	tb.bar.SetCurrent(done)
}

// Close completes every bar and waits for the last frame.
func (t *Terminal) Close() {
	t.mu.Lock()
	for _, tb := range t.bars {
		if !tb.bar.Completed() && !tb.bar.Aborted() {
			tb.bar.Abort(false)
		}
	}
	t.mu.Unlock()
	t.p.Wait()
}

// Log writes a structured line per series at most every interval, and one
// when the series finishes.
type Log struct {
	log      *zap.Logger
	now      func() time.Time
	interval time.Duration
	mu       sync.Mutex
	last     map[vendor.Series]time.Time
}

// NewLog returns a Log reporter; interval ≤ 0 means 10 s.
func NewLog(log *zap.Logger, interval time.Duration, now func() time.Time) *Log {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	return &Log{log: log.Named("progress"), now: now, interval: interval, last: map[vendor.Series]time.Time{}}
}

// Update logs when the interval has passed for the series, or it is done.
func (l *Log) Update(p backfill.Progress) {
	now := l.now()
	l.mu.Lock()
	due := p.Done || now.Sub(l.last[p.Series]) >= l.interval
	if due {
		l.last[p.Series] = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	done, total := fraction(p, now)
	fields := []zap.Field{zap.Stringer("series", p.Series), zap.Int("bars", p.Bars), zap.Int("pages", p.Pages),
		zap.Int("requests", p.Requests), zap.Float64("percent", 100*float64(done)/float64(total))}
	if !p.Oldest.IsZero() {
		fields = append(fields, zap.Time("oldest", p.Oldest))
	}
	switch {
	case p.Done && p.Err != nil:
		l.log.Warn("backfill series failed", append(fields, zap.Error(p.Err))...)
	case p.Done:
		l.log.Info("backfill series done", fields...)
	default:
		l.log.Info("backfill progress", fields...)
	}
}

// Close does nothing; every line is already written.
func (l *Log) Close() {}
