package xdtick

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

// Paths of XdTick's HTTP endpoints. There is one family only: XdTick serves
// FX, metals, crypto, energy, CFD indices and commodities, no stocks.
const (
	PathKline  = "/tick-api/kline"
	PathBatch  = "/tick-api/batch-kline"
	PathTrades = "/tick-api/trade-tick"
)

// HeaderKey is the request header that carries the API key on every HTTP
// call (the WebSocket, which syncd does not use, takes token= instead).
const HeaderKey = "X-API-KEY"

// Response codes (the envelope's code) XdTick documents. Its error page is
// AllTick's table word for word; that the codes come back in `code` rather
// than AllTick's `ret` follows from XdTick's envelope, not from an example.
const (
	CodeOK               = 200
	CodeBadHeader        = 400
	CodeTokenInvalid     = 401
	CodeQueryInvalid     = 402
	CodeRateLimit        = 429
	CodeCodeInvalid      = 600
	CodeBodyEmpty        = 601
	CodeLevelNotEnough   = 603
	CodeCodeUnauthorized = 604
	CodeTooManyRequests  = 605
	CodeTooManyAndClose  = 606
)

// MsgOK is the msg of a successful answer.
const MsgOK = "successful"

// KlineTypes maps timeframes to klineType. XdTick's "1m" is one MONTH; its
// minute is "1min". It has no 2h or 4h bars.
var KlineTypes = map[vendor.Timeframe]string{
	vendor.TF1m: "1min", vendor.TF5m: "5min", vendor.TF15m: "15min", vendor.TF30m: "30min",
	vendor.TF1h: "60min", vendor.TF1d: "1d", vendor.TF1w: "1w", vendor.TF1M: "1m",
}

// TimeframeOf maps a klineType back; case matters ("1M" is not XdTick's).
func TimeframeOf(kt string) (vendor.Timeframe, bool) {
	for tf, k := range KlineTypes {
		if k == kt {
			return tf, true
		}
	}
	return "", false
}

// BatchItem is one group (code × klineType) of POST /tick-api/batch-kline,
// whose body is a bare JSON array of them. Size is at most 2.
type BatchItem struct {
	Code      string `json:"code"`
	KlineType string `json:"klineType"`
	Size      int    `json:"size"`
}

// Envelope wraps every response: {"code":200,"msg":"successful","data":{…}}.
type Envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data,omitempty"`
}

// KlineData is /tick-api/kline's data. Bars come newest first.
type KlineData struct {
	Code      string            `json:"code"`
	KlineType string            `json:"klineType"`
	KlineList []json.RawMessage `json:"klineList"`
}

// BatchData is /tick-api/batch-kline's data.
type BatchData struct {
	KlineList []BatchGroup `json:"klineList"`
}

// BatchGroup is one group's answer.
type BatchGroup struct {
	Code      string            `json:"code"`
	KlineType string            `json:"klineType"`
	KlineData []json.RawMessage `json:"klineData"`
}

// Bar is one K-line as XdTick sends it: numbers as JSON numbers (the field
// tables say strings; both are read), the open time in milliseconds, and the
// same instant again as startTime in UTC+8 wall time without an offset.
type Bar struct {
	Timestamp    Millis `json:"timestamp"`
	StartTime    string `json:"startTime,omitempty"`
	Open         Num    `json:"open"`
	High         Num    `json:"high"`
	Low          Num    `json:"low"`
	Close        Num    `json:"close"`
	Volume       Num    `json:"volume"`
	QuoteVolume  Num    `json:"quoteVolume,omitzero"`
	ChangeAmount Num    `json:"changeAmount,omitzero"`
	ChangeRate   Num    `json:"changeRate,omitzero"`
}

// TradeData is /tick-api/trade-tick's data.
type TradeData struct {
	TickList []json.RawMessage `json:"tickList"`
}

// Tick is one latest trade. Its timestamp is in seconds, unlike the bars'.
// The example names the traded amount turnover, the field table quoteVolume;
// FX, metals and energy send none.
type Tick struct {
	Code        string  `json:"code"`
	Price       Num     `json:"price"`
	Volume      Num     `json:"volume"`
	Turnover    Num     `json:"turnover,omitzero"`
	QuoteVolume Num     `json:"quoteVolume,omitzero"`
	Timestamp   Seconds `json:"timestamp"`
}

// Num is a decimal as XdTick writes it, read with its exact digits from a
// JSON number or string; absent, null or "" leaves Valid false. It is
// written back as a JSON number, as XdTick's examples show.
type Num struct{ decimal.Null }

