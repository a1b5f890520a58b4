package infoway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/lenient"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// Plausible Unix times. A bar or trade time outside its range is in the wrong
// unit (ms where seconds are documented, or the reverse) or garbage.
const (
	minSeconds = 1               // 1970, exclusive of 0
	maxSeconds = 10_000_000_000  // year 2286; a ms time is ~1.7e12
	minMillis  = 100_000_000_000 // 1973 in ms; a seconds time is ~1.7e9
	maxMillis  = 10_000_000_000_000
)

// msgClip bounds vendor text in errors and rejects.
const msgClip = 200

func apiError(kind error, code, msg string) *vendor.APIError {
	return &vendor.APIError{Vendor: vendor.Infoway, Code: code, Message: transport.Clip(msg, msgClip), Kind: kind}
}

// retKind maps an envelope ret code (not 200) to the sentinel it means.
func retKind(ret int, msg string) error {
	switch ret {
	case RetRateLimited, RetTooMany:
		return vendor.ErrRateLimited
	case RetDailyLimit:
		return vendor.ErrQuotaExhausted
	case RetTimeLimit:
		return vendor.ErrBeyondRange
	case RetNoProduct:
		return vendor.ErrInvalidSymbol
	case RetUnauthorized, RetTokenExpired, RetNoPermission:
		return vendor.ErrAuth
	case RetKlineNum, RetDepthNum, RetTooManyProducts, RetParamError, RetParamMissing:
		// The request asked for more, or other, than Infoway serves: sending it
		// again unchanged cannot succeed, so not ErrProtocol (which is retried).
		return vendor.ErrUnsupported
	case RetServerError:
		if notExists(msg) {
			return vendor.ErrInvalidSymbol
		}
		return vendor.ErrTransient
	}
	// 400, the WebSocket-only 510–512 and anything undocumented.
	return vendor.ErrProtocol
}

// notExists recognises "All product not exists" and its near variants.
func notExists(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "not exist") || strings.Contains(m, "does not exist")
}

// decodeEnvelope reads any Infoway answer. It returns the envelope of a
// ret-200 answer, or an *vendor.APIError for every error shape: a business
// error in the envelope, HTTP 429 {"detail"}, HTTP 401 {"code","message"},
// RFC 7807 problems, other statuses, and malformed bodies.
func decodeEnvelope(r transport.Response) (Envelope, error) {
	body := bytes.TrimSpace(r.Body)
	var env struct {
		Ret     *int            `json:"ret"`
		Msg     string          `json:"msg"`
		TraceID string          `json:"traceId"`
		Data    json.RawMessage `json:"data"`
	}
	envErr := json.Unmarshal(body, &env)
	statusKind := transport.StatusKind(r.Status)
	if envErr == nil && env.Ret != nil && (*env.Ret != RetOK || statusKind == nil) {
		if *env.Ret == RetOK {
			return Envelope{Ret: RetOK, Msg: env.Msg, TraceID: env.TraceID, Data: env.Data}, nil
		}
		msg := env.Msg
		if env.TraceID != "" {
			msg += " (traceId " + env.TraceID + ")"
		}
		return Envelope{}, apiError(retKind(*env.Ret, env.Msg), strconv.Itoa(*env.Ret), msg)
	}
	code, msg, ok := otherShape(body)
	switch {
	case ok && strings.Contains(strings.ToLower(msg), "rate limit"):
		// {"detail":"Rate limit exceeded"} means a rate limit whatever the
		// status: the SDK reports it arriving with HTTP 200 as well as 429.
		return Envelope{}, apiError(vendor.ErrRateLimited, code, msg)
	case statusKind != nil:
		if !ok {
			msg = "body: " + string(body)
		}
		return Envelope{}, apiError(statusKind, code, msg)
	case ok:
		// An error shape with a 2xx status: trust the code in it.
		kind := vendor.ErrProtocol
		if n, err := strconv.Atoi(code); err == nil {
			if k := transport.StatusKind(n); k != nil {
				kind = k
			}
		}
		return Envelope{}, apiError(kind, code, msg)
	case envErr != nil:
		return Envelope{}, &vendor.APIError{
			Vendor: vendor.Infoway, Kind: vendor.ErrProtocol,
			Message: transport.Clip("malformed body: "+string(body), msgClip), Err: fmt.Errorf("decode envelope: %w", envErr),
		}
	}
	return Envelope{}, apiError(vendor.ErrProtocol, "", "no ret in body: "+string(body))
}

// otherShape recognises the non-envelope bodies: {"detail"} (HTTP 429 and
// RFC 7807) and {"code","message"} (HTTP 401). It returns the code as text
// (the RFC 7807 status, or the 401 body's code) and a message.
func otherShape(body []byte) (code, msg string, ok bool) {
	var m struct {
		Detail  *string         `json:"detail"`
		Title   string          `json:"title"`
		Status  json.RawMessage `json:"status"`
		Code    json.RawMessage `json:"code"`
		Message *string         `json:"message"`
	}
	if json.Unmarshal(body, &m) != nil {
		return "", "", false
	}
	switch {
	case m.Message != nil:
		return rawCode(m.Code), *m.Message, true
	case m.Detail != nil:
		msg := *m.Detail
		if m.Title != "" {
			msg = m.Title + ": " + msg
		}
		return rawCode(m.Status), msg, true
	}
	return "", "", false
}

