package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
)

// Instrument describes a generated symbol: its market (which decides sessions
// and defaults) and how its numbers are written. Build one with
// NewInstrument, then override fields as a vendor's convention requires.
type Instrument struct {
	// Symbol is the path key together with the simulator seed: the same
	// symbol text always gives the same prices, whatever the timeframe.
	// Vendor handlers pass the vendor's own code (or a canonical form of it).
	Symbol string
	// Market decides sessions, holidays and the defaults below.
	Market vendor.Market
	// PriceScale is the number of decimals of open, high, low, close (0–12).
	PriceScale int32
	// VolumeScale is the number of decimals of volume (0–12): 8 for crypto
	// coins, 0 for shares and FX tick counts.
	VolumeScale int32
	// BasePrice is the price level the path wanders around, in units of
	// 10^-PriceScale (so 6012345 at scale 2 is 60123.45). 0 picks one from the
	// symbol's hash within the market's usual range.
	BasePrice int64
	// DailyVol is the standard deviation of the log price over 24 hours of
	// wall-clock time (0.03 = 3 %). 0 means the market's default.
	DailyVol float64
	// MinuteNotional is the average traded value per open minute in price
	// units, which sets volumes. 0 means the market's default.
	MinuteNotional float64
}

// marketDefaults are per asset class: decimals as vendors write them
// (crypto 2 and 8, FX 5, US 2, HK 3, CN 2, commodities 2), a price range,
// daily volatility and traded value per minute.
type marketDefaults struct {
	priceScale, volumeScale int32
	lo, hi                  float64 // base price range (log-uniform)
	dailyVol                float64
	notional                float64
}

func defaultsFor(m vendor.Market) marketDefaults {
	switch m {
	case vendor.MarketCrypto:
		return marketDefaults{2, 8, 20, 80000, 0.035, 400_000}
	case vendor.MarketFX:
		// Volume is a tick count, as FX feeds without a central tape report.
		return marketDefaults{5, 0, 0.6, 1.9, 0.006, 150}
	case vendor.MarketCommodity:
		return marketDefaults{2, 2, 20, 3000, 0.015, 200_000}
	case vendor.MarketUS:
		return marketDefaults{2, 0, 10, 900, 0.02, 2_000_000}
	case vendor.MarketHK:
		return marketDefaults{3, 0, 1, 600, 0.022, 3_000_000}
	case vendor.MarketCN:
		return marketDefaults{2, 0, 3, 300, 0.022, 2_000_000}
	case vendor.MarketJP:
		return marketDefaults{1, 0, 300, 20000, 0.018, 20_000_000}
	}
	return marketDefaults{2, 0, 1000, 40000, 0.015, 1_000_000}
}

// NewInstrument returns symbol's instrument with its market's defaults.
func NewInstrument(symbol string, m vendor.Market) Instrument {
	d := defaultsFor(m)
	return Instrument{Symbol: symbol, Market: m, PriceScale: d.priceScale, VolumeScale: d.volumeScale}
}

// Validate reports a field out of range.
func (in Instrument) Validate() error {
	switch {
	case in.Symbol == "":
		return fmt.Errorf("%w: empty symbol", ErrBadRequest)
	case in.PriceScale < 0 || in.PriceScale > 12:
		return fmt.Errorf("%w: price scale %d outside 0–12", ErrBadRequest, in.PriceScale)
	case in.VolumeScale < 0 || in.VolumeScale > 12:
		return fmt.Errorf("%w: volume scale %d outside 0–12", ErrBadRequest, in.VolumeScale)
	case in.BasePrice < 0 || in.DailyVol < 0 || in.DailyVol > 0.5 || in.MinuteNotional < 0:
		return fmt.Errorf("%w: negative base price, volume or notional, or daily volatility above 50 %%", ErrBadRequest)
	}
	return nil
}

// Spec names one generated series: an instrument at a timeframe, with the
// vendor's convention for where daily, weekly and monthly bars start.
type Spec struct {
	Instrument
	Timeframe vendor.Timeframe
	Anchor    calendar.Anchor
}

// Validate reports a bad instrument or timeframe.
func (s Spec) Validate() error {
	if !s.Timeframe.Valid() {
		return fmt.Errorf("%w: timeframe %q", ErrBadRequest, s.Timeframe)
	}
	return s.Instrument.Validate()
}

// maxVolPerMin keeps volumes inside int64: a root of the statistics tree
// (2^16 minutes) holds at most 1.5 × 1.25 × 2^16 of it, about 1.2e18, and
// no bar (a month at most) reaches into more than two roots.
const maxVolPerMin = 10_000_000_000_000

// model is an instrument's derived generation parameters.
type model struct {
	path       path
	key        uint64
	base       float64 // base price in coefficient units
	pow10v     int64   // 10^VolumeScale
	priceScale int32
	volScale   int32

	// Memo of the last close, the next bar's open (see bar).
	lastW, lastC int64
	hasLast      bool
}

func (g *Generator) model(in Instrument) model {
	d := defaultsFor(in.Market)
	key := seriesKey(g.seed, in.Symbol)
	sigmaDay := in.DailyVol
	if sigmaDay == 0 {
		sigmaDay = d.dailyVol
	}
	// A day of the path is 1440 minutes, or one block of dayBlock slots for
	// markets laid out in trading days (see dayBlocks).
	dayLen := 24 * 60.0
	blocks := dayBlocks(in.Market)
	if blocks {
		dayLen = dayBlock
	}
	sigma := sigmaDay / math.Sqrt(dayLen)
	ps := math.Pow(10, float64(in.PriceScale))
	base := float64(in.BasePrice)
	if base == 0 {
		// Log-uniform in the market's range, from the key; floats here feed
		// one rounding to an integer, identical on every platform.
		u := float64(mix64(key^0xba5e)>>11) / (1 << 53)
		base = math.Round(math.Exp(math.Log(d.lo)+u*(math.Log(d.hi)-math.Log(d.lo))) * ps)
		base = max(base, 100) // at least 100 ticks, so a tick is ≤ 1 %
	}
	notional := in.MinuteNotional
	if notional == 0 {
		notional = d.notional
	}
	pv := int64(math.Pow(10, float64(in.VolumeScale)))
	vol := int64(notional / (base / ps) * float64(pv))
	pth := newPath(key, sigma, min(max(vol, 1), maxVolPerMin))
	if blocks {
		pth.days = func(day int64) int64 { return int64(g.cal.TradingTime(in.Market, int(day)) / time.Minute) }
	}
	return model{
		path:       pth,
		key:        key,
		base:       base,
		pow10v:     pv,
		priceScale: in.PriceScale,
		volScale:   in.VolumeScale,
	}
}

// price converts a log value to a price coefficient: base·e^w rounded to the
// instrument's tick, never below one tick. Monotone in w, so extremes taken on
// log values stay extremes after conversion.
func (m *model) price(w int64) int64 {
	v := math.Floor(float64(m.base*expDet(float64(w)/nano)) + 0.5)
	if v < 1 {
		return 1
	}
	if v > math.MaxInt64/4 {
		return math.MaxInt64 / 4
	}
	return int64(v)
}
