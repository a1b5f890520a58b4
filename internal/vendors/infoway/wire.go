package infoway

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/lenient"
)

// This file holds Infoway's wire format: what goes on the wire and what comes
// back, exported so that the simulator encodes its answers with the very types
// the client decodes (they round-trip). Sources: the zh page of POST
// /{mkt}/v2/batch_kline, the official Python SDK's enums and fixtures
// (vendors.md §5).

// DefaultBaseURL is Infoway's public REST host.
const DefaultBaseURL = "https://data.infoway.io"

// HeaderAPIKey is the request header that carries the key (the SDK spells it
// "apikey"; HTTP header names are case-insensitive).
const HeaderAPIKey = "apiKey"

// Limits of POST /{mkt}/v2/batch_kline.
const (
	// MaxKlineNum is the most bars one single-code request may ask for. A larger
	// klineNum is rejected, not clamped, so the client never sends one.
	MaxKlineNum = 500
	// MaxCodes is the most codes one request may carry.
	MaxCodes = 100
	// LatestKlineNum is the bar count of a multi-code request: Infoway returns
	// only the latest 2 bars of each code when several are asked for.
	LatestKlineNum = 2
	// DefaultTradeMax caps codes per batch_trade request. Infoway publishes no
	// separate limit for it; the K-line cap is used.
	DefaultTradeMax = MaxCodes
)

// Path prefixes ({mkt}) that select Infoway's market backend.
const (
	MktStock  = "stock"  // US, HK, Shanghai, Shenzhen
	MktJapan  = "japan"  // .JP
	MktIndia  = "india"  // .IN
	MktKorea  = "korea"  // .KS
	MktTaiwan = "taiwan" // .TW
	MktCrypto = "crypto" // BTCUSDT …
	MktCommon = "common" // FX, metals, energy, commodities, futures
)

// KlinePath is the path of the v2 K-line endpoint for a market prefix.
func KlinePath(mkt string) string { return "/" + mkt + "/v2/batch_kline" }

// TradePath is the path of the latest-trade endpoint for a market prefix and
// comma-joined codes (each already path-safe).
func TradePath(mkt, codes string) string { return "/" + mkt + "/batch_trade/" + codes }

// Envelope ret codes (the SDK's RestErrorCode; the docs' error page was not
// retrievable). 510–512 belong to the WebSocket and should not appear on REST.
const (
	RetOK              = 200
	RetBadRequest      = 400
	RetUnauthorized    = 401
	RetTooMany         = 429 // the SDK treats it like 501
	RetServerError     = 500 // also "All product not exists"
	RetRateLimited     = 501 // request frequency exceeded (per minute)
	RetDailyLimit      = 502 // daily request cap exceeded
	RetKlineNum        = 503 // K-line count exceeds the limit
	RetDepthNum        = 504 // depth count exceeds the limit
	RetTooManyProducts = 505 // too many codes
	RetParamError      = 506 // parameter error
	RetParamMissing    = 507 // parameter missing
	RetNoProduct       = 508 // product does not exist
	RetTokenExpired    = 509 // token permission expired
	RetWSConnections   = 510
	RetWSHeartbeat     = 511
	RetWSDisconnected  = 512
	RetTimeLimit       = 513 // time range beyond the plan
	RetNoPermission    = 514 // no permission
)

// Known messages.
const (
	// MsgSuccess is the msg of a ret-200 envelope.
	MsgSuccess = "success"
	// MsgAllProductNotExists comes with ret 500 when none of the codes exists.
	MsgAllProductNotExists = "All product not exists"
	// MsgRateLimitExceeded is the detail of the HTTP 429 body.
	MsgRateLimitExceeded = "Rate limit exceeded"
	// MsgTokenInvalid is the message of the HTTP 401 body.
	MsgTokenInvalid = "Token invalid"
)

// Kline types (klineType). Quarter and year bars exist at Infoway but have no
// syncd timeframe.
const (
	Kline1m      = 1
	Kline5m      = 2
	Kline15m     = 3
	Kline30m     = 4
	Kline1h      = 5
	Kline2h      = 6
	Kline4h      = 7
	Kline1d      = 8
	Kline1w      = 9
	Kline1M      = 10
	KlineQuarter = 11
	KlineYear    = 12
)

