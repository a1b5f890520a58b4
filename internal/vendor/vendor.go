// Package vendor is the vocabulary shared by the market-data vendor clients and
// the engines that drive them: bars with exact decimals, series, timeframes,
// capabilities, the quota gate every request passes through, and the classified
// errors the engines act on.
//
// Each vendor has its own package below this one (alltick, xdtick, infoway,
// qos) with a concrete *Client. The engines declare the small interfaces they
// need; this package declares only what the clients themselves consume (Gate).
package vendor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/syncd/syncd/internal/decimal"
)

// Names of the supported vendors, as configured in SYNCD_VENDOR and stored in
// `candles.vendor`.
const (
	AllTick = "alltick"
	XdTick  = "xdtick"
	Infoway = "infoway"
	QOS     = "qos"
)

// Names lists the supported vendors.
var Names = []string{AllTick, XdTick, Infoway, QOS}

// Series is one stored time series: a vendor's symbol at one timeframe. Symbol
// is the vendor's own code, exactly as configured.
type Series struct {
	Vendor    string
	Symbol    string
	Timeframe Timeframe
}

// String formats the series for logs: "alltick:BTCUSDT:1m".
func (s Series) String() string { return s.Vendor + ":" + s.Symbol + ":" + string(s.Timeframe) }

// Bar is one OHLCV candle. Time is the bar's open time in UTC. Values are the
// vendor's exact decimals; Turnover is absent where the vendor sends none.
type Bar struct {
	Time     time.Time
	Open     decimal.Decimal
	High     decimal.Decimal
	Low      decimal.Decimal
	Close    decimal.Decimal
	Volume   decimal.Decimal
	Turnover decimal.Null
}

// SameValues reports whether two bars carry identical values (text-identical
// decimals), the sense in which a re-poll "changed nothing".
func (b Bar) SameValues(o Bar) bool {
	return b.Time.Equal(o.Time) && b.Open.Identical(o.Open) && b.High.Identical(o.High) &&
		b.Low.Identical(o.Low) && b.Close.Identical(o.Close) && b.Volume.Identical(o.Volume) &&
		b.Turnover.Identical(o.Turnover)
}

// Reject is an element of a response that could not be decoded into a Bar or
// Trade (a bad number, a missing field). It goes to quarantine with its raw
// bytes; the rest of the response is still used.
type Reject struct {
	Series Series          // the series it belonged to, as far as known
	Raw    json.RawMessage // the element as received
	Reason string          // why it was rejected, for humans
}

// Page is one answer of a history endpoint for one series.
type Page struct {
	// Bars sorted ascending by Time, duplicates (same Time) removed keeping the
	// last occurrence in the vendor's order.
	Bars []Bar
	// Rejects are elements that failed to decode.
	Rejects []Reject
	// Requested is how many bars were asked for; a page with fewer is short.
	Requested int
}

// Latest is the answer of a batch "latest bars" call for many series.
type Latest struct {
	// Bars holds, per series that came back, its latest bars ascending (usually
	// two: the one that just closed and the one still forming).
	Bars map[Series][]Bar
	// Missing lists series that were requested and did not come back, with no
	// error that names them. Engines retry them on the next tick.
	Missing []Series
	// Invalid lists series the vendor refused as unknown or unauthorised codes,
	// with the reason. Engines stop polling them and say so.
	Invalid map[Series]error
	// Rejects are elements that failed to decode.
	Rejects []Reject
}

// Trade is one latest trade (tick).
type Trade struct {
	Symbol    string
	Time      time.Time // UTC
	Price     decimal.Decimal
	Volume    decimal.Decimal
	Turnover  decimal.Null
	Seq       string // the vendor's sequence or id, "" where none
	Direction int    // 0 unknown, 1 buy, 2 sell
}

// Endpoint names a kind of vendor request for quota accounting. A vendor's plan
// may give each a minimum spacing; all count toward the shared windows.
type Endpoint string

// The endpoints syncd calls.
const (
	EndpointHistory Endpoint = "history" // single-series history page
	EndpointLatest  Endpoint = "latest"  // batch latest-bars
	EndpointTrades  Endpoint = "trades"  // latest trades
)

// Gate is what every vendor request passes through before it is sent: the
// quota governor. Acquire blocks until the plan allows one request to ep
// carrying items groups or codes, or ctx ends (returning ctx's error). Retries
// call Acquire again, like first attempts. Report tells the gate how the request
// ended: a nil error, or an error wrapping ErrRateLimited or ErrQuotaExhausted,
// on which the gate slows everything down.
//
// A granted request is sent a little after Acquire returns (scheduling,
// building, connecting), and the vendor counts arrivals, so the gate accounts
// spacing and windows from the moment the request really left: the caller
// calls the returned Sent once the request has been written to the connection,
// or, if it never will be, once it gives up. Until then the gate holds back
// whatever that moment decides. A nil Sent means the gate does not need it.
type Gate interface {
	Acquire(ctx context.Context, ep Endpoint, items int) (Sent, error)
	Report(ep Endpoint, err error)
}

