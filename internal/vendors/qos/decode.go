package qos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/lenient"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// Plausible Unix seconds. A time outside is in the wrong unit (a ms time is
// ~1.7e12) or garbage.
const (
	minSeconds = 1
	maxSeconds = 10_000_000_000 // year 2286
)

// msgClip bounds vendor text in errors.
const msgClip = 200

func apiError(kind error, msg string) *vendor.APIError {
	return &vendor.APIError{Vendor: vendor.QOS, Message: transport.Clip(msg, msgClip), Kind: kind}
}

// Keywords that classify an error text. QOS documents no error texts, so
// these are guesses from the vocabulary of its docs and of similar vendors,
// in English and Chinese; they are checked in this order. An unrecognised text
// is ErrProtocol (or the HTTP status' kind, when it is not 2xx).
var (
	rateWords = []string{
		"rate", "frequen", "limit", "too many", "exceed", "quota",
		"频率", "频繁", "限制", "超过", "超出", "次数",
	}
	authWords = []string{
		"key", "auth", "permission", "forbidden", "unauthori", "expired", "token",
		"权限", "认证", "密钥", "过期", "授权",
	}
	symbolWords = []string{
		"not exist", "not found", "no such", "unknown code", "invalid code", "code error", "wrong code",
		"unknown symbol", "invalid symbol", "unknown product", "invalid product", "unsupported code",
		"不存在", "未找到", "代码错误", "无效代码", "代码无效", "未知代码", "未知品种",
	}
	transientWords = []string{
		"busy", "timeout", "timed out", "internal", "try again", "unavailable",
		"繁忙", "超时", "内部", "稍后",
	}
)

// msgKind classifies a non-"OK" msg; nil when no keyword matches.
func msgKind(msg string) error {
	m := strings.ToLower(msg)
	has := func(words []string) bool {
		return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(m, w) })
	}
	switch {
	case has(rateWords):
		return vendor.ErrRateLimited
	case has(authWords):
		return vendor.ErrAuth
	case has(transientWords):
		return vendor.ErrTransient
	case has(symbolWords):
		return vendor.ErrInvalidSymbol
	}
	return nil
}

