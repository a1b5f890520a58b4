package incremental

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/vendor"
)

// Trader is the part of a vendor client the trade poller uses.
type Trader interface {
	Trades(ctx context.Context, symbols []string) ([]vendor.Trade, error)
}

// TradeStore is the part of the database the trade poller uses.
type TradeStore interface {
	// WriteTrades stores trades, each tick once, and returns how many were new.
	WriteTrades(ctx context.Context, vendorName string, trades []vendor.Trade) (int, error)
}

// TradeConfig sets up a TradePoller. Zero values take the documented defaults.
type TradeConfig struct {
	Client Trader     // required
	Store  TradeStore // required
	// Vendor names the vendor in the trades table (required).
	Vendor string
	// Symbols to poll (required), with each one's market; a symbol without a
	// market is polled at all hours.
	Symbols []string
	Markets map[string]vendor.Market
	// Interval between polls (required). It is the caller's job to keep it
	// within the plan; the governor enforces it regardless.
	Interval time.Duration
	// Calendar skips symbols whose market is closed; nil polls every symbol.
	Calendar Calendar
	Clock    clock.Clock
	Logger   *zap.Logger
	// Lane marks request contexts for the governor; nil leaves them as they are.
	Lane func(context.Context) context.Context
}

// TradeTick sums up one trade poll.
type TradeTick struct {
	Polled   int // symbols asked for
	Received int // trades the vendor returned
	Stored   int // of those, ticks not stored before
}

// TradePoller polls the latest trade of every symbol into the trades table.
// Symbols the vendor refuses are dropped from later polls (and logged once),
// so one bad code does not cost a request every tick.
type TradePoller struct {
	cfg   TradeConfig
	log   *zap.Logger
	clock clock.Clock

	mu      sync.Mutex
	refused map[string]bool
}

// NewTradePoller checks cfg and returns a TradePoller.
func NewTradePoller(cfg TradeConfig) (*TradePoller, error) {
	switch {
	case cfg.Client == nil || cfg.Store == nil:
		return nil, errors.New("new trade poller: Client and Store are required")
	case cfg.Vendor == "":
		return nil, errors.New("new trade poller: Vendor is required")
	case len(cfg.Symbols) == 0:
		return nil, errors.New("new trade poller: no symbols")
	case cfg.Interval <= 0:
		return nil, errors.New("new trade poller: Interval is required")
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.System{}
	}
	return &TradePoller{cfg: cfg, log: log, clock: clk, refused: map[string]bool{}}, nil
}

// due returns the symbols to ask for now: not refused, market open.
func (p *TradePoller) due() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	var out []string
	for _, sym := range p.cfg.Symbols {
		if p.refused[sym] {
			continue
		}
		if m, ok := p.cfg.Markets[sym]; ok && p.cfg.Calendar != nil && !p.cfg.Calendar.IsOpen(m, now) {
			continue
		}
		out = append(out, sym)
	}
	return out
}

// Tick polls once. Trades that came back are stored even when the call also
// reports an error; refused symbols are dropped from later ticks.
func (p *TradePoller) Tick(ctx context.Context) (TradeTick, error) {
	syms := p.due()
	res := TradeTick{Polled: len(syms)}
	if len(syms) == 0 {
		return res, nil
	}
	if p.cfg.Lane != nil {
		ctx = p.cfg.Lane(ctx)
	}
	trades, err := p.cfg.Client.Trades(ctx, syms)
	var ise *vendor.InvalidSymbolsError
	if errors.As(err, &ise) {
		p.refuse(ise)
		err = nil
	}
	// Keep only trades of symbols asked for: anything else is the vendor's
	// mistake and has no configured series to belong to.
	trades = slices.DeleteFunc(trades, func(t vendor.Trade) bool { return !slices.Contains(syms, t.Symbol) })
	res.Received = len(trades)
	if len(trades) > 0 {
		n, werr := p.cfg.Store.WriteTrades(ctx, p.cfg.Vendor, trades)
		res.Stored = n
		if werr != nil {
			return res, errors.Join(err, fmt.Errorf("store trades: %w", werr))
		}
	}
	if err != nil {
		return res, fmt.Errorf("poll trades: %w", err)
	}
	return res, nil
}

func (p *TradePoller) refuse(ise *vendor.InvalidSymbolsError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, sym := range ise.Symbols {
		if !p.refused[sym] {
			p.refused[sym] = true
			p.log.Warn("vendor refused symbol for trades; no longer polled", zap.String("symbol", sym), zap.Error(ise))
		}
	}
}

// TradeService runs a TradePoller's Tick on its interval, never overlapping,
// like Service.
type TradeService struct {
	poller *TradePoller
	onTick func(TradeTick, error)
	sched  schedule
}

// NewTradeService returns a stopped TradeService. onTick, if set, receives
// every tick's outcome; it must not block.
func NewTradeService(p *TradePoller, log *zap.Logger, onTick func(TradeTick, error)) *TradeService {
	if log == nil {
		log = zap.NewNop()
	}
	return &TradeService{poller: p, onTick: onTick, sched: schedule{log: log.Named("trades"), interval: p.cfg.Interval}}
}

// Start runs a first poll at once and schedules the rest; it does nothing on a
// started TradeService.
func (s *TradeService) Start(ctx context.Context) error {
	return s.sched.start(ctx, nil, func(ctx context.Context) {
		res, err := s.poller.Tick(ctx)
		if errors.Is(err, context.Canceled) {
			return
		}
		if err != nil {
			s.sched.log.Warn("trade poll failed", zap.Error(err))
		}
		if s.onTick != nil {
			s.onTick(res, err)
		}
	})
}

// Stop cancels a running poll, waits for it and stops the schedule. It is
// safe to call more than once.
func (s *TradeService) Stop() { s.sched.stop() }
