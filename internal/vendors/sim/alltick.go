package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// InvalidCodePrefix marks codes the simulator treats as unknown to the vendor,
// so tests can exercise bad-code answers: any code starting with it.
const InvalidCodePrefix = "INVALID"

// AllTick serves AllTick's wire format: GET /kline, POST /batch-kline and GET
// /trade-tick under both endpoint families, with AllTick's envelope, ret
// codes, page size and the rule that stock codes ignore an end time.
func AllTick(core *Core) http.Handler {
	h := &allTickHandler{core: core}
	mux := http.NewServeMux()
	for _, prefix := range []string{alltick.StockPrefix, alltick.OtherPrefix} {
		stock := prefix == alltick.StockPrefix
		mux.HandleFunc("GET "+prefix+"/kline", func(w http.ResponseWriter, r *http.Request) { h.kline(w, r, stock) })
		mux.HandleFunc("POST "+prefix+"/batch-kline", func(w http.ResponseWriter, r *http.Request) { h.batch(w, r, stock) })
		mux.HandleFunc("GET "+prefix+"/trade-tick", func(w http.ResponseWriter, r *http.Request) { h.trades(w, r, stock) })
	}
	return mux
}

type allTickHandler struct{ core *Core }

// allTickSpec is the generator's view of an AllTick series. Stocks' daily
// bars start at exchange-local midnight, everything else's at UTC midnight.
func allTickSpec(code string, tf vendor.Timeframe) Spec {
	m := alltick.MarketOf(code)
	anchor := calendar.AnchorUTC
	if alltick.IsStock(code) {
		anchor = calendar.AnchorExchange
	}
	return Spec{Instrument: NewInstrument(code, m), Timeframe: tf, Anchor: anchor}
}

// AllTickSpec exposes the spec for ground-truth comparisons in tests.
func AllTickSpec(code string, tf vendor.Timeframe) Spec { return allTickSpec(code, tf) }

func (h *allTickHandler) answer(w http.ResponseWriter, trace string, ret int, msg string, data any) []byte {
	env := alltick.Envelope{Ret: ret, Msg: msg, Trace: trace}
	var raw []byte
	if data != nil {
		var err error
		if raw, err = marshalData(data); err != nil {
			env.Ret, env.Msg, raw = 500, "internal error", nil
		}
	}
	body, err := json.Marshal(env) // data omitted, spliced in below
	if err != nil {
		body, raw = []byte(`{"ret":500,"msg":"internal error"}`), nil
	}
	w.Header().Set("Content-Type", "application/json")
	return withData(body, raw)
}

// begin authenticates, admits against the plan and plays the call's response
// fault. It returns nil when the answer has been written already.
func (h *allTickHandler) begin(w http.ResponseWriter, r *http.Request, trace string, ep vendor.Endpoint, items int) *Call {
	token := r.URL.Query().Get("token")
	// An empty token, or one starting with InvalidCodePrefix, is refused, so
	// tests can exercise a key the vendor does not accept.
	if token == "" || strings.HasPrefix(token, InvalidCodePrefix) {
		h.write(w, nil, h.answer(w, trace, alltick.RetTokenInvalid, "token invalid", nil))
		return nil
	}
	call := h.core.Begin(r.Context(), vendor.AllTick, token, ep, items)
	if !call.Decision.Allowed {
		ret, msg := alltick.RetTooManyRequests, "too many requests"
		if call.Decision.Reason == ReasonBatch {
			ret, msg = alltick.RetLevelNotEnough, "token level not enough"
		}
		h.write(w, nil, h.answer(w, trace, ret, msg, nil))
		return nil
	}
	if !playFault(w, r, call, func() {
		h.write(w, nil, h.answer(w, trace, alltick.RetTooManyRequests, "too many requests", nil))
	}) {
		return nil
	}
	return call
}

// write sends body, applying the call's malformed or truncated fault.
func (h *allTickHandler) write(w http.ResponseWriter, call *Call, body []byte) {
	writeBody(w, call, http.StatusOK, body)
}

func badCode(code string, stock bool) bool {
	return code == "" || strings.HasPrefix(code, InvalidCodePrefix) || alltick.IsStock(code) != stock
}

func (h *allTickHandler) kline(w http.ResponseWriter, r *http.Request, stock bool) {
	var req alltick.Request[alltick.KlineQuery]
	if err := json.Unmarshal([]byte(r.URL.Query().Get("query")), &req); err != nil || req.Trace == "" {
		h.write(w, nil, h.answer(w, "", alltick.RetQueryInvalid, "query invalid", nil))
		return
	}
	call := h.begin(w, r, req.Trace, vendor.EndpointHistory, 1)
	if call == nil {
		return
	}
	q := req.Data
	tf, ok := alltick.TimeframeOf(q.KlineType)
	if !ok || q.QueryKlineNum <= 0 || (stock && (tf == vendor.TF2h || tf == vendor.TF4h)) {
		h.write(w, call, h.answer(w, req.Trace, alltick.RetBadHeader, "request data param invalid", nil))
		return
	}
	if badCode(q.Code, stock) {
		h.write(w, call, h.answer(w, req.Trace, alltick.RetCodeInvalid, "code invalid", nil))
		return
	}
	end := call.Now
	if q.KlineTimestampEnd > 0 && !stock {
		end = time.Unix(q.KlineTimestampEnd, 0)
	}
	bars, err := h.core.Page(call, allTickSpec(q.Code, tf), end, min(q.QueryKlineNum, alltick.PageSize))
	if err != nil {
		h.write(w, call, h.answer(w, req.Trace, alltick.RetBadHeader, err.Error(), nil))
		return
	}
	h.write(w, call, h.answer(w, req.Trace, alltick.RetOK, "ok", allTickKlineData(q.Code, q.KlineType, bars)))
}