// decodeEnvelope reads any QOS answer: the envelope of an "OK" answer with a
// 2xx status, or an *vendor.APIError. The error's kind comes from the msg
// text when it is recognised, else from the HTTP status (transport.StatusKind)
// when that is not 2xx, else ErrProtocol.
func decodeEnvelope(r transport.Response) (Envelope, error) {
	body := bytes.TrimSpace(r.Body)
	statusKind := transport.StatusKind(r.Status)
	var env struct {
		Msg  *string         `json:"msg"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Msg == nil {
		kind := statusKind
		if kind == nil {
			kind = vendor.ErrProtocol
		}
		msg := "body without msg: " + string(body)
		if err != nil {
			msg = "malformed body: " + string(body)
		}
		return Envelope{}, apiError(kind, msg)
	}
	if *env.Msg == MsgOK && statusKind == nil {
		return Envelope{Msg: MsgOK, Data: env.Data}, nil
	}
	kind := msgKind(*env.Msg)
	switch {
	case *env.Msg == MsgOK || (kind == nil && statusKind != nil):
		kind = statusKind
	case kind == nil:
		kind = vendor.ErrProtocol
	}
	return Envelope{}, apiError(kind, *env.Msg)
}

// rawSeries is KlineSeries with its bars left raw, so one bad bar does not
// spoil the others.
type rawSeries struct {
	C   *string           `json:"c"`
	K   []json.RawMessage `json:"k"`
	raw json.RawMessage
}

// rawBad is an element of data that is not a series.
type rawBad struct {
	raw    json.RawMessage
	reason string
}

// decodeArray unmarshals data into a slice; null or absent data is empty.
func decodeArray(data json.RawMessage, into *[]json.RawMessage) error {
	d := bytes.TrimSpace(data)
	if len(d) == 0 || string(d) == "null" {
		return nil
	}
	if d[0] != '[' {
		return apiError(vendor.ErrProtocol, "data is not an array: "+string(d))
	}
	if err := json.Unmarshal(d, into); err != nil {
		return &vendor.APIError{Vendor: vendor.QOS, Kind: vendor.ErrProtocol, Message: "malformed data array", Err: fmt.Errorf("decode data: %w", err)}
	}
	return nil
}

// decodeKlineData splits a kline answer's data into series and bad elements.
func decodeKlineData(data json.RawMessage) ([]rawSeries, []rawBad, error) {
	var elems []json.RawMessage
	if err := decodeArray(data, &elems); err != nil {
		return nil, nil, err
	}
	var series []rawSeries
	var bad []rawBad
	for _, e := range elems {
		var s rawSeries
		switch err := json.Unmarshal(e, &s); {
		case err != nil:
			bad = append(bad, rawBad{e, "series element: " + err.Error()})
		case s.C == nil || *s.C == "":
			bad = append(bad, rawBad{e, "series element without c (code)"})
		default:
			s.raw = e
			series = append(series, s)
		}
	}
	return series, bad, nil
}

// wireBar is a decoded bar with what identifies its series.
type wireBar struct {
	bar  vendor.Bar
	code string // the bar's own c, "" if absent
	kt   int    // the bar's kt, 0 if absent
}

// toBar converts one raw element of k. On failure it returns a reason.
func toBar(raw json.RawMessage) (wireBar, string) {
	var w struct {
		C  string `json:"c"`
		O  Str    `json:"o"`
		Cl Str    `json:"cl"`
		H  Str    `json:"h"`
		L  Str    `json:"l"`
		V  Str    `json:"v"`
		Ts *Int   `json:"ts"`
		Kt Int    `json:"kt"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return wireBar{}, "bar: " + err.Error()
	}
	if w.Ts == nil {
		return wireBar{}, "field ts: missing"
	}
	t, reason := seconds(int64(*w.Ts))
	if reason != "" {
		return wireBar{}, reason
	}
	b := vendor.Bar{Time: t}
	for _, f := range []struct {
		name string
		val  Str
		dst  *decimal.Decimal
	}{{"o", w.O, &b.Open}, {"h", w.H, &b.High}, {"l", w.L, &b.Low}, {"cl", w.Cl, &b.Close}, {"v", w.V, &b.Volume}} {
		d, err := decimal.Parse(string(f.val))
		if err != nil {
			return wireBar{}, fmt.Sprintf("field %s: %v", f.name, err)
		}
		*f.dst = d
	}
	return wireBar{bar: b, code: w.C, kt: int(w.Kt)}, ""
}

// fastBar is a KlineBar as the one-pass decoding reads it: prices straight
// into decimals, the code kept inline.
type fastBar struct {
	C  barCode     `json:"c"`
	O  lenient.Dec `json:"o"`
	Cl lenient.Dec `json:"cl"`
	H  lenient.Dec `json:"h"`
	L  lenient.Dec `json:"l"`
	V  lenient.Dec `json:"v"`
	Ts optInt      `json:"ts"`
	Kt Int         `json:"kt"`
}

// bar converts w as toBar would, or reports false where toBar would give a
// reason.
func (w fastBar) bar() (vendor.Bar, bool) {
	t := int64(w.Ts.v)
	if !w.Ts.set || t < minSeconds || t >= maxSeconds || !w.O.Set || !w.H.Set || !w.L.Set || !w.Cl.Set || !w.V.Set {
		return vendor.Bar{}, false
	}
	return vendor.Bar{Time: time.Unix(t, 0).UTC(), Open: w.O.Decimal, High: w.H.Decimal, Low: w.L.Decimal,
		Close: w.Cl.Decimal, Volume: w.V.Decimal}, true
}

// fromSeries reports whether the bar's own code is absent or its series'
// code: then every code check of the element-wise path passes.
func (w fastBar) fromSeries(code string) bool { return w.C.n == 0 || string(w.C.b[:w.C.n]) == code }

// barCode is a bar's c kept inline, so a bar costs no string. It refuses
// what it cannot keep exactly (escapes, more than its bytes); the
// element-wise path reads those.
type barCode struct {
	n int
	b [24]byte
}

var errFallback = errors.New("left to the element-wise decoding")

