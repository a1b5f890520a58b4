package qos

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/lenient"
)

// This file holds QOS's wire format, exported so that the simulator encodes
// its answers with the very types the client decodes (they round-trip).
// Source: the QOS API doc (qos.hk web version) and the GitHub docs/SDKs
// (vendors.md §6).

// DefaultBaseURL is the REST host used when none is configured.
//
// UNCONFIRMED which host is current: the web doc says https://qos.hk, the
// GitHub docs and both official SDKs (Go consts.go, Python constants.py) say
// https://api.qos.hk. syncd takes the SDKs' host: SDK constants are code that
// users run against the service, and an api. host is the conventional place
// for a REST API, while the bare domain also serves the web site. It is
// configurable (Config.BaseURL) either way.
const DefaultBaseURL = "https://api.qos.hk"

// HeaderKey is the request header that carries the API key. QOS also accepts
// it as a URL parameter; syncd never puts it in a URL.
const HeaderKey = "key"

// Endpoint paths. Every call is a POST with a JSON body.
const (
	PathKline   = "/kline"   // latest co bars
	PathHistory = "/history" // co bars backwards from e, e included
	PathTrade   = "/trade"   // latest trades
)

// Limits.
const (
	// MaxCount is the most bars one kline request returns per code: by default
	// every type keeps only the latest 1000 bars, which is also the depth.
	MaxCount = 1000
	// LatestCount is the bar count of a latest request.
	LatestCount = 2
	// MaxTradeCount bounds the count of /trade; syncd asks for 1.
	MaxTradeCount = 50
	// MaxSeries is syncd's own cap on series per latest request. QOS documents
	// no cap on kline_reqs or codes per request, only a plan-wide product
	// limit (10 on the default plan, which Config.BatchMax carries); 100 keeps
	// requests and answers small while leaving room for larger plans.
	MaxSeries = 100
	// DefaultTradeMax caps codes per /trade request, for the same reasons.
	DefaultTradeMax = 100
	// DefaultPlanProducts is the product limit of the default plan (also 10
	// requests per minute).
	DefaultPlanProducts = 10
)

// MsgOK is the msg of every successful answer; anything else is an error
// text. QOS documents no numeric error codes and no error texts.
const MsgOK = "OK"

// Adjustment (a): syncd stores unadjusted bars.
const (
	AdjustNone    = 0
	AdjustForward = 1
)

// K-line types (kt).
const (
	Kt1m    = 1
	Kt5m    = 5
	Kt15m   = 15
	Kt30m   = 30
	Kt1h    = 60
	Kt2h    = 120
	Kt4h    = 240
	KtDay   = 1001
	KtWeek  = 1007
	KtMonth = 1030
	KtYear  = 2001 // no syncd timeframe
)

var klineTypes = map[vendor.Timeframe]int{
	vendor.TF1m: Kt1m, vendor.TF5m: Kt5m, vendor.TF15m: Kt15m, vendor.TF30m: Kt30m,
	vendor.TF1h: Kt1h, vendor.TF2h: Kt2h, vendor.TF4h: Kt4h,
	vendor.TF1d: KtDay, vendor.TF1w: KtWeek, vendor.TF1M: KtMonth,
}

// KlineType maps a timeframe to QOS's kt; false if none.
func KlineType(tf vendor.Timeframe) (int, bool) {
	kt, ok := klineTypes[tf]
	return kt, ok
}

// TimeframeOf maps a kt back to the timeframe; false for 2001 and unknown values.
func TimeframeOf(kt int) (vendor.Timeframe, bool) {
	for tf, k := range klineTypes {
		if k == kt {
			return tf, true
		}
	}
	return "", false
}

// Market prefixes of QOS codes ("US:AAPL").
const (
	MktUS = "US" // US stocks
	MktHK = "HK" // Hong Kong stocks
	MktSH = "SH" // Shanghai
	MktSZ = "SZ" // Shenzhen
	MktCF = "CF" // crypto perpetual contracts
	MktFX = "FX" // FX
	MktCM = "CM" // commodities (XAUUSD, XTIUSD …)
	MktIX = "IX" // indices
	MktSI = "SI" // stock indices (product-list only)
)

var markets = map[string]vendor.Market{
	MktUS: vendor.MarketUS, MktHK: vendor.MarketHK, MktSH: vendor.MarketCN, MktSZ: vendor.MarketCN,
	MktCF: vendor.MarketCrypto, MktFX: vendor.MarketFX, MktCM: vendor.MarketCommodity,
	MktIX: vendor.MarketIndex, MktSI: vendor.MarketIndex,
}

// KlineRequest is the body of POST /kline and POST /history.
type KlineRequest struct {
	KlineReqs []KlineReq `json:"kline_reqs"`
}