// NumOf wraps a decimal.
func NumOf(d decimal.Decimal) Num { return Num{decimal.Null{Decimal: d, Valid: true}} }

// MarshalJSON writes a JSON number, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return n.Decimal.Append(nil), nil
}

// Millis is a Unix time in milliseconds, a JSON number (or string).
type Millis int64

// Seconds is a Unix time in seconds, a JSON number (or string).
type Seconds int64

// unitBoundary tells the units apart: a time in seconds lies below 1e11
// (year 5138), one in milliseconds above it for any date after 1973.
const unitBoundary = 100_000_000_000

var errUnit = errors.New("timestamp in the wrong unit")

// MinTime is the oldest bar time the client accepts: a time in milliseconds
// before it (1973-03-03T09:46:40Z) cannot be told from one in seconds.
var MinTime = time.UnixMilli(unitBoundary).UTC()

func readInt(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// UnmarshalJSON accepts 1768992360000 or "1768992360000" and rejects seconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	v, err := readInt(b)
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	if v < unitBoundary {
		return fmt.Errorf("timestamp %d: %w (want milliseconds)", v, errUnit)
	}
	*m = Millis(v)
	return nil
}

// MarshalJSON writes a JSON number.
func (m Millis) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(m), 10), nil }

// UnmarshalJSON accepts 1769616358 or "1769616358" and rejects milliseconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	v, err := readInt(b)
	if err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	if v <= 0 || v >= unitBoundary {
		return fmt.Errorf("timestamp %d: %w (want seconds)", v, errUnit)
	}
	*s = Seconds(v)
	return nil
}

// MarshalJSON writes a JSON number.
func (s Seconds) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(s), 10), nil }

// missing names the first required field the bar lacks, or "".
func (b Bar) missing() string {
	switch {
	case b.Timestamp == 0:
		return "timestamp"
	case !b.Open.Valid:
		return "open"
	case !b.High.Valid:
		return "high"
	case !b.Low.Valid:
		return "low"
	case !b.Close.Valid:
		return "close"
	case !b.Volume.Valid:
		return "volume"
	}
	return ""
}

// ToBar converts to the common form; quoteVolume is the turnover.
func (b Bar) ToBar() vendor.Bar {
	return vendor.Bar{Time: time.UnixMilli(int64(b.Timestamp)).UTC(), Open: b.Open.Decimal, High: b.High.Decimal,
		Low: b.Low.Decimal, Close: b.Close.Decimal, Volume: b.Volume.Decimal, Turnover: b.QuoteVolume.Null}
}

// startTimeZone is the wall clock of startTime.
var startTimeZone = time.FixedZone("UTC+8", 8*3600)

// StartTimeLayout is startTime's layout: UTC+8 wall time, no offset.
const StartTimeLayout = "2006-01-02T15:04:05"

// changeRateScale is the decimals of changeRate in XdTick's examples.
const changeRateScale = 8

// FromBar converts from the common form (for the simulator), filling the
// derived fields as XdTick does: startTime, changeAmount = close − open and
// changeRate = changeAmount / open.
func FromBar(b vendor.Bar) Bar {
	amount, rate := change(b.Open, b.Close)
	return Bar{Timestamp: Millis(b.Time.UnixMilli()), StartTime: b.Time.In(startTimeZone).Format(StartTimeLayout),
		Open: NumOf(b.Open), High: NumOf(b.High), Low: NumOf(b.Low), Close: NumOf(b.Close), Volume: NumOf(b.Volume),
		QuoteVolume: Num{b.Turnover}, ChangeAmount: NumOf(amount), ChangeRate: NumOf(rate)}
}

// change returns close − open exactly and (close − open) / open rounded to
// changeRateScale decimals (0 when open is 0).
func change(open, closing decimal.Decimal) (amount, rate decimal.Decimal) {
	scale := max(open.Scale(), closing.Scale())
	diff := new(big.Int).Sub(rescale(closing, scale), rescale(open, scale))
	amount = decimal.NewFromBig(diff, scale)
	if open.IsZero() {
		return amount, decimal.New(0, changeRateScale)
	}
	r := new(big.Rat).SetFrac(diff, rescale(open, scale))
	rate, err := decimal.Parse(r.FloatString(changeRateScale))
	if err != nil {
		return amount, decimal.New(0, changeRateScale)
	}
	return amount, rate
}

// rescale returns d's coefficient at a scale ≥ d.Scale().
func rescale(d decimal.Decimal, scale int32) *big.Int {
	c := d.Coefficient()
	if scale > d.Scale() {
		c.Mul(c, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-d.Scale())), nil))
	}
	return c
}
