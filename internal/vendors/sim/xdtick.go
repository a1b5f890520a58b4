package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// xdTickDefaultSize answers a /tick-api/kline without size. XdTick marks
// size optional without saying what it defaults to; this is the simulator's
// choice.
const xdTickDefaultSize = 100

// XdTick serves XdTick's wire format: GET /tick-api/kline, POST
// /tick-api/batch-kline and GET /tick-api/trade-tick, the key in X-API-KEY,
// the {code, msg, data} envelope with AllTick's codes, bars newest first
// with millisecond timestamps and JSON numbers. /tick-api/kline takes no end
// time: it always serves the latest bars, ignoring any parameter it does not
// document.
func XdTick(core *Core) http.Handler {
	h := &xdTickHandler{core: core}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+xdtick.PathKline, h.kline)
	mux.HandleFunc("POST "+xdtick.PathBatch, h.batch)
	mux.HandleFunc("GET "+xdtick.PathTrades, h.trades)
	return mux
}

type xdTickHandler struct{ core *Core }

// xdTickSpec is the generator's view of an XdTick series: none is a stock,
// so daily bars start at UTC midnight.
func xdTickSpec(code string, tf vendor.Timeframe) Spec {
	return Spec{Instrument: NewInstrument(code, xdtick.MarketOf(code)), Timeframe: tf, Anchor: calendar.AnchorUTC}
}

// XdTickSpec exposes the spec for ground-truth comparisons in tests.
func XdTickSpec(code string, tf vendor.Timeframe) Spec { return xdTickSpec(code, tf) }

func (h *xdTickHandler) answer(w http.ResponseWriter, code int, msg string, data any) []byte {
	env := xdtick.Envelope{Code: code, Msg: msg}
	var raw []byte
	if data != nil {
		var err error
		if raw, err = marshalData(data); err != nil {
			env.Code, env.Msg, raw = 500, "internal error", nil
		}
	}
	body, err := json.Marshal(env) // data omitted, spliced in below
	if err != nil {
		body, raw = []byte(`{"code":500,"msg":"internal error"}`), nil
	}
	w.Header().Set("Content-Type", "application/json")
	return withData(body, raw)
}

// begin authenticates, admits against the plan and plays the call's response
// fault. It returns nil when the answer has been written already.
func (h *xdTickHandler) begin(w http.ResponseWriter, r *http.Request, ep vendor.Endpoint, items int) *Call {
	key := r.Header.Get(xdtick.HeaderKey)
	if key == "" {
		h.write(w, nil, h.answer(w, xdtick.CodeTokenInvalid, "token invalid", nil))
		return nil
	}
	call := h.core.Begin(r.Context(), vendor.XdTick, key, ep, items)
	if !call.Decision.Allowed {
		code, msg := xdtick.CodeRateLimit, "Too Many Requests"
		if call.Decision.Reason == ReasonBatch {
			code, msg = xdtick.CodeLevelNotEnough, "token level not enough"
		}
		h.write(w, nil, h.answer(w, code, msg, nil))
		return nil
	}
	limited := func() { h.write(w, nil, h.answer(w, xdtick.CodeRateLimit, "Too Many Requests", nil)) }
	if !playFault(w, r, call, limited) {
		return nil
	}
	return call
}

// write sends body, applying the call's malformed or truncated fault.
func (h *xdTickHandler) write(w http.ResponseWriter, call *Call, body []byte) {
	writeBody(w, call, http.StatusOK, body)
}

func xdTickBadCode(code string) bool {
	return strings.HasPrefix(code, InvalidCodePrefix) || xdtick.CheckCode(code) != nil
}

// xdTickKlineData is the encoded xdtick.KlineData of a page (bars
// ascending, sent newest first).
func xdTickKlineData(code, kt string, bars []vendor.Bar) json.RawMessage {
	out := make([]byte, 0, 64+len(code)+len(bars)*250)
	out = append(out, `{"code":`...)
	out = appendJSONString(out, code)
	out = append(out, `,"klineType":`...)
	out = appendJSONString(out, kt)
	out = append(out, `,"klineList":`...)
	out = appendXdTickBars(out, bars)
	return append(out, '}')
}

// encodeXdTickBars renders ascending bars newest first, as XdTick sends them.
func encodeXdTickBars(bars []vendor.Bar) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(bars))
	for _, b := range slices.Backward(bars) {
		raw, err := json.Marshal(xdtick.FromBar(b))
		if err != nil {
			continue // cannot happen: every field marshals
		}
		out = append(out, raw)
	}
	return out
}

