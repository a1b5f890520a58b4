package sim

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// Append encoders for the bars of a history page, the bulk of every answer.
// encoding/json spends most of a page's time reflecting over the wire structs
// and rescanning json.RawMessage fields; these write the same bytes
// directly. The client packages' wire types stay the contract: a test checks
// that each encoder's output equals json.Marshal of the wire values the
// handlers built before (encode_test.go).

// appendJSONString appends s as encoding/json writes it (HTML-escaped).
// Codes are plain ASCII, so the fallback is for odd input only.
func appendJSONString(dst []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, err := json.Marshal(s)
			if err != nil {
				return append(dst, `""`...) // cannot happen: every string marshals
			}
			return append(dst, raw...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendQuoted appends d as a JSON string, as decimal.Decimal marshals.
func appendQuoted(dst []byte, d decimal.Decimal) []byte {
	dst = append(dst, '"')
	dst = d.Append(dst)
	return append(dst, '"')
}

// coef64 returns d's coefficient when it fits 18 digits, without the
// allocation of Decimal.Coefficient.
func coef64(d decimal.Decimal) (int64, bool) {
	var buf [48]byte
	text := d.Append(buf[:0])
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	var v int64
	digits := 0
	for _, c := range text {
		if c == '.' {
			continue
		}
		if c < '0' || c > '9' || digits == 18 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		digits++
	}
	if neg {
		v = -v
	}
	return v, true
}

// appendAllTickBars appends bars (ascending) as a kline_list array of
// alltick.Bar.
func appendAllTickBars(dst []byte, bars []vendor.Bar) []byte {
	dst = append(dst, '[')
	for i, b := range bars {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"timestamp":"`...)
		dst = strconv.AppendInt(dst, b.Time.Unix(), 10)
		dst = append(dst, `","open_price":`...)
		dst = appendQuoted(dst, b.Open)
		dst = append(dst, `,"close_price":`...)
		dst = appendQuoted(dst, b.Close)
		dst = append(dst, `,"high_price":`...)
		dst = appendQuoted(dst, b.High)
		dst = append(dst, `,"low_price":`...)
		dst = appendQuoted(dst, b.Low)
		dst = append(dst, `,"volume":`...)
		dst = appendQuoted(dst, b.Volume)
		dst = append(dst, `,"turnover":`...)
		if b.Turnover.Valid {
			dst = appendQuoted(dst, b.Turnover.Decimal)
		} else {
			dst = append(dst, "null"...)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// xdTickRateScale is the decimals of XdTick's changeRate.
const xdTickRateScale = 8

// appendXdTickBars appends bars (ascending) newest first as a klineList
// array of xdtick.Bar (xdtick.FromBar's values).
func appendXdTickBars(dst []byte, bars []vendor.Bar) []byte {
	dst = append(dst, '[')
	for i, b := range slices.Backward(bars) {
		if i < len(bars)-1 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"timestamp":`...)
		dst = strconv.AppendInt(dst, b.Time.UnixMilli(), 10)
		dst = append(dst, `,"startTime":"`...)
		// startTime is UTC+8 wall time.
		dst = b.Time.UTC().Add(8*time.Hour).AppendFormat(dst, "2006-01-02T15:04:05")
		dst = append(dst, `","open":`...)
		dst = b.Open.Append(dst)
		dst = append(dst, `,"high":`...)
		dst = b.High.Append(dst)
		dst = append(dst, `,"low":`...)
		dst = b.Low.Append(dst)
		dst = append(dst, `,"close":`...)
		dst = b.Close.Append(dst)
		dst = append(dst, `,"volume":`...)
		dst = b.Volume.Append(dst)
		switch {
		case b.Turnover.Valid:
			dst = append(dst, `,"quoteVolume":`...)
			dst = b.Turnover.Decimal.Append(dst)
		case b.Turnover != decimal.Null{}:
			dst = append(dst, `,"quoteVolume":null`...)
		}
		amount, rate := xdTickChange(b.Open, b.Close)
		dst = append(dst, `,"changeAmount":`...)
		dst = amount.Append(dst)
		dst = append(dst, `,"changeRate":`...)
		dst = rate.Append(dst)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// xdTickChange is xdtick.FromBar's close − open and (close − open) / open
// rounded half away from zero to 8 decimals, in int64 when open and close
// share a scale and the difference is small (always, for generated bars);
// otherwise it asks xdtick.FromBar.
func xdTickChange(o, c decimal.Decimal) (amount, rate decimal.Decimal) {
	ov, okO := coef64(o)
	cv, okC := coef64(c)
	d := cv - ov
	if !okO || !okC || o.Scale() != c.Scale() || !absLess(ov, 1<<40) || !absLess(cv, 1<<40) || !absLess(d, 1<<34) {
		return xdTickChangeSlow(o, c)
	}
	amount = decimal.New(d, c.Scale())
	if ov == 0 {
		return amount, decimal.New(0, xdTickRateScale)
	}
	q := (2*abs64(d)*100_000_000 + abs64(ov)) / (2 * abs64(ov))
	if (d < 0) != (ov < 0) {
		q = -q
	}
	return amount, decimal.New(q, xdTickRateScale)
}

// appendInfowayBars appends bars (ascending) newest first as a respList
// array of infoway.KlineBar (infowayBars' values).
func appendInfowayBars(dst []byte, bars []vendor.Bar) []byte {
	dst = append(dst, '[')
	for i, b := range slices.Backward(bars) {
		if i < len(bars)-1 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"t":"`...)
		dst = strconv.AppendInt(dst, b.Time.Unix(), 10)
		dst = append(dst, `","h":`...)
		dst = appendQuoted(dst, b.High)
		dst = append(dst, `,"o":`...)
		dst = appendQuoted(dst, b.Open)
		dst = append(dst, `,"l":`...)
		dst = appendQuoted(dst, b.Low)
		dst = append(dst, `,"c":`...)
		dst = appendQuoted(dst, b.Close)
		dst = append(dst, `,"v":`...)
		dst = appendQuoted(dst, b.Volume)
		dst = append(dst, `,"vw":`...)
		dst = appendQuoted(dst, b.Turnover.Decimal)
		dst = appendInfowayChange(dst, b.Open, b.Close)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendInfowayChange appends the "pc" and "pca" members (see
// infowayChange), in int64 for the common case.
func appendInfowayChange(dst []byte, o, c decimal.Decimal) []byte {
	ov, okO := coef64(o)
	cv, okC := coef64(c)
	if !okO || !okC || !absLess(ov, 1<<40) || !absLess(cv, 1<<40) {
		pca, pc := infowayChange(o, c)
		dst = append(dst, `,"pc":`...)
		dst = appendJSONString(dst, pc)
		dst = append(dst, `,"pca":`...)
		return appendJSONString(dst, pca)
	}
	d := cv - ov
	dst = append(dst, `,"pc":"`...)
	var hundredths int64
	if ov != 0 {
		hundredths = (2*abs64(d)*10000 + abs64(ov)) / (2 * abs64(ov))
	}
	if hundredths == 0 {
		dst = append(dst, "0.00%"...)
	} else {
		if (d < 0) != (ov < 0) {
			dst = append(dst, '-')
		}
		dst = decimal.New(hundredths, 2).Append(dst)
		dst = append(dst, '%')
	}
	dst = append(dst, `","pca":`...)
	return appendQuoted(dst, decimal.New(d, c.Scale()))
}

// appendQOSBars appends bars (ascending) as a k array of qos.KlineBar
// (encodeQOSBars' values).
func appendQOSBars(dst []byte, code string, kt int, bars []vendor.Bar) []byte {
	dst = append(dst, '[')
	for i, b := range bars {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"c":`...)
		dst = appendJSONString(dst, code)
		dst = append(dst, `,"o":`...)
		dst = appendQuoted(dst, b.Open)
		dst = append(dst, `,"cl":`...)
		dst = appendQuoted(dst, b.Close)
		dst = append(dst, `,"h":`...)
		dst = appendQuoted(dst, b.High)
		dst = append(dst, `,"l":`...)
		dst = appendQuoted(dst, b.Low)
		dst = append(dst, `,"v":`...)
		dst = appendQuoted(dst, b.Volume)
		dst = append(dst, `,"ts":`...)
		dst = strconv.AppendInt(dst, b.Time.Unix(), 10)
		dst = append(dst, `,"kt":`...)
		dst = strconv.AppendInt(dst, int64(kt), 10)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// xdTickChangeSlow is xdtick.FromBar's change, for the cases the int64 path
// does not cover.
func xdTickChangeSlow(o, c decimal.Decimal) (amount, rate decimal.Decimal) {
	wire := xdtick.FromBar(vendor.Bar{Open: o, Close: c})
	return wire.ChangeAmount.Decimal, wire.ChangeRate.Decimal
}

// marshalData encodes an answer's data; a json.RawMessage is taken as
// already encoded (compact, as encoding/json would write it).
func marshalData(data any) ([]byte, error) {
	if raw, ok := data.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(data)
}

// withData returns an encoded envelope whose omitempty data member was left
// out (body ends in '}') with raw added as its last member "data", the bytes
// json.Marshal would give for the envelope with Data set to raw, without
// rescanning raw. Empty raw leaves body as it is.
func withData(body, raw []byte) []byte {
	if len(raw) == 0 {
		return body
	}
	out := make([]byte, 0, len(body)+len(`,"data":`)+len(raw))
	out = append(out, body[:len(body)-1]...)
	out = append(out, `,"data":`...)
	out = append(out, raw...)
	return append(out, '}')
}
