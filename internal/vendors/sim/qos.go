package sim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/qos"
)

// QOS answers. QOS documents neither its error texts nor the HTTP statuses
// that go with them (vendors.md §6.1), only that a msg other than "OK" is the
// error. The simulator answers every error with HTTP 200 and a text, so the
// client is held to its text-only classification, the path that a real QOS
// answer cannot be assumed to spare it.
const (
	qosMsgNoKey     = "key is required"
	qosMsgRateLimit = "request rate limit exceeded"
	qosMsgBadCodes  = "code not exist: "
	qosMsgBadBody   = "request body is not valid JSON"
)

// QOS serves QOS's wire format: POST /kline (the latest co bars of each
// code), POST /history (co bars back from e, the bar containing e included)
// and POST /trade (the latest trades), with the key in the "key" header or URL
// parameter, the {"msg","data"} envelope, "MARKET:SYM[,SYM…]" codes grouped
// per market prefix, and QOS's default depth: only the latest qos.MaxCount
// bars of each series exist, whatever e asks for.
//
// A request naming an unknown code (one starting with InvalidCodePrefix, or
// one that is not a QOS code) fails as a whole, with every such code named in
// the msg. The answer's data is not in request order, as at QOS: elements come
// in a fixed order per seed, so a client that reads them by position fails.
func QOS(core *Core) http.Handler {
	h := &qosHandler{core: core}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+qos.PathKline, func(w http.ResponseWriter, r *http.Request) { h.kline(w, r, false) })
	mux.HandleFunc("POST "+qos.PathHistory, func(w http.ResponseWriter, r *http.Request) { h.kline(w, r, true) })
	mux.HandleFunc("POST "+qos.PathTrade, h.trades)
	return mux
}

type qosHandler struct{ core *Core }

// QOSSpec returns the generator's view of a QOS series, for ground-truth
// comparisons. HK symbols with and without leading zeros are one product.
// Stocks' daily bars start at exchange-local midnight (vendors.md §7.8),
// everything else's at UTC midnight.
func QOSSpec(code string, tf vendor.Timeframe) (Spec, error) {
	c, err := qos.ParseCode(code)
	if err != nil {
		return Spec{}, err
	}
	return qosSpec(c, tf), nil
}

func qosSpec(c qos.Code, tf vendor.Timeframe) Spec {
	symbol := c.Mkt + ":" + c.Sym
	if c.Mkt == qos.MktHK {
		n, _ := strconv.Atoi(c.Sym) // ParseCode let only 1–5 digits through
		symbol = fmt.Sprintf("%s:%05d", c.Mkt, n)
	}
	anchor := calendar.AnchorUTC
	switch c.Market {
	case vendor.MarketUS, vendor.MarketHK, vendor.MarketCN:
		anchor = calendar.AnchorExchange
	}
	return Spec{Instrument: NewInstrument(symbol, c.Market), Timeframe: tf, Anchor: anchor}
}

// qosSeries is one code of a kline request at one kt.
type qosSeries struct {
	code string // as the request spelt it, echoed in the answer
	kt   int
	co   int   // bars asked for, capped to the depth
	e    int64 // /history's end, 0 for now
	spec Spec
}

// qosCodes expands one "MARKET:SYM[,SYM…]" string into codes (and their
// spelling), listing the ones QOS would not know in bad.
func qosCodes(group string) (codes []qos.Code, spelt, bad []string) {
	mkt, syms, _ := strings.Cut(group, ":")
	for sym := range strings.SplitSeq(syms, ",") {
		code := mkt + ":" + sym
		c, err := qos.ParseCode(code)
		if err != nil || strings.HasPrefix(sym, InvalidCodePrefix) {
			bad = append(bad, code)
			continue
		}
		codes = append(codes, c)
		spelt = append(spelt, code)
	}
	return codes, spelt, bad
}

// countCodes counts the codes of "MARKET:SYM[,SYM…]" strings, the products
// a request asks for.
func countCodes(groups []string) int {
	n := 0
	for _, g := range groups {
		n += strings.Count(g, ",") + 1
	}
	return n
}

// answer renders the envelope around data (nil for an error). The data is
// spliced in after the envelope's msg rather than marshalled inside it: as
// a json.RawMessage it would be re-scanned byte by byte, which doubled the
// cost of a 1000-bar page.
func (h *qosHandler) answer(w http.ResponseWriter, msg string, data any) []byte {
	w.Header().Set("Content-Type", "application/json")
	var raw []byte
	if data != nil {
		var err error
		if raw, err = marshalData(data); err != nil {
			msg, raw = "internal error", nil
		}
	}
	body, err := json.Marshal(qos.Envelope{Msg: msg}) // {"msg":…}, data omitted
	if err != nil {
		return []byte(`{"msg":"internal error"}`)
	}
	return withData(body, raw)
}