func (h *xdTickHandler) kline(w http.ResponseWriter, r *http.Request) {
	call := h.begin(w, r, vendor.EndpointHistory, 1)
	if call == nil {
		return
	}
	q := r.URL.Query()
	code, kt := q.Get("code"), q.Get("klineType")
	tf, ok := xdtick.TimeframeOf(kt)
	size := xdTickDefaultSize
	if s := q.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			ok = false
		}
		size = n
	}
	if !ok || code == "" {
		h.write(w, call, h.answer(w, xdtick.CodeQueryInvalid, "query invalid", nil))
		return
	}
	if xdTickBadCode(code) {
		h.write(w, call, h.answer(w, xdtick.CodeCodeInvalid, "code invalid", nil))
		return
	}
	bars, err := h.core.Page(call, xdTickSpec(code, tf), call.Now, min(size, xdtick.PageSize))
	if err != nil {
		h.write(w, call, h.answer(w, xdtick.CodeBadHeader, err.Error(), nil))
		return
	}
	// The simulated history starts at xdtick.MinTime: earlier millisecond
	// times (1970–1973 monthly bars) cannot be told from seconds.
	bars = slices.DeleteFunc(bars, func(b vendor.Bar) bool { return b.Time.Before(xdtick.MinTime) })
	h.write(w, call, h.answer(w, xdtick.CodeOK, xdtick.MsgOK, xdTickKlineData(code, kt, bars)))
}

func (h *xdTickHandler) batch(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || len(strings.TrimSpace(string(body))) == 0 {
		h.write(w, nil, h.answer(w, xdtick.CodeBodyEmpty, "body empty", nil))
		return
	}
	var items []xdtick.BatchItem
	if err := json.Unmarshal(body, &items); err != nil || len(items) == 0 {
		h.write(w, nil, h.answer(w, xdtick.CodeBadHeader, "request data param invalid", nil))
		return
	}
	call := h.begin(w, r, vendor.EndpointLatest, len(items))
	if call == nil {
		return
	}
	var data xdtick.BatchData
	for _, it := range items {
		if xdTickBadCode(it.Code) {
			// One bad code fails the whole request, as AllTick (whose table
			// XdTick copies) does.
			h.write(w, call, h.answer(w, xdtick.CodeCodeInvalid, "code invalid", nil))
			return
		}
		tf, ok := xdtick.TimeframeOf(it.KlineType)
		if !ok {
			h.write(w, call, h.answer(w, xdtick.CodeBadHeader, "request data param invalid", nil))
			return
		}
		bars, err := h.core.Latest(call, xdTickSpec(it.Code, tf), min(max(it.Size, 1), 2))
		if err != nil {
			h.write(w, call, h.answer(w, xdtick.CodeBadHeader, err.Error(), nil))
			return
		}
		data.KlineList = append(data.KlineList, xdtick.BatchGroup{Code: it.Code, KlineType: it.KlineType, KlineData: encodeXdTickBars(bars)})
	}
	h.write(w, call, h.answer(w, xdtick.CodeOK, xdtick.MsgOK, data))
}

// trades serves the latest trade as the close of the current 1m bar, timed
// in seconds. FX, metals and energy carry no turnover, as XdTick documents.
func (h *xdTickHandler) trades(w http.ResponseWriter, r *http.Request) {
	var codes []string
	for c := range strings.SplitSeq(r.URL.Query().Get("codes"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			codes = append(codes, c)
		}
	}
	if len(codes) == 0 {
		h.write(w, nil, h.answer(w, xdtick.CodeQueryInvalid, "query invalid", nil))
		return
	}
	call := h.begin(w, r, vendor.EndpointTrades, len(codes))
	if call == nil {
		return
	}
	var data xdtick.TradeData
	for _, code := range codes {
		if xdTickBadCode(code) {
			continue // codes it does not serve are left out
		}
		bars, err := h.core.Latest(call, xdTickSpec(code, vendor.TF1m), 1)
		if err != nil || len(bars) == 0 {
			continue
		}
		b := bars[len(bars)-1]
		t := xdtick.Tick{Code: code, Price: xdtick.NumOf(b.Close), Volume: xdtick.NumOf(b.Volume), Timestamp: xdtick.Seconds(call.Now.Unix())}
		if xdtick.MarketOf(code) == vendor.MarketCrypto {
			t.Turnover = xdtick.Num{Null: b.Turnover}
		}
		raw, err := json.Marshal(t)
		if err != nil {
			continue
		}
		data.TickList = append(data.TickList, raw)
	}
	h.write(w, call, h.answer(w, xdtick.CodeOK, xdtick.MsgOK, data))
}