// Sent records that a granted request has left (see Gate). Calling it more than
// once is harmless: the first call counts.
type Sent func()

// Open is a Gate that never waits, for tests and unlimited custom plans.
type Open struct{}

// Acquire returns ctx's error, if any, at once.
func (Open) Acquire(ctx context.Context, _ Endpoint, _ int) (Sent, error) { return nil, ctx.Err() }

// Report does nothing.
func (Open) Report(Endpoint, error) {}

// Market is the trading venue class of a symbol, which decides sessions,
// daily-bar anchors and, for some vendors, which endpoint serves it.
type Market string

// Markets syncd distinguishes.
const (
	MarketCrypto    Market = "crypto"    // 24/7
	MarketFX        Market = "fx"        // 24/5
	MarketCommodity Market = "commodity" // metals, energy, CFDs: 24/5
	MarketUS        Market = "us"        // US stocks and ETFs
	MarketHK        Market = "hk"        // Hong Kong stocks
	MarketCN        Market = "cn"        // Shanghai and Shenzhen stocks
	MarketJP        Market = "jp"
	MarketIndex     Market = "index" // indices whose venue is not known
	MarketOther     Market = "other"
)

// EndBound says whether a history request's end time includes the bar that
// opens at (or contains) it.
type EndBound int

// EndBound values. Unknown is treated like Inclusive by the backfill engine:
// the boundary bar may repeat, and the idempotent upsert absorbs it.
const (
	EndUnknown EndBound = iota
	EndInclusive
	EndExclusive
)

// Capabilities say what a vendor can serve for one symbol, so the engines never
// send a request the vendor will refuse.
type Capabilities struct {
	Vendor string
	Market Market
	// PageSize is the most bars one history request returns.
	PageSize int
	// PagesBack is false when history cannot be requested before "now" for this
	// symbol (AllTick stocks, XdTick): only the latest PageSize bars exist.
	PagesBack bool
	// EndBound tells how the history end time is treated.
	EndBound EndBound
	// Depth is the most bars the vendor keeps reachable per series (QOS: 1000);
	// 0 means not documented.
	Depth int
	// Timeframes lists those the vendor serves for this symbol.
	Timeframes []Timeframe
	// BatchMax is the vendor's own cap on series per latest-bars request
	// (before any plan cap); 0 when latest bars are fetched one series at a time.
	BatchMax int
	// BatchOneTimeframe is true when one latest request may carry only one
	// timeframe (Infoway).
	BatchOneTimeframe bool
	// BatchKey groups series that may share a latest request (QOS: the market
	// prefix); "" when any series may.
	BatchKey string
}

// Supports reports whether tf is among c.Timeframes.
func (c Capabilities) Supports(tf Timeframe) bool {
	return slices.Contains(c.Timeframes, tf)
}

// CheckTimeframe returns an error that names the symbol when tf is not served.
func (c Capabilities) CheckTimeframe(symbol string, tf Timeframe) error {
	if c.Supports(tf) {
		return nil
	}
	return fmt.Errorf("%w: %s does not serve timeframe %s for %s (%s market)", ErrUnsupported, c.Vendor, tf, symbol, c.Market)
}

// MarkMissing lists as Missing every requested series that got neither bars
// nor a verdict, so that a call cut short still accounts for every series.
func (l *Latest) MarkMissing(requested []Series) {
	for _, s := range requested {
		if _, ok := l.Bars[s]; ok {
			continue
		}
		if _, ok := l.Invalid[s]; ok {
			continue
		}
		if slices.Contains(l.Missing, s) {
			continue
		}
		l.Missing = append(l.Missing, s)
	}
}

// MarkInvalid records that the vendor refused s's code.
func (l *Latest) MarkInvalid(s Series, err error) {
	l.Invalid[s] = &InvalidSymbolsError{Symbols: []string{s.Symbol}, Err: err}
}

// SortBars sorts bars ascending by Time in place and drops repeated times,
// keeping the last occurrence in the vendor's order (a page that overlaps
// itself sends the newer values last). It returns the shortened slice.
func SortBars(bars []Bar) []Bar {
	slices.SortStableFunc(bars, func(a, b Bar) int { return a.Time.Compare(b.Time) })
	out := bars[:0]
	for i, b := range bars {
		if i+1 < len(bars) && bars[i+1].Time.Equal(b.Time) {
			continue
		}
		out = append(out, b)
	}
	return out
}