// KlineReq asks for the bars of one or more codes of one market at one kt.
// C is "MARKET:SYM[,SYM…]". E (Unix seconds, /history only) is the end, the
// bar containing it included; 0 is omitted.
type KlineReq struct {
	C  string `json:"c"`
	E  int64  `json:"e,omitempty"`
	Co int    `json:"co"`
	A  int    `json:"a"`
	Kt int    `json:"kt"`
}

// TradeRequest is the body of POST /trade: Codes as in KlineReq.C, Count
// trades per code (≤ MaxTradeCount).
type TradeRequest struct {
	Codes []string `json:"codes"`
	Count int      `json:"count"`
}

// Envelope is every answer's outer shape. Msg is "OK" or an error text.
type Envelope struct {
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data,omitempty"`
}

// KlineSeries is one element of a kline answer's data. The outer order does
// not follow the request; key it by C. K is ascending.
type KlineSeries struct {
	C string     `json:"c"`
	K []KlineBar `json:"k"`
}

// KlineBar is one bar: prices and volume as strings, Ts the open time in Unix
// seconds, Kt the kline type. The close is Cl; C repeats the code. There is no
// turnover.
type KlineBar struct {
	C  string `json:"c"`
	O  Str    `json:"o"`
	Cl Str    `json:"cl"`
	H  Str    `json:"h"`
	L  Str    `json:"l"`
	V  Str    `json:"v"`
	Ts Int    `json:"ts"`
	Kt Int    `json:"kt"`
}

// Trade is one element of a /trade answer's data: Ts in Unix seconds, D the
// direction (0 unknown, 1 buy, 2 sell).
type Trade struct {
	C  string `json:"c"`
	P  Str    `json:"p"`
	V  Str    `json:"v"`
	Ts Int    `json:"ts"`
	D  Int    `json:"d"`
}

// Str is a field QOS documents as a string; it sends some as numbers.
type Str = lenient.Str

// Int is a field QOS documents as an integer; it sends some quoted.
type Int = lenient.Int

// Code is a parsed QOS code "MARKET:SYM".
type Code struct {
	Mkt    string        // market prefix (MktUS …)
	Sym    string        // the symbol after the colon
	Market vendor.Market // syncd's venue class
}

// ParseCode checks a QOS code. The market prefix is one of US HK SH SZ CF FX
// CM IX SI (upper case); HK symbols are 1–5 digits (both "HK:700" of the doc
// examples and "HK:00700" of /product-list are accepted: which the server
// wants is UNCONFIRMED); SH/SZ symbols 6 digits; others upper-case letters,
// digits, '.', '-' or '_'. A comma or a second colon is refused: codes are
// joined with commas on the wire. The error wraps vendor.ErrInvalidSymbol.
func ParseCode(code string) (Code, error) {
	bad := func(why string) (Code, error) {
		return Code{}, fmt.Errorf("%w: qos code %q: %s", vendor.ErrInvalidSymbol, code, why)
	}
	mkt, sym, ok := strings.Cut(code, ":")
	if !ok {
		return bad("want MARKET:SYMBOL, e.g. US:AAPL, HK:00700, CF:BTCUSDT")
	}
	m, known := markets[mkt]
	if !known {
		if _, lower := markets[strings.ToUpper(mkt)]; lower {
			return bad("the market prefix must be upper case (" + strings.ToUpper(mkt) + ")")
		}
		return bad("unknown market " + mkt + " (want US HK SH SZ CF FX CM IX SI)")
	}
	if sym == "" {
		return bad("empty symbol")
	}
	switch mkt {
	case MktHK:
		if len(sym) > 5 || !allOf(sym, isDigit) {
			return bad("HK symbols are up to 5 digits (HK:700 or HK:00700)")
		}
	case MktSH, MktSZ:
		if len(sym) != 6 || !allOf(sym, isDigit) {
			return bad(mkt + " symbols have 6 digits (SH:600519, SZ:000001)")
		}
	default:
		if !allOf(sym, isSymbolChar) {
			return bad("want upper-case letters, digits, '.', '-' or '_' after the market (US:AAPL, CF:BTCUSDT)")
		}
	}
	return Code{Mkt: mkt, Sym: sym, Market: m}, nil
}

// SameCode reports whether two codes name the same product: equal, or both HK
// with symbols equal up to leading zeros ("HK:700" and "HK:00700"), the case
// of letters ignored.
func SameCode(a, b string) bool { return normCode(a) == normCode(b) }

// normCode is the key SameCode compares.
func normCode(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	mkt, sym, ok := strings.Cut(code, ":")
	if !ok || mkt != MktHK {
		return code
	}
	trimmed := strings.TrimLeft(sym, "0")
	if trimmed == "" && sym != "" {
		trimmed = "0"
	}
	return mkt + ":" + trimmed
}

func allOf(s string, f func(byte) bool) bool {
	for i := range len(s) {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isUpperAlnum(c byte) bool { return (c >= 'A' && c <= 'Z') || isDigit(c) }
func isSymbolChar(c byte) bool { return isUpperAlnum(c) || c == '.' || c == '-' || c == '_' }