// UnmarshalJSON implements json.Unmarshaler.
func (c *barCode) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as for a string field
	}
	if len(b) < 2 || b[0] != '"' || len(b)-2 > len(c.b) || bytes.IndexByte(b, '\\') >= 0 {
		return errFallback
	}
	c.n = copy(c.b[:], b[1:len(b)-1])
	return nil
}

// optInt is a *Int without the allocation: null or absent leaves set false.
type optInt struct {
	v   Int
	set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *optInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = optInt{} // as null sets a pointer to nil
		return nil
	}
	if err := o.v.UnmarshalJSON(b); err != nil {
		return err
	}
	o.set = true
	return nil
}

// fastSeries is one series of a kline answer as the one-pass decoding reads
// it.
type fastSeries struct {
	C string
	K []fastBar
}

// decodeKlineFast decodes a kline answer's data in one pass, with no copy per
// element and no string per field. It reports false when the data is not an
// array or any element would be a bad element or a bar with a reason; the
// caller then decodes element by element (decodeKlineData, toBar), which says
// what and keeps the rest.
func decodeKlineFast(data json.RawMessage) ([]fastSeries, bool) {
	d := bytes.TrimSpace(data)
	if len(d) == 0 || d[0] != '[' {
		return nil, false
	}
	var elems []struct {
		C *string   `json:"c"`
		K []fastBar `json:"k"`
	}
	if json.Unmarshal(d, &elems) != nil {
		return nil, false
	}
	out := make([]fastSeries, len(elems))
	for i, e := range elems {
		if e.C == nil || *e.C == "" {
			return nil, false
		}
		for _, w := range e.K {
			if _, ok := w.bar(); !ok {
				return nil, false
			}
		}
		out[i] = fastSeries{C: *e.C, K: e.K}
	}
	return out, true
}

// seconds converts a Unix time in seconds and rejects other units.
func seconds(v int64) (time.Time, string) {
	switch {
	case v >= maxSeconds:
		return time.Time{}, fmt.Sprintf("field ts: %d is not Unix seconds (milliseconds?)", v)
	case v < minSeconds:
		return time.Time{}, fmt.Sprintf("field ts: %d is not a plausible Unix time", v)
	}
	return time.Unix(v, 0).UTC(), ""
}

// toTrade converts one element of a /trade answer.
func toTrade(raw json.RawMessage) (vendor.Trade, string) {
	var w struct {
		C  *string `json:"c"`
		P  Str     `json:"p"`
		V  Str     `json:"v"`
		Ts *Int    `json:"ts"`
		D  *Int    `json:"d"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return vendor.Trade{}, "trade: " + err.Error()
	}
	if w.C == nil || *w.C == "" {
		return vendor.Trade{}, "trade without c (code)"
	}
	if w.Ts == nil {
		return vendor.Trade{}, "field ts: missing"
	}
	t, reason := seconds(int64(*w.Ts))
	if reason != "" {
		return vendor.Trade{}, reason
	}
	tr := vendor.Trade{Symbol: *w.C, Time: t}
	var err error
	if tr.Price, err = decimal.Parse(string(w.P)); err != nil {
		return vendor.Trade{}, fmt.Sprintf("field p: %v", err)
	}
	if tr.Volume, err = decimal.Parse(string(w.V)); err != nil {
		return vendor.Trade{}, fmt.Sprintf("field v: %v", err)
	}
	if w.D != nil && *w.D >= 0 && *w.D <= 2 {
		tr.Direction = int(*w.D)
	}
	return tr, ""
}

// decodeTrades converts an "OK" /trade data array; bad elements come back as
// reasons.
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

// codeRune reports whether r may appear in a code token of an error text.
func codeRune(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return true
	}
	return r == ':' || r == '.' || r == '-' || r == '_'
}

// namedCodes returns the codes among want that msg names as whole tokens
// ("unknown code US:FOO"), HK leading zeros ignored.
func namedCodes(msg string, want []string) []string {
	tokens := strings.FieldsFunc(msg, func(r rune) bool { return !codeRune(r) })
	var out []string
	for _, w := range want {
		if slices.ContainsFunc(tokens, func(tok string) bool { return SameCode(tok, w) }) {
			out = append(out, w)
		}
	}
	return out
}
