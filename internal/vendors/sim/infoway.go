package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/infoway"
)

// InfowayHistoryDepth is how far back the simulated Infoway serves minute and
// hour bars. Infoway says the reach depends on the plan and publishes no
// numbers (vendors.md §5.2); a year is the simulator's choice. A timestamp
// further back is answered with ret 513 and older bars are left out of a
// page. Daily and longer bars are not limited (the zh page: "日K及以上类型不限制").
const InfowayHistoryDepth = 365 * 24 * time.Hour

// maxInfowayTimestamp is the first timestamp taken for milliseconds rather
// than seconds (year 2286), which Infoway answers with an error.
const maxInfowayTimestamp = 10_000_000_000

// Infoway serves Infoway's wire format (vendors.md §5): POST
// /{mkt}/v2/batch_kline (history of one code, or the latest 2 bars of up to
// 100 codes of one timeframe) and GET /{mkt}/batch_trade/{codes}, keyed by the
// apiKey header, with Infoway's envelope, ret codes and error bodies.
//
// Conventions the simulator chooses where Infoway documents none:
//   - a code is unknown when it starts with InvalidCodePrefix, is not a valid
//     Infoway code (700.HK instead of 00700.HK), belongs to another market
//     prefix than the path's, or is an India, Korea or Taiwan stock (the
//     calendar has no sessions for them). A request whose codes are all
//     unknown gets ret 500 "All product not exists"; one with some unknown
//     codes fails whole with ret 508, as strict as AllTick, so a client must
//     isolate them;
//   - rate limits: per-second and spacing refusals (and the rate-limit fault)
//     are HTTP 429 {"detail":"Rate limit exceeded"}, per-minute refusals ret
//     501, the daily cap ret 502, too many codes ret 505. Business errors come
//     with HTTP 200;
//   - an apiKey that is empty or starts with InvalidCodePrefix is refused with
//     HTTP 401;
//   - the timestamp (Unix seconds, inclusive) is honoured for every timeframe
//     of a single-code request; a multi-code request always gets the latest
//     bars. The plan and the stats count a request as latest bars when it has
//     several codes, or one code, no timestamp and klineNum ≤ 2, and as
//     history otherwise;
//   - a trade is the close of the code's newest 1m bar, with that bar's
//     volume, at the current instant or the bar's last millisecond if the
//     market has closed since;
//   - stocks' daily, weekly and monthly bars start at exchange-local
//     midnight, the others' at 00:00Z (Infoway's crypto dailies do, per its
//     WebSocket pushes; the stock anchor is unconfirmed);
//   - pca is close − open and pc the same in percent of the open (the
//     simulated bars chain, so the open is the previous bar's close).
func Infoway(core *Core) http.Handler {
	h := &infowayHandler{core: core}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{mkt}/v2/batch_kline", h.kline)
	mux.HandleFunc("GET /{mkt}/batch_trade/{codes}", h.trades)
	return mux
}

type infowayHandler struct{ core *Core }

// infowayMkts are the market prefixes the simulator serves paths for.
var infowayMkts = map[string]bool{
	infoway.MktStock: true, infoway.MktJapan: true, infoway.MktIndia: true, infoway.MktKorea: true,
	infoway.MktTaiwan: true, infoway.MktCrypto: true, infoway.MktCommon: true,
}

// InfowaySpec returns the generator's view of an Infoway code at tf, for
// ground-truth comparisons; false when the simulator does not serve the code.
func InfowaySpec(code string, tf vendor.Timeframe) (Spec, bool) {
	c, err := infoway.ParseCode(code)
	if err != nil {
		return Spec{}, false
	}
	return infowaySpec(c.Mkt, code, tf)
}

// infowaySpec resolves a code requested under the market prefix mkt.
func infowaySpec(mkt, code string, tf vendor.Timeframe) (Spec, bool) {
	if strings.HasPrefix(code, InvalidCodePrefix) {
		return Spec{}, false
	}
	c, err := infoway.ParseCode(code)
	if err != nil || c.Mkt != mkt || c.Market == vendor.MarketOther {
		return Spec{}, false
	}
	anchor := calendar.AnchorUTC
	if c.Mkt != infoway.MktCrypto && c.Mkt != infoway.MktCommon {
		anchor = calendar.AnchorExchange
	}
	return Spec{Instrument: NewInstrument(code, c.Market), Timeframe: tf, Anchor: anchor}, true
}