// fail answers an error text; call is nil before admission.
func (h *qosHandler) fail(w http.ResponseWriter, call *Call, msg string) {
	writeBody(w, call, http.StatusOK, h.answer(w, msg, nil))
}

func apiKey(r *http.Request) string {
	return cmp.Or(r.Header.Get(qos.HeaderKey), r.URL.Query().Get(qos.HeaderKey))
}

// read authenticates and decodes the body into v; false when the answer has
// been written already. Neither kind of refusal reaches the plan, as at a
// vendor whose front end turns such requests away before counting them.
func (h *qosHandler) read(w http.ResponseWriter, r *http.Request, v any) bool {
	if apiKey(r) == "" {
		h.fail(w, nil, qosMsgNoKey)
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, v) != nil {
		h.fail(w, nil, qosMsgBadBody)
		return false
	}
	return true
}

// begin admits the request against the plan and plays the call's response
// fault; nil when the answer has been written already. Every refusal is
// QOS's rate-limit text, the batch cap's too: the default plan's product
// limit is part of the same plan.
func (h *qosHandler) begin(w http.ResponseWriter, r *http.Request, ep vendor.Endpoint, items int) *Call {
	call := h.core.Begin(r.Context(), vendor.QOS, apiKey(r), ep, items)
	if !call.Decision.Allowed {
		h.fail(w, nil, qosMsgRateLimit+": "+call.Decision.Detail)
		return nil
	}
	if !playFault(w, r, call, func() { h.fail(w, nil, qosMsgRateLimit) }) {
		return nil
	}
	return call
}

// parseKlineReqs checks a kline request and expands it into series, or
// returns the error text.
func parseKlineReqs(reqs []qos.KlineReq) ([]qosSeries, string) {
	if len(reqs) == 0 {
		return nil, "kline_reqs is empty"
	}
	var out []qosSeries
	var bad []string
	for _, q := range reqs {
		tf, ok := qos.TimeframeOf(q.Kt)
		switch {
		case !ok:
			return nil, fmt.Sprintf("kt %d is not served", q.Kt)
		case q.Co <= 0:
			return nil, fmt.Sprintf("co %d must be at least 1", q.Co)
		case q.A != qos.AdjustNone && q.A != qos.AdjustForward:
			return nil, fmt.Sprintf("a %d must be 0 or 1", q.A)
		case q.E < 0:
			return nil, fmt.Sprintf("e %d is before 1970", q.E)
		}
		codes, spelt, b := qosCodes(q.C)
		bad = append(bad, b...)
		for i, c := range codes {
			out = append(out, qosSeries{code: spelt[i], kt: q.Kt, co: min(q.Co, qos.MaxCount), e: q.E, spec: qosSpec(c, tf)})
		}
	}
	if len(bad) > 0 {
		return nil, qosMsgBadCodes + strings.Join(bad, ",")
	}
	return out, ""
}

// kline serves /kline (the latest co bars) and /history (co bars back from
// e). Both take the same body; only /history reads e.
func (h *qosHandler) kline(w http.ResponseWriter, r *http.Request, history bool) {
	var req qos.KlineRequest
	if !h.read(w, r, &req) {
		return
	}
	ep := vendor.EndpointLatest
	if history {
		ep = vendor.EndpointHistory
	}
	groups := make([]string, len(req.KlineReqs))
	for i, q := range req.KlineReqs {
		groups[i] = q.C
	}
	call := h.begin(w, r, ep, countCodes(groups))
	if call == nil {
		return
	}
	series, problem := parseKlineReqs(req.KlineReqs)
	if problem != "" {
		h.fail(w, call, problem)
		return
	}
	pages := make([]qosPage, len(series))
	keys := make([]string, len(series))
	for i, s := range series {
		end := call.Now
		if history && s.e > 0 {
			end = time.Unix(s.e, 0).UTC()
		}
		bars, err := h.depthPage(call, s.spec, end, s.co)
		if err != nil {
			h.fail(w, call, err.Error())
			return
		}
		pages[i] = qosPage{code: s.code, kt: s.kt, bars: bars}
		keys[i] = s.code + "/" + strconv.Itoa(s.kt)
	}
	writeBody(w, call, http.StatusOK, h.answer(w, qos.MsgOK, qosKlineData(qosOrder(h.core.seed, pages, keys))))
}