var klineTypes = map[vendor.Timeframe]int{
	vendor.TF1m: Kline1m, vendor.TF5m: Kline5m, vendor.TF15m: Kline15m, vendor.TF30m: Kline30m,
	vendor.TF1h: Kline1h, vendor.TF2h: Kline2h, vendor.TF4h: Kline4h,
	vendor.TF1d: Kline1d, vendor.TF1w: Kline1w, vendor.TF1M: Kline1M,
}

// KlineType maps a timeframe to Infoway's klineType; false if none.
func KlineType(tf vendor.Timeframe) (int, bool) {
	kt, ok := klineTypes[tf]
	return kt, ok
}

// TimeframeOf maps a klineType back to the timeframe; false for 11, 12 and
// unknown values.
func TimeframeOf(kt int) (vendor.Timeframe, bool) {
	for tf, k := range klineTypes {
		if k == kt {
			return tf, true
		}
	}
	return "", false
}

// TimestampBounded reports whether Infoway honours the timestamp (end) of a
// K-line request for tf. The en docs say "for minute and hourly candlestick
// only"; the zh docs say the restriction applies to minute/hour bars only.
// syncd takes the narrower (en) reading: minute and hour bars only.
func TimestampBounded(tf vendor.Timeframe) bool { return tf.Intraday() }

// KlineRequest is the JSON body of POST /{mkt}/v2/batch_kline.
type KlineRequest struct {
	KlineType int    `json:"klineType"`
	KlineNum  int    `json:"klineNum"`
	Codes     string `json:"codes"` // comma-separated
	// Timestamp is the end time in Unix seconds; 0 (omitted) means latest.
	Timestamp int64 `json:"timestamp,omitempty"`
}

// Envelope is the body of every REST answer with ret 200 and of business
// errors in the same shape ({"ret":500,"msg":"All product not exists",…}).
type Envelope struct {
	Ret     int             `json:"ret"`
	Msg     string          `json:"msg"`
	TraceID string          `json:"traceId,omitempty"`
	Data    json.RawMessage `json:"data"`
}

// KlineSeries is one element of a K-line answer's data: one code's bars,
// newest first.
type KlineSeries struct {
	S        string     `json:"s"`
	RespList []KlineBar `json:"respList"`
}

// KlineBar is one bar as Infoway sends it: every field a JSON string. T is
// the bar's open time in Unix seconds; VW is the turnover (amount traded), not
// a VWAP; PC is the change percent with a "%" suffix; PCA the change amount.
type KlineBar struct {
	T   Str `json:"t"`
	H   Str `json:"h"`
	O   Str `json:"o"`
	L   Str `json:"l"`
	C   Str `json:"c"`
	V   Str `json:"v"`
	VW  Str `json:"vw"`
	PC  Str `json:"pc"`
	PCA Str `json:"pca"`
}

// Trade is one element of a batch_trade answer's data. T is Unix
// milliseconds (a JSON integer); VW is the turnover; TD the direction.
type Trade struct {
	S  string `json:"s"`
	T  Int    `json:"t"`
	P  Str    `json:"p"`
	V  Str    `json:"v"`
	VW Str    `json:"vw"`
	TD int    `json:"td"`
}

// TooManyBody is the body of an HTTP 429: {"detail":"Rate limit exceeded"}.
type TooManyBody struct {
	Detail string `json:"detail"`
}

// UnauthorizedBody is the body of an HTTP 401:
// {"code":401,"message":"Token invalid","timestamp":1786778697472}.
type UnauthorizedBody struct {
	Code      int    `json:"code"`
	Message   string `json:"message"`
	Timestamp int64  `json:"timestamp"`
}

// ProblemBody is the RFC 7807 body of HTTP 400/404 answers.
type ProblemBody struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

// Str is a field Infoway documents as a string; it sends some as numbers.
type Str = lenient.Str

// Int is a field Infoway documents as an integer; it sends some quoted.
type Int = lenient.Int

// Code is a parsed Infoway product code.
type Code struct {
	// Mkt is the path prefix that serves it (MktStock …).
	Mkt string
	// Market is syncd's venue class.
	Market vendor.Market
}