// splitCodes reads a comma-separated code list, dropping blanks and repeats.
func splitCodes(s string) []string {
	var out []string
	seen := map[string]bool{}
	for c := range strings.SplitSeq(s, ",") {
		c = strings.TrimSpace(c)
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// send renders v as JSON with status, applying the call's body faults.
func (h *infowayHandler) send(w http.ResponseWriter, call *Call, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"ret":500,"msg":"server error","data":null}`)
	}
	w.Header().Set("Content-Type", "application/json")
	writeBody(w, call, status, body)
}

// infowayAnswer is the envelope with its data encoded in the same pass: the
// shallower Data shadows Envelope.Data, which as a json.RawMessage would be
// scanned a second time (a third of a page's cost).
type infowayAnswer struct {
	infoway.Envelope

	Data any `json:"data"`
}

// answer sends an envelope; data nil is JSON null, as in Infoway's errors.
func (h *infowayHandler) answer(w http.ResponseWriter, call *Call, ret int, msg string, data any) {
	env := infowayAnswer{Envelope: infoway.Envelope{Ret: ret, Msg: msg}, Data: data}
	if call != nil {
		env.TraceID = infowayTrace(call)
	}
	raw, ok := data.(json.RawMessage)
	if !ok {
		h.send(w, call, http.StatusOK, env)
		return
	}
	// Encoded already: splice it in for the envelope's trailing null rather
	// than have encoding/json rescan it.
	env.Data = nil
	body, err := json.Marshal(env)
	if err != nil || !bytes.HasSuffix(body, []byte(`null}`)) {
		env.Data = raw // cannot happen; encoding/json gives the same bytes
		h.send(w, call, http.StatusOK, env)
		return
	}
	out := make([]byte, 0, len(body)+len(raw))
	out = append(out, body[:len(body)-len(`null}`)]...)
	out = append(out, raw...)
	out = append(out, '}')
	w.Header().Set("Content-Type", "application/json")
	writeBody(w, call, http.StatusOK, out)
}

// infowayTrace is a UUID-shaped traceId, deterministic from the request's
// place in its stream so that equal runs give equal bodies.
func infowayTrace(call *Call) string {
	a := mix64(seriesKey(0, call.Vendor+"/"+string(call.Endpoint)) ^ call.N)
	b := mix64(a ^ 0x7ace)
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, 0x8000|b>>48&0x3fff, b&0xffff_ffff_ffff)
}

func (h *infowayHandler) tooMany(w http.ResponseWriter) {
	h.send(w, nil, http.StatusTooManyRequests, infoway.TooManyBody{Detail: infoway.MsgRateLimitExceeded})
}

func (h *infowayHandler) problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	h.send(w, nil, status, infoway.ProblemBody{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: r.URL.Path})
}

// admit checks the path's market prefix and the key, admits the request
// against the plan and plays the call's response fault. It returns nil when
// the answer has been written already.
func (h *infowayHandler) admit(w http.ResponseWriter, r *http.Request, ep vendor.Endpoint, items int) *Call {
	call := h.core.Begin(r.Context(), vendor.Infoway, r.Header.Get(infoway.HeaderAPIKey), ep, items)
	if !call.Decision.Allowed {
		switch call.Decision.Reason {
		case ReasonBatch:
			h.answer(w, call, infoway.RetTooManyProducts, "too many products: "+call.Decision.Detail, nil)
		case ReasonDaily:
			h.answer(w, call, infoway.RetDailyLimit, "daily request limit exceeded", nil)
		case ReasonPerMinute:
			h.answer(w, call, infoway.RetRateLimited, "request frequency exceeded", nil)
		default:
			h.tooMany(w)
		}
		return nil
	}
	if !playFault(w, r, call, func() { h.tooMany(w) }) {
		return nil
	}
	return call
}

// authorized answers a bad path or key itself and reports whether to go on.
// Neither reaches the plan: Infoway's routing and key check come first.
func (h *infowayHandler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if mkt := r.PathValue("mkt"); !infowayMkts[mkt] {
		h.problem(w, r, http.StatusNotFound, "unknown market prefix "+strconv.Quote(mkt))
		return false
	}
	if key := r.Header.Get(infoway.HeaderAPIKey); key == "" || strings.HasPrefix(key, InvalidCodePrefix) {
		h.send(w, nil, http.StatusUnauthorized, infoway.UnauthorizedBody{
			Code: infoway.RetUnauthorized, Message: infoway.MsgTokenInvalid, Timestamp: h.core.Now().UnixMilli(),
		})
		return false
	}
	return true
}

// resolve maps the requested codes (no more than most) to specs. It
// answers the request itself (and returns false) when there are none or too
// many, or some code is unknown.
func (h *infowayHandler) resolve(w http.ResponseWriter, call *Call, mkt string, codes []string, most int, tf vendor.Timeframe) ([]Spec, bool) {
	switch {
	case len(codes) == 0:
		h.answer(w, call, infoway.RetParamMissing, "codes is required", nil)
		return nil, false
	case len(codes) > most:
		h.answer(w, call, infoway.RetTooManyProducts, fmt.Sprintf("at most %d codes per request", most), nil)
		return nil, false
	}
	specs := make([]Spec, 0, len(codes))
	var unknown []string
	for _, c := range codes {
		s, ok := infowaySpec(mkt, c, tf)
		if !ok {
			unknown = append(unknown, c)
			continue
		}
		specs = append(specs, s)
	}
	switch {
	case len(specs) == 0:
		h.answer(w, call, infoway.RetServerError, infoway.MsgAllProductNotExists, nil)
		return nil, false
	case len(unknown) > 0:
		h.answer(w, call, infoway.RetNoProduct, "product not exists: "+strings.Join(unknown, ","), nil)
		return nil, false
	}
	return specs, true
}

func (h *infowayHandler) kline(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var req infoway.KlineRequest
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		h.problem(w, r, http.StatusBadRequest, "Failed to read request")
		return
	}
	codes := splitCodes(req.Codes)
	// One endpoint serves both; the plan and the stats tell them apart.
	ep, items := vendor.EndpointHistory, 1
	if len(codes) > 1 || (req.Timestamp == 0 && req.KlineNum <= infoway.LatestKlineNum) {
		ep, items = vendor.EndpointLatest, len(codes)
	}
	call := h.admit(w, r, ep, items)
	if call == nil {
		return
	}
	tf, ok := infoway.TimeframeOf(req.KlineType)
	switch {
	case !ok:
		h.answer(w, call, infoway.RetParamError, "klineType "+strconv.Itoa(req.KlineType)+" is not served", nil)
		return
	case req.KlineNum <= 0:
		h.answer(w, call, infoway.RetParamError, "klineNum must be positive", nil)
		return
	case req.KlineNum > infoway.MaxKlineNum:
		h.answer(w, call, infoway.RetKlineNum, fmt.Sprintf("klineNum exceeds %d", infoway.MaxKlineNum), nil)
		return
	case req.Timestamp < 0 || req.Timestamp >= maxInfowayTimestamp:
		h.answer(w, call, infoway.RetParamError, "timestamp must be Unix seconds", nil)
		return
	}
	specs, ok := h.resolve(w, call, r.PathValue("mkt"), codes, infoway.MaxCodes, tf)
	if !ok {
		return
	}
	if len(specs) == 1 {
		bars, ret, msg := h.history(call, specs[0], req)
		if ret != infoway.RetOK {
			h.answer(w, call, ret, msg, nil)
			return
		}
		h.answer(w, call, infoway.RetOK, infoway.MsgSuccess, infowayKlineData(codes[0], bars))
		return
	}
	var data []infoway.KlineSeries
	n := min(req.KlineNum, infoway.LatestKlineNum)
	for i, s := range specs {
		bars, err := h.core.Latest(call, s, n)
		if err != nil {
			h.answer(w, call, infoway.RetParamError, err.Error(), nil)
			return
		}
		data = append(data, infoway.KlineSeries{S: codes[i], RespList: infowayBars(bars)})
	}
	h.answer(w, call, infoway.RetOK, infoway.MsgSuccess, data)
}

// history serves one code's page back from the timestamp (or now), within
// the plan's reach for minute and hour bars.
func (h *infowayHandler) history(call *Call, s Spec, req infoway.KlineRequest) ([]vendor.Bar, int, string) {
	end := call.Now
	if req.Timestamp > 0 {
		end = time.Unix(req.Timestamp, 0).UTC()
	}
	oldest := call.Now.Add(-InfowayHistoryDepth)
	limited := s.Timeframe.Intraday()
	if limited && end.Before(oldest) {
		return nil, infoway.RetTimeLimit, "timestamp is beyond the plan's history range"
	}
	bars, err := h.core.Page(call, s, end, req.KlineNum)
	if err != nil {
		return nil, infoway.RetParamError, err.Error()
	}
	if limited {
		kept := bars[:0]
		for _, b := range bars {
			if !b.Time.Before(oldest) {
				kept = append(kept, b)
			}
		}
		bars = kept
	}
	return bars, infoway.RetOK, ""
}

// infowayKlineData is the encoded one-element []infoway.KlineSeries of a
// history page (bars ascending, sent newest first).
func infowayKlineData(code string, bars []vendor.Bar) json.RawMessage {
	out := make([]byte, 0, 32+len(code)+len(bars)*220)
	out = append(out, `[{"s":`...)
	out = appendJSONString(out, code)
	out = append(out, `,"respList":`...)
	out = appendInfowayBars(out, bars)
	return append(out, `}]`...)
}

// infowayBars renders ascending bars newest first, as Infoway sends them.
func infowayBars(bars []vendor.Bar) []infoway.KlineBar {
	out := make([]infoway.KlineBar, len(bars))
	for i, b := range bars {
		pca, pc := infowayChange(b.Open, b.Close)
		out[len(bars)-1-i] = infoway.KlineBar{
			T: infoway.Str(strconv.FormatInt(b.Time.Unix(), 10)),
			H: infoway.Str(b.High.String()), O: infoway.Str(b.Open.String()),
			L: infoway.Str(b.Low.String()), C: infoway.Str(b.Close.String()),
			V: infoway.Str(b.Volume.String()), VW: infoway.Str(b.Turnover.Decimal.String()),
			PC: infoway.Str(pc), PCA: infoway.Str(pca),
		}
	}
	return out
}

// infowayChange returns the change amount close − open and the change in
// percent of the open, rounded half away from zero to 2 decimals with a "%"
// suffix. The generator writes open and close at one scale.
func infowayChange(o, c decimal.Decimal) (pca, pc string) {
	oc, cc := o.Coefficient(), c.Coefficient()
	if oc.IsInt64() && cc.IsInt64() && absLess(oc.Int64(), 1<<40) && absLess(cc.Int64(), 1<<40) {
		// The common case in int64: |d|·20000 stays far below 2^63.
		ov, d := oc.Int64(), cc.Int64()-oc.Int64()
		pca = decimal.New(d, c.Scale()).String()
		if ov == 0 {
			return pca, percent(false, "0")
		}
		hundredths := (2*abs64(d)*10000 + abs64(ov)) / (2 * abs64(ov))
		return pca, percent((d < 0) != (ov < 0), strconv.FormatInt(hundredths, 10))
	}
	d := new(big.Int).Sub(cc, oc)
	pca = decimal.NewFromBig(d, c.Scale()).String()
	if oc.Sign() == 0 {
		return pca, percent(false, "0")
	}
	// round(|d|·10000 / |o|) = (2·|d|·10000 + |o|) / (2·|o|)
	a := new(big.Int).Mul(new(big.Int).Abs(d), big.NewInt(20000))
	b := new(big.Int).Abs(oc)
	a.Add(a, b)
	return pca, percent(d.Sign() != oc.Sign(), a.Quo(a, b.Lsh(b, 1)).String())
}

// percent writes hundredths of a percent as "-1.23%"; zero has no sign.
func percent(neg bool, hundredths string) string {
	if hundredths == "0" {
		return "0.00%"
	}
	if len(hundredths) < 3 {
		hundredths = strings.Repeat("0", 3-len(hundredths)) + hundredths
	}
	pc := hundredths[:len(hundredths)-2] + "." + hundredths[len(hundredths)-2:] + "%"
	if neg {
		pc = "-" + pc
	}
	return pc
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func absLess(v, bound int64) bool { return v > -bound && v < bound }

// trades serves each code's latest trade as the close of its newest 1m bar.
func (h *infowayHandler) trades(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	codes := splitCodes(r.PathValue("codes"))
	call := h.admit(w, r, vendor.EndpointTrades, len(codes))
	if call == nil {
		return
	}
	specs, ok := h.resolve(w, call, r.PathValue("mkt"), codes, infoway.DefaultTradeMax, vendor.TF1m)
	if !ok {
		return
	}
	data := make([]infoway.Trade, 0, len(specs))
	for i, s := range specs {
		bars, err := h.core.Latest(call, s, 1)
		if err != nil || len(bars) == 0 {
			continue
		}
		data = append(data, infowayTrade(codes[i], bars[len(bars)-1], call.Now))
	}
	h.answer(w, call, infoway.RetOK, infoway.MsgSuccess, data)
}

// infowayTrade is the last trade of 1m bar b as seen at now: at its close,
// no later than the bar's last millisecond, with the bar's volume, and the
// bar's direction (1 up, 2 down, 0 flat).
func infowayTrade(code string, b vendor.Bar, now time.Time) infoway.Trade {
	at := now
	if last := b.Time.Add(time.Minute - time.Millisecond); at.After(last) {
		at = last
	}
	td := 0
	switch b.Close.Cmp(b.Open) {
	case 1:
		td = 1
	case -1:
		td = 2
	}
	vw := new(big.Int).Mul(b.Close.Coefficient(), b.Volume.Coefficient())
	return infoway.Trade{
		S: code, T: infoway.Int(at.UnixMilli()), P: infoway.Str(b.Close.String()), V: infoway.Str(b.Volume.String()),
		VW: infoway.Str(decimal.NewFromBig(vw, b.Close.Scale()+b.Volume.Scale()).String()), TD: td,
	}
}