// allTickKlineData is the encoded alltick.KlineData of a page.
func allTickKlineData(code string, kt int, bars []vendor.Bar) json.RawMessage {
	out := make([]byte, 0, 64+len(code)+len(bars)*200)
	out = append(out, `{"code":`...)
	out = appendJSONString(out, code)
	out = append(out, `,"kline_type":`...)
	out = strconv.AppendInt(out, int64(kt), 10)
	out = append(out, `,"kline_list":`...)
	out = appendAllTickBars(out, bars)
	return append(out, '}')
}

func (h *allTickHandler) batch(w http.ResponseWriter, r *http.Request, stock bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || len(body) == 0 {
		h.write(w, nil, h.answer(w, "", alltick.RetBodyEmpty, "body empty", nil))
		return
	}
	var req alltick.Request[alltick.BatchQuery]
	if err := json.Unmarshal(body, &req); err != nil || req.Trace == "" {
		h.write(w, nil, h.answer(w, "", alltick.RetBadHeader, "request header param invalid", nil))
		return
	}
	call := h.begin(w, r, req.Trace, vendor.EndpointLatest, len(req.Data.DataList))
	if call == nil {
		return
	}
	groups := make([]allTickGroup, 0, len(req.Data.DataList))
	for _, q := range req.Data.DataList {
		if badCode(q.Code, stock) {
			// One bad code fails the whole request, as AllTick does.
			h.write(w, call, h.answer(w, req.Trace, alltick.RetCodeInvalid, "code invalid", nil))
			return
		}
		tf, ok := alltick.TimeframeOf(q.KlineType)
		if !ok {
			h.write(w, call, h.answer(w, req.Trace, alltick.RetBadHeader, "request data param invalid", nil))
			return
		}
		bars, err := h.core.Latest(call, allTickSpec(q.Code, tf), min(max(q.QueryKlineNum, 1), 2))
		if err != nil {
			h.write(w, call, h.answer(w, req.Trace, alltick.RetBadHeader, err.Error(), nil))
			return
		}
		groups = append(groups, allTickGroup{code: q.Code, kt: q.KlineType, bars: bars})
	}
	h.write(w, call, h.answer(w, req.Trace, alltick.RetOK, "ok", allTickBatchData(groups)))
}

// allTickGroup is one group of a batch answer, before encoding.
type allTickGroup struct {
	code string
	kt   int
	bars []vendor.Bar
}

// allTickBatchData is the encoded alltick.BatchData of groups. A poll of 500
// groups spent more time in json.Marshal and its compaction of every bar
// than in the rest of the simulator; the bytes are the same.
func allTickBatchData(groups []allTickGroup) json.RawMessage {
	if len(groups) == 0 {
		return json.RawMessage(`{"kline_list":null}`)
	}
	out := make([]byte, 0, 32+len(groups)*(64+2*200))
	out = append(out, `{"kline_list":[`...)
	for i, g := range groups {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"code":`...)
		out = appendJSONString(out, g.code)
		out = append(out, `,"kline_type":`...)
		out = strconv.AppendInt(out, int64(g.kt), 10)
		out = append(out, `,"kline_data":`...)
		out = appendAllTickBars(out, g.bars)
		out = append(out, '}')
	}
	return append(out, ']', '}')
}

// trades serves the latest trade as the close of the current 1m bar.
func (h *allTickHandler) trades(w http.ResponseWriter, r *http.Request, stock bool) {
	var req alltick.Request[alltick.TradeQuery]
	if err := json.Unmarshal([]byte(r.URL.Query().Get("query")), &req); err != nil || req.Trace == "" {
		h.write(w, nil, h.answer(w, "", alltick.RetQueryInvalid, "query invalid", nil))
		return
	}
	call := h.begin(w, r, req.Trace, vendor.EndpointTrades, len(req.Data.SymbolList))
	if call == nil {
		return
	}
	var data alltick.TradeData
	for i, s := range req.Data.SymbolList {
		if badCode(s.Code, stock) {
			continue // AllTick drops codes it does not serve
		}
		bars, err := h.core.Latest(call, allTickSpec(s.Code, vendor.TF1m), 1)
		if err != nil || len(bars) == 0 {
			continue
		}
		b := bars[len(bars)-1]
		raw, err := json.Marshal(alltick.Tick{Code: s.Code, Seq: strconv.FormatUint(call.N*1000+uint64(i), 10),
			TickTime: alltick.Millis(call.Now.UnixMilli()), Price: b.Close, Volume: b.Volume})
		if err != nil {
			continue
		}
		data.TickList = append(data.TickList, raw)
	}
	h.write(w, call, h.answer(w, req.Trace, alltick.RetOK, "ok", data))
}

var errUnknownVendor = errors.New("the simulator does not serve this vendor")

// Handler returns the wire-format handler for a vendor name.
func Handler(name string) (VendorHandler, error) {
	switch name {
	case vendor.AllTick:
		return AllTick, nil
	case vendor.Infoway:
		return Infoway, nil
	case vendor.QOS:
		return QOS, nil
	case vendor.XdTick:
		return XdTick, nil
	}
	return nil, errUnknownVendor
}