func rawCode(raw json.RawMessage) string {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return strconv.Itoa(n)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// rawSeries is KlineSeries with its bars left raw, so that one bad bar does
// not spoil the others.
type rawSeries struct {
	S        *string           `json:"s"`
	RespList []json.RawMessage `json:"respList"`
	raw      json.RawMessage   // the element as received
}

// decodeKlineData splits a ret-200 K-line answer's data into series. A data
// that is not an array is ErrProtocol; an element that is not a series goes to
// rejects (with the symbol "" when unknown).
func decodeKlineData(data json.RawMessage) (series []rawSeries, bad []json.RawMessage, reasons []string, err error) {
	var elems []json.RawMessage
	if err := decodeArray(data, &elems); err != nil {
		return nil, nil, nil, err
	}
	for _, e := range elems {
		var s rawSeries
		switch uerr := json.Unmarshal(e, &s); {
		case uerr != nil:
			bad, reasons = append(bad, e), append(reasons, "series element: "+uerr.Error())
		case s.S == nil || *s.S == "":
			bad, reasons = append(bad, e), append(reasons, "series element without s (code)")
		default:
			s.raw = e
			series = append(series, s)
		}
	}
	return series, bad, reasons, nil
}

// decodeArray unmarshals data into a slice; null or absent data is empty.
func decodeArray(data json.RawMessage, into *[]json.RawMessage) error {
	d := bytes.TrimSpace(data)
	if len(d) == 0 || string(d) == "null" {
		return nil
	}
	if d[0] != '[' {
		return apiError(vendor.ErrProtocol, "", "data is not an array: "+string(d))
	}
	if err := json.Unmarshal(d, into); err != nil {
		return &vendor.APIError{Vendor: vendor.Infoway, Kind: vendor.ErrProtocol, Message: "malformed data array", Err: fmt.Errorf("decode data: %w", err)}
	}
	return nil
}

// toBar converts one raw respList element. On failure it returns a reason.
func toBar(raw json.RawMessage) (vendor.Bar, string) {
	var w KlineBar
	if err := json.Unmarshal(raw, &w); err != nil {
		return vendor.Bar{}, "bar: " + err.Error()
	}
	t, reason := seconds(string(w.T))
	if reason != "" {
		return vendor.Bar{}, reason
	}
	b := vendor.Bar{Time: t}
	for _, f := range []struct {
		name string
		val  Str
		dst  *decimal.Decimal
	}{{"o", w.O, &b.Open}, {"h", w.H, &b.High}, {"l", w.L, &b.Low}, {"c", w.C, &b.Close}, {"v", w.V, &b.Volume}} {
		d, err := decimal.Parse(string(f.val))
		if err != nil {
			return vendor.Bar{}, fmt.Sprintf("field %s: %v", f.name, err)
		}
		*f.dst = d
	}
	if w.VW != "" {
		d, err := decimal.Parse(string(w.VW))
		if err != nil {
			return vendor.Bar{}, fmt.Sprintf("field vw: %v", err)
		}
		b.Turnover = decimal.Null{Decimal: d, Valid: true}
	}
	return b, ""
}

// seconds parses a bar time in Unix seconds and rejects other units.
func seconds(s string) (time.Time, string) {
	if s == "" {
		return time.Time{}, "field t: missing"
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Sprintf("field t: %q is not an integer", transport.Clip(s, 40))
	}
	switch {
	case v >= maxSeconds:
		return time.Time{}, fmt.Sprintf("field t: %d is not Unix seconds (milliseconds?)", v)
	case v < minSeconds:
		return time.Time{}, fmt.Sprintf("field t: %d is not a plausible Unix time", v)
	}
	return time.Unix(v, 0).UTC(), ""
}

// millis parses a trade time in Unix milliseconds and rejects other units.
func millis(v int64) (time.Time, string) {
	switch {
	case v >= maxMillis:
		return time.Time{}, fmt.Sprintf("field t: %d is not Unix milliseconds (microseconds?)", v)
	case v < minMillis:
		return time.Time{}, fmt.Sprintf("field t: %d is not Unix milliseconds (seconds?)", v)
	}
	return time.UnixMilli(v).UTC(), ""
}

// barsOf decodes one series' raw bars into ascending, deduplicated bars (the
// last occurrence in the vendor's order wins) and rejects.
func barsOf(s vendor.Series, raws []json.RawMessage) ([]vendor.Bar, []vendor.Reject) {
	var rejects []vendor.Reject
	bars := make([]vendor.Bar, 0, len(raws))
	for _, raw := range raws {
		b, reason := toBar(raw)
		if reason != "" {
			rejects = append(rejects, vendor.Reject{Series: s, Raw: slices.Clone(raw), Reason: reason})
			continue
		}
		bars = append(bars, b)
	}
	return vendor.SortBars(bars), rejects
}

// fastBar is a KlineBar as the one-pass decoding reads it: prices straight
// into decimals, pc and pca checked but not kept.
type fastBar struct {
	T   lenient.Int    `json:"t"`
	H   lenient.Dec    `json:"h"`
	O   lenient.Dec    `json:"o"`
	L   lenient.Dec    `json:"l"`
	C   lenient.Dec    `json:"c"`
	V   lenient.Dec    `json:"v"`
	VW  lenient.Dec    `json:"vw"`
	PC  lenient.Unused `json:"pc"`
	PCA lenient.Unused `json:"pca"`
}

// bar converts w as toBar would, or reports false where toBar would give a
// reason.
func (w fastBar) bar() (vendor.Bar, bool) {
	t := int64(w.T)
	if t < minSeconds || t >= maxSeconds || !w.O.Set || !w.H.Set || !w.L.Set || !w.C.Set || !w.V.Set {
		return vendor.Bar{}, false
	}
	return vendor.Bar{Time: time.Unix(t, 0).UTC(), Open: w.O.Decimal, High: w.H.Decimal, Low: w.L.Decimal,
		Close: w.C.Decimal, Volume: w.V.Decimal, Turnover: decimal.Null{Decimal: w.VW.Decimal, Valid: w.VW.Set}}, true
}

// fastSeries is one series of a K-line answer as decodeKlineFast returns
// it: the code and the bars, reversed when they came strictly newest first.
type fastSeries struct {
	S    string
	Bars []vendor.Bar
}

// decodeKlineFast decodes a K-line answer's data in one pass, with no copy
// per element and no string per field. It reports false when anything in the
// data would be a reject or an error; the caller then decodes element by
// element (decodeKlineData, barsOf), which says what and keeps the rest.
func decodeKlineFast(data json.RawMessage) ([]fastSeries, bool) {
	d := bytes.TrimSpace(data)
	if len(d) == 0 || d[0] != '[' {
		return nil, false
	}
	var elems []struct {
		S        *string   `json:"s"`
		RespList []fastBar `json:"respList"`
	}
	if json.Unmarshal(d, &elems) != nil {
		return nil, false
	}
	out := make([]fastSeries, len(elems))
	for i, e := range elems {
		if e.S == nil || *e.S == "" {
			return nil, false
		}
		out[i] = fastSeries{S: *e.S, Bars: make([]vendor.Bar, len(e.RespList))}
		// Infoway sends bars newest first: strictly descending ones are filled
		// in from the end, so SortBars gets them ascending and only has to
		// check (with no two times equal, its dedup cannot tell).
		desc := true
		for j := 1; j < len(e.RespList) && desc; j++ {
			desc = e.RespList[j].T < e.RespList[j-1].T
		}
		for j, w := range e.RespList {
			b, ok := w.bar()
			if !ok {
				return nil, false
			}
			if desc {
				j = len(e.RespList) - 1 - j
			}
			out[i].Bars[j] = b
		}
	}
	return out, true
}

// decodeTrades converts a ret-200 batch_trade data array.
func decodeTrades(data json.RawMessage) ([]vendor.Trade, []string, error) {
	var elems []json.RawMessage
	if err := decodeArray(data, &elems); err != nil {
		return nil, nil, err
	}
	var out []vendor.Trade
	var bad []string
	for _, e := range elems {
		tr, reason := toTrade(e)
		if reason != "" {
			bad = append(bad, reason+": "+transport.Clip(string(e), msgClip))
			continue
		}
		out = append(out, tr)
	}
	return out, bad, nil
}

func toTrade(raw json.RawMessage) (vendor.Trade, string) {
	var w struct {
		S  *string `json:"s"`
		T  *Int    `json:"t"`
		P  Str     `json:"p"`
		V  Str     `json:"v"`
		VW Str     `json:"vw"`
		TD *Int    `json:"td"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return vendor.Trade{}, "trade: " + err.Error()
	}
	if w.S == nil || *w.S == "" {
		return vendor.Trade{}, "trade without s (code)"
	}
	if w.T == nil {
		return vendor.Trade{}, "field t: missing"
	}
	t, reason := millis(int64(*w.T))
	if reason != "" {
		return vendor.Trade{}, reason
	}
	tr := vendor.Trade{Symbol: *w.S, Time: t}
	var err error
	if tr.Price, err = decimal.Parse(string(w.P)); err != nil {
		return vendor.Trade{}, fmt.Sprintf("field p: %v", err)
	}
	if tr.Volume, err = decimal.Parse(string(w.V)); err != nil {
		return vendor.Trade{}, fmt.Sprintf("field v: %v", err)
	}
	if w.VW != "" {
		d, err := decimal.Parse(string(w.VW))
		if err != nil {
			return vendor.Trade{}, fmt.Sprintf("field vw: %v", err)
		}
		tr.Turnover = decimal.Null{Decimal: d, Valid: true}
	}
	if w.TD != nil && *w.TD >= 0 && *w.TD <= 2 {
		tr.Direction = int(*w.TD)
	}
	return tr, ""
}
