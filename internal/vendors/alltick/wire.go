package alltick

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

// Path prefixes: stock codes (US, HK, A-shares) and everything else (FX,
// metals, crypto, energy, CFDs) are served by different endpoint families; a
// code on the wrong one is answered 600.
const (
	StockPrefix = "/quote-stock-b-api"
	OtherPrefix = "/quote-b-api"
)

// Response codes (ret) AllTick documents.
const (
	RetOK               = 200
	RetBadHeader        = 400
	RetTokenInvalid     = 401
	RetQueryInvalid     = 402
	RetRateLimit        = 429
	RetCodeInvalid      = 600
	RetBodyEmpty        = 601
	RetLevelNotEnough   = 603
	RetCodeUnauthorized = 604
	RetTooManyRequests  = 605
	RetTooManyAndClose  = 606
)

// KlineTypes maps timeframes to kline_type.
var KlineTypes = map[vendor.Timeframe]int{
	vendor.TF1m: 1, vendor.TF5m: 2, vendor.TF15m: 3, vendor.TF30m: 4, vendor.TF1h: 5,
	vendor.TF2h: 6, vendor.TF4h: 7, vendor.TF1d: 8, vendor.TF1w: 9, vendor.TF1M: 10,
}

// TimeframeOf maps kline_type back.
func TimeframeOf(kt int) (vendor.Timeframe, bool) {
	for tf, k := range KlineTypes {
		if k == kt {
			return tf, true
		}
	}
	return "", false
}

// Request is the common wrapper of every request: a unique trace and the data.
type Request[T any] struct {
	Trace string `json:"trace"`
	Data  T      `json:"data"`
}

// KlineQuery is one (code, kline_type) query: /kline's data, and one group of
// /batch-kline's data_list.
type KlineQuery struct {
	Code              string `json:"code"`
	KlineType         int    `json:"kline_type"`
	KlineTimestampEnd int64  `json:"kline_timestamp_end"`
	QueryKlineNum     int    `json:"query_kline_num"`
	AdjustType        int    `json:"adjust_type"`
}

// BatchQuery is /batch-kline's data.
type BatchQuery struct {
	DataList []KlineQuery `json:"data_list"`
}

// TradeQuery is /trade-tick's data.
type TradeQuery struct {
	SymbolList []Symbol `json:"symbol_list"`
}

// Symbol names one code.
type Symbol struct {
	Code string `json:"code"`
}

// Envelope wraps every response.
type Envelope struct {
	Ret   int             `json:"ret"`
	Msg   string          `json:"msg"`
	Trace string          `json:"trace"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// KlineData is /kline's data.
type KlineData struct {
	Code      string            `json:"code"`
	KlineType int               `json:"kline_type"`
	KlineList []json.RawMessage `json:"kline_list"`
}

// BatchData is /batch-kline's data.
type BatchData struct {
	KlineList []BatchGroup `json:"kline_list"`
}

// BatchGroup is one group's answer.
type BatchGroup struct {
	Code      string            `json:"code"`
	KlineType int               `json:"kline_type"`
	KlineData []json.RawMessage `json:"kline_data"`
}

// Bar is one K-line as AllTick sends it: every field a string.
type Bar struct {
	Timestamp  Seconds         `json:"timestamp"`
	OpenPrice  decimal.Decimal `json:"open_price"`
	ClosePrice decimal.Decimal `json:"close_price"`
	HighPrice  decimal.Decimal `json:"high_price"`
	LowPrice   decimal.Decimal `json:"low_price"`
	Volume     decimal.Decimal `json:"volume"`
	Turnover   decimal.Null    `json:"turnover"`
}

// TradeData is /trade-tick's data.
type TradeData struct {
	TickList []json.RawMessage `json:"tick_list"`
}

// Tick is one latest trade.
type Tick struct {
	Code           string          `json:"code"`
	Seq            string          `json:"seq"`
	TickTime       Millis          `json:"tick_time"`
	Price          decimal.Decimal `json:"price"`
	Volume         decimal.Decimal `json:"volume"`
	Turnover       decimal.Null    `json:"turnover"`
	TradeDirection int             `json:"trade_direction"`
}

// Seconds is a Unix time in seconds, sent as a JSON string (or number).
type Seconds int64

// Millis is a Unix time in milliseconds, sent as a JSON string (or number).
type Millis int64

// Bounds that tell seconds from milliseconds: bar times in seconds lie below
// 1e11 (year 5138); milliseconds of any date after 1973 lie above it.
const unitBoundary = 100_000_000_000

var errUnit = errors.New("timestamp in the wrong unit")

func readInt(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// UnmarshalJSON accepts "1677829200" or 1677829200 and rejects milliseconds.
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

// MarshalJSON writes the string form AllTick uses.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(s), 10) + `"`), nil
}

// UnmarshalJSON accepts "1677831545217" or a number and rejects seconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	v, err := readInt(b)
	if err != nil {
		return fmt.Errorf("tick_time %s: %w", b, err)
	}
	if v < unitBoundary {
		return fmt.Errorf("tick_time %d: %w (want milliseconds)", v, errUnit)
	}
	*m = Millis(v)
	return nil
}

// MarshalJSON writes the string form AllTick uses.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(m), 10) + `"`), nil
}

// ToBar converts to the common form.
func (b Bar) ToBar() vendor.Bar {
	return vendor.Bar{Time: time.Unix(int64(b.Timestamp), 0).UTC(), Open: b.OpenPrice, High: b.HighPrice, Low: b.LowPrice,
		Close: b.ClosePrice, Volume: b.Volume, Turnover: b.Turnover}
}

// FromBar converts from the common form (for the simulator).
func FromBar(b vendor.Bar) Bar {
	return Bar{Timestamp: Seconds(b.Time.Unix()), OpenPrice: b.Open, ClosePrice: b.Close, HighPrice: b.High, LowPrice: b.Low,
		Volume: b.Volume, Turnover: b.Turnover}
}