// stockSuffixes maps a code's exchange suffix to its path prefix and market.
var stockSuffixes = map[string]Code{
	".US": {MktStock, vendor.MarketUS},
	".HK": {MktStock, vendor.MarketHK},
	".SH": {MktStock, vendor.MarketCN},
	".SZ": {MktStock, vendor.MarketCN},
	".JP": {MktJapan, vendor.MarketJP},
	".IN": {MktIndia, vendor.MarketOther},
	".KS": {MktKorea, vendor.MarketOther},
	".TW": {MktTaiwan, vendor.MarketOther},
}

// cryptoQuotes are the quote assets that mark a suffix-less code as a crypto
// pair (BTCUSDT, ETHBTC). Everything else without a suffix is served by
// "common" (FX pairs, metals, energy, futures).
var cryptoQuotes = []string{"USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "BTC", "ETH", "BNB"}

// metalPrefixes mark a common code as a commodity rather than an FX pair.
var metalPrefixes = []string{"XAU", "XAG", "XPT", "XPD"}

// ParseCode checks an Infoway code and tells which backend serves it. Rules:
// an exchange suffix (.US .HK .SH .SZ .JP .IN .KS .TW, upper case) selects a
// stock backend; HK codes are exactly 5 digits (00700.HK), SH/SZ/KS codes 6
// digits; a code without a suffix is crypto when it ends with a crypto quote
// asset (USDT, USDC, BTC, ETH …) and common otherwise. The error wraps
// vendor.ErrInvalidSymbol and carries a hint.
func ParseCode(code string) (Code, error) {
	bad := func(why string) (Code, error) {
		return Code{}, fmt.Errorf("%w: infoway code %q: %s", vendor.ErrInvalidSymbol, code, why)
	}
	if code == "" {
		return bad("empty")
	}
	dot := strings.LastIndexByte(code, '.')
	if dot < 0 {
		if !allOf(code, isUpperAlnum) {
			return bad("want upper-case letters and digits (BTCUSDT, EURUSD, XAUUSD) or an exchange suffix such as .US")
		}
		for _, q := range cryptoQuotes {
			if len(code) > len(q) && strings.HasSuffix(code, q) {
				return Code{MktCrypto, vendor.MarketCrypto}, nil
			}
		}
		for _, p := range metalPrefixes {
			if strings.HasPrefix(code, p) {
				return Code{MktCommon, vendor.MarketCommodity}, nil
			}
		}
		if len(code) == 6 && allOf(code, isUpper) {
			return Code{MktCommon, vendor.MarketFX}, nil
		}
		return Code{MktCommon, vendor.MarketCommodity}, nil
	}
	base, suffix := code[:dot], code[dot:]
	c, ok := stockSuffixes[suffix]
	if !ok {
		if _, lower := stockSuffixes[strings.ToUpper(suffix)]; lower {
			return bad("the exchange suffix must be upper case (" + strings.ToUpper(suffix) + ")")
		}
		return bad("unknown exchange suffix " + suffix + " (want .US .HK .SH .SZ .JP .IN .KS .TW)")
	}
	if base == "" {
		return bad("empty symbol before the suffix")
	}
	switch suffix {
	case ".HK":
		if !allOf(base, isDigit) {
			return bad("HK codes are digits, zero-padded to 5 (00700.HK)")
		}
		if len(base) != 5 {
			if len(base) < 5 {
				return bad("HK codes are zero-padded to 5 digits: use " + strings.Repeat("0", 5-len(base)) + base + ".HK")
			}
			return bad("HK codes have 5 digits (00700.HK)")
		}
	case ".SH", ".SZ", ".KS":
		if len(base) != 6 || !allOf(base, isDigit) {
			return bad(suffix[1:] + " codes have 6 digits (600519.SH, 000001.SZ, 005930.KS)")
		}
	default:
		if !allOf(base, isSymbolChar) {
			return bad("want upper-case letters, digits, '.', '-' or '&' before the suffix (AAPL.US, BRK.B.US, 7203.JP)")
		}
	}
	return c, nil
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
func isUpper(c byte) bool      { return c >= 'A' && c <= 'Z' }
func isUpperAlnum(c byte) bool { return isUpper(c) || isDigit(c) }
func isSymbolChar(c byte) bool {
	return isUpperAlnum(c) || c == '.' || c == '-' || c == '&' || c == '_'
}