// qosPage is one series' bars of a kline answer.
type qosPage struct {
	code string
	kt   int
	bars []vendor.Bar
}

// qosKlineData is the encoded []qos.KlineSeries of pages, in their order.
func qosKlineData(pages []qosPage) json.RawMessage {
	n := 2
	for _, p := range pages {
		n += 32 + len(p.code) + len(p.bars)*(120+len(p.code))
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, p := range pages {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"c":`...)
		out = appendJSONString(out, p.code)
		out = append(out, `,"k":`...)
		out = appendQOSBars(out, p.code, p.kt, p.bars)
		out = append(out, '}')
	}
	return append(out, ']')
}

// depthPage returns up to co bars of s opening at or before end, among the
// latest qos.MaxCount bars as of the call: QOS keeps no more, so an end
// before them gets nothing.
func (h *qosHandler) depthPage(call *Call, s Spec, end time.Time, co int) ([]vendor.Bar, error) {
	floor, ok, err := h.core.Generator().OldestOfLast(s, call.Now, qos.MaxCount, call.Now)
	if err != nil || !ok || end.Before(floor) {
		return nil, err
	}
	bars, err := h.core.Page(call, s, end, co)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(bars, func(b vendor.Bar) bool { return b.Time.Before(floor) }), nil
}

func encodeQOSBars(code string, kt int, bars []vendor.Bar) []qos.KlineBar {
	out := make([]qos.KlineBar, len(bars))
	for i, b := range bars {
		out[i] = qos.KlineBar{C: code, O: qos.Str(b.Open.String()), Cl: qos.Str(b.Close.String()), H: qos.Str(b.High.String()),
			L: qos.Str(b.Low.String()), V: qos.Str(b.Volume.String()), Ts: qos.Int(b.Time.Unix()), Kt: qos.Int(kt)}
	}
	return out
}

// qosOrder puts an answer's elements in QOS's order, which is not the
// request's: here a fixed permutation per seed, by each element's key.
func qosOrder[T any](seed uint64, elems []T, keys []string) []T {
	idx := make([]int, len(elems))
	rank := make([]uint64, len(elems))
	for i := range idx {
		idx[i], rank[i] = i, seriesKey(seed^0x9050, keys[i])
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(rank[a], rank[b]) })
	out := make([]T, len(elems))
	for i, j := range idx {
		out[i] = elems[j]
	}
	return out
}

// trades serves /trade: the latest count trades of each code, read off its
// 1m bars, newest first: a bar's trade is its close, at the bar's last second
// or, for the forming bar, now.
func (h *qosHandler) trades(w http.ResponseWriter, r *http.Request) {
	var req qos.TradeRequest
	if !h.read(w, r, &req) {
		return
	}
	call := h.begin(w, r, vendor.EndpointTrades, countCodes(req.Codes))
	if call == nil {
		return
	}
	if req.Count < 1 || req.Count > qos.MaxTradeCount {
		h.fail(w, call, fmt.Sprintf("count %d must be between 1 and %d", req.Count, qos.MaxTradeCount))
		return
	}
	if len(req.Codes) == 0 {
		h.fail(w, call, "codes is empty")
		return
	}
	var codes []qos.Code
	var spelt, bad []string
	for _, g := range req.Codes {
		c, sp, b := qosCodes(g)
		codes, spelt, bad = append(codes, c...), append(spelt, sp...), append(bad, b...)
	}
	if len(bad) > 0 {
		h.fail(w, call, qosMsgBadCodes+strings.Join(bad, ","))
		return
	}
	var data []qos.Trade
	var keys []string
	gen := h.core.Generator()
	for i, c := range codes {
		spec := qosSpec(c, vendor.TF1m)
		bars, err := gen.Last(spec, call.Now, req.Count, call.Now)
		if err != nil {
			h.fail(w, call, err.Error())
			return
		}
		for _, b := range slices.Backward(bars) {
			ts := b.Time.Add(time.Minute - time.Second)
			if !gen.IsFinal(spec, b.Time, call.Now) {
				ts = call.Now
			}
			d := 1 // buy when the bar rose, sell when it fell
			if b.Close.Cmp(b.Open) < 0 {
				d = 2
			}
			data = append(data, qos.Trade{C: spelt[i], P: qos.Str(b.Close.String()), V: qos.Str(b.Volume.String()),
				Ts: qos.Int(ts.Unix()), D: qos.Int(d)})
			keys = append(keys, spelt[i])
		}
	}
	writeBody(w, call, http.StatusOK, h.answer(w, qos.MsgOK, qosOrder(h.core.seed, data, keys)))
}
