// Package qos is syncd's client for the QOS (Quote Ocean System) REST API:
// history pages from POST /history (or /kline for the latest page), latest
// bars from POST /kline, latest trades from POST /trade. Every call is a POST
// with a JSON body and the key in the "key" header, never in the URL.
//
// What the engines can rely on (see Capabilities):
//   - a history request returns at most 1000 bars of one code, and by default
//     QOS keeps only the latest 1000 bars per type (Depth 1000);
//   - the end "e" is inclusive: the bar containing e comes back;
//   - a latest request carries several kline_reqs, each "MARKET:SYM,SYM…" at
//     one kt, so any series may share a request (BatchKey ""), up to MaxSeries
//     series or the plan's BatchMax (10 on the default plan);
//   - the answer's outer data order does not follow the request: it is keyed
//     by code (HK codes compared without leading zeros) and by each bar's kt.
//
// Errors: success is msg == "OK"; any other msg is an error text, and QOS
// documents neither the texts nor the HTTP statuses that go with them. The
// text is classified by keywords (see msgKind), falling back to the HTTP
// status, then to ErrProtocol. This is a best guess until real error answers
// are seen.
package qos

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/isolate"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// Config sets up a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL is the REST host; "" means DefaultBaseURL.
	BaseURL string
	// Token is the API key, sent in the "key" header (required).
	Token secret.Value
	// HTTPClient sends requests; nil means transport.NewHTTPClient(0).
	HTTPClient *http.Client
	// Gate is passed before every request; nil means vendor.Open{}.
	Gate vendor.Gate
	// BatchMax is the plan's cap on series per latest request (10 on the
	// default plan); 0 means MaxSeries, and larger values are capped to it.
	BatchMax int
	// TradeMax caps codes per trades request; 0 means DefaultTradeMax, and
	// larger values are capped to it.
	TradeMax int
	// Logger receives debug and warning logs; nil means a no-op logger.
	Logger *zap.Logger
}

// Client talks to QOS. It is safe for concurrent use.
type Client struct {
	base     string
	token    secret.Value
	caller   *transport.Caller
	batchMax int
	tradeMax int
	log      *zap.Logger
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Token.IsZero() {
		return nil, errors.New("new qos client: token is required")
	}
	base, err := transport.BaseURL(cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("new qos client: %w", err)
	}
	if cfg.BatchMax < 0 || cfg.TradeMax < 0 {
		return nil, fmt.Errorf("new qos client: negative BatchMax %d or TradeMax %d", cfg.BatchMax, cfg.TradeMax)
	}
	return &Client{
		base:  base,
		token: cfg.Token,
		caller: transport.New(transport.Config{
			Vendor: vendor.QOS, HTTPClient: cfg.HTTPClient, Gate: cfg.Gate, Secrets: []string{cfg.Token.Reveal()},
		}),
		batchMax: transport.Cap(cfg.BatchMax, MaxSeries),
		tradeMax: transport.Cap(cfg.TradeMax, DefaultTradeMax),
		log:      cmp.Or(cfg.Logger, zap.NewNop()).Named("qos"),
	}, nil
}

// Name returns vendor.QOS.
func (c *Client) Name() string { return vendor.QOS }

// Capabilities describes what QOS serves for symbol. The error wraps
// vendor.ErrInvalidSymbol for a malformed code.
func (c *Client) Capabilities(symbol string) (vendor.Capabilities, error) {
	code, err := ParseCode(symbol)
	if err != nil {
		return vendor.Capabilities{}, err
	}
	return vendor.Capabilities{
		Vendor:            vendor.QOS,
		Market:            code.Market,
		PageSize:          MaxCount,
		PagesBack:         true,
		EndBound:          vendor.EndInclusive,
		Depth:             MaxCount,
		Timeframes:        slices.Clone(vendor.Timeframes),
		BatchMax:          MaxSeries,
		BatchOneTimeframe: false,
		BatchKey:          "",
	}, nil
}

// History returns up to limit bars of symbol at or before end, ascending and
// deduplicated. A zero end asks /kline for the latest bars (the in-progress
// one included); otherwise /history with e = end in Unix seconds, which QOS
// treats as inclusive. Page.Requested is the co sent: limit clamped to
// 1..1000 (≤0 means 1000).
func (c *Client) History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error) {
	if _, err := ParseCode(symbol); err != nil {
		return vendor.Page{}, err
	}
	kt, ok := KlineType(tf)
	if !ok {
		return vendor.Page{}, fmt.Errorf("%w: qos has no timeframe %q", vendor.ErrUnsupported, tf)
	}
	n := limit
	if n <= 0 || n > MaxCount {
		n = MaxCount
	}
	req := KlineReq{C: symbol, Co: n, A: AdjustNone, Kt: kt}
	path := PathKline
	if !end.IsZero() {
		if end.Unix() < minSeconds {
			return vendor.Page{}, fmt.Errorf("%w: end %s is before 1970", vendor.ErrBeyondRange, end.UTC().Format(time.RFC3339))
		}
		req.E = end.Unix()
		path = PathHistory
	}
	series := vendor.Series{Vendor: vendor.QOS, Symbol: symbol, Timeframe: tf}
	page := vendor.Page{Requested: n}
	body := KlineRequest{KlineReqs: []KlineReq{req}}
	err := c.caller.Do(ctx, vendor.EndpointHistory, 1, c.post(path, body), func(r transport.Response) error {
		env, err := decodeEnvelope(r)
		if err != nil {
			return err
		}
		if fast, ok := decodeKlineFast(env.Data); ok {
			if bars, ok, err := historyFast(fast, symbol, kt); ok || err != nil {
				page.Bars = bars
				return err
			}
		}
		list, bad, err := decodeKlineData(env.Data)
		if err != nil {
			return err
		}
		for _, b := range bad {
			page.Rejects = append(page.Rejects, vendor.Reject{Series: series, Raw: b.raw, Reason: b.reason})
		}
		var bars []vendor.Bar
		for _, s := range list {
			if err := sameSymbol(*s.C, symbol); err != nil {
				return err
			}
			for _, raw := range s.K {
				wb, reason := toBar(raw)
				switch {
				case reason != "":
				case wb.code != "" && !SameCode(wb.code, symbol):
					reason = fmt.Sprintf("bar of %q in the series of %q", wb.code, symbol)
				case wb.kt != 0 && wb.kt != kt:
					reason = fmt.Sprintf("bar of kt %d, asked for %d", wb.kt, kt)
				}
				if reason != "" {
					page.Rejects = append(page.Rejects, vendor.Reject{Series: series, Raw: slices.Clone(raw), Reason: reason})
					continue
				}
				bars = append(bars, wb.bar)
			}
		}
		page.Bars = vendor.SortBars(bars)
		return nil
	})
	if err != nil {
		return vendor.Page{}, fmt.Errorf("fetch qos history of %s %s: %w", symbol, tf, err)
	}
	if !end.IsZero() {
		cut := len(page.Bars)
		for cut > 0 && page.Bars[cut-1].Time.After(end) {
			cut--
		}
		if cut < len(page.Bars) {
			c.log.Debug("dropped bars after the requested end", zap.String("symbol", symbol), zap.Int("bars", len(page.Bars)-cut))
			page.Bars = page.Bars[:cut]
		}
	}
	if len(page.Bars) > n {
		page.Bars = page.Bars[len(page.Bars)-n:]
	}
	return page, nil
}

// latestRun collects one Latest call's answers.
type latestRun struct {
	out vendor.Latest
	ok  int // requests that succeeded
}

// Latest fetches the latest 2 bars of every series, packing up to BatchMax
// series per request as kline_reqs of one market prefix and one kt each.
// Every requested series ends up in Bars, Missing (did not come back) or
// Invalid (a malformed code, an unserved timeframe, or a code QOS refused: a
// refusal that names the code marks it at once, one that does not is bisected
// to find it).
//
// A rate-limit, quota or auth error (or ctx ending) stops the call: it returns
// what was gathered, the rest in Missing, and the error. Other request
// failures leave their series Missing and are logged; the first is returned
// only when no request succeeded.
func (c *Client) Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error) {
	run := &latestRun{out: vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}, Invalid: map[vendor.Series]error{}}}
	type groupKey struct {
		mkt string
		tf  vendor.Timeframe
	}
	groups := map[groupKey][]vendor.Series{}
	var order []groupKey
	seen := map[vendor.Series]bool{}
	for _, s := range series {
		if seen[s] {
			continue
		}
		seen[s] = true
		if s.Vendor != vendor.QOS {
			run.out.Invalid[s] = fmt.Errorf("%w: series %s is not a qos series", vendor.ErrInvalidSymbol, s)
			continue
		}
		code, err := ParseCode(s.Symbol)
		if err != nil {
			run.out.Invalid[s] = err
			continue
		}
		if _, ok := KlineType(s.Timeframe); !ok {
			run.out.Invalid[s] = fmt.Errorf("%w: qos has no timeframe %q", vendor.ErrUnsupported, s.Timeframe)
			continue
		}
		k := groupKey{code.Mkt, s.Timeframe}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	// Series of one market and timeframe sit together, so that each request
	// needs as few kline_reqs as possible.
	valid := make([]vendor.Series, 0, len(series))
	for _, k := range order {
		valid = append(valid, groups[k]...)
	}
	var firstErr error
	for chunk := range slices.Chunk(valid, c.batchMax) {
		err := c.isolate(ctx, run, chunk)
		if err == nil {
			continue
		}
		if isolate.Fatal(ctx, err) {
			run.out.MarkMissing(valid)
			return run.out, fmt.Errorf("fetch qos latest bars: %w", err)
		}
		c.log.Warn("latest bars request failed", zap.Int("series", len(chunk)), zap.Error(err))
		firstErr = cmp.Or(firstErr, err)
	}
	run.out.MarkMissing(valid)
	if firstErr != nil && run.ok == 0 {
		return run.out, fmt.Errorf("fetch qos latest bars: %w", firstErr)
	}
	return run.out, nil
}

// isolate fetches chunk. When QOS refuses it as an unknown code, the codes the
// error text names are marked invalid and the rest retried; when it names
// none, the chunk is bisected until the bad codes are alone.
func (c *Client) isolate(ctx context.Context, run *latestRun, chunk []vendor.Series) error {
	return isolate.Search[vendor.Series]{
		Send:  func(ctx context.Context, part []vendor.Series) error { return c.latestOnce(ctx, run, part) },
		Bad:   run.out.MarkInvalid,
		Named: func(err error, part []vendor.Series) []vendor.Series { return named(err, part, seriesSymbol) },
	}.Run(ctx, chunk)
}

func seriesSymbol(s vendor.Series) string { return s.Symbol }

// named returns the items whose codes a refusal's message names.
func named[T any](err error, items []T, code func(T) string) []T {
	var ae *vendor.APIError
	if !errors.As(err, &ae) {
		return nil
	}
	codes := make([]string, len(items))
	for i, it := range items {
		codes[i] = code(it)
	}
	hit := namedCodes(ae.Message, codes)
	var out []T
	for i, it := range items {
		if slices.Contains(hit, codes[i]) {
			out = append(out, it)
		}
	}
	return out
}

// seriesKey identifies a series within one answer: the normalised code and kt.
type seriesKey struct {
	code string
	kt   int
}

// klineReqs packs chunk into kline_reqs of one market prefix and kt each,
// in first-seen order.
func klineReqs(chunk []vendor.Series, count int) []KlineReq {
	type key struct {
		mkt string
		kt  int
	}
	idx := map[key]int{}
	var reqs []KlineReq
	for _, s := range chunk {
		code, _ := ParseCode(s.Symbol)
		kt, _ := KlineType(s.Timeframe)
		k := key{code.Mkt, kt}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(reqs)
			reqs = append(reqs, KlineReq{C: s.Symbol, Co: count, A: AdjustNone, Kt: kt})
			continue
		}
		reqs[i].C += "," + code.Sym
	}
	return reqs
}

// latestOnce sends one /kline request for chunk.
func (c *Client) latestOnce(ctx context.Context, run *latestRun, chunk []vendor.Series) error {
	body := KlineRequest{KlineReqs: klineReqs(chunk, LatestCount)}
	want := make(map[seriesKey]vendor.Series, len(chunk))
	ktsOf := map[string][]int{} // normalised code → kts asked in this request
	for _, s := range chunk {
		kt, _ := KlineType(s.Timeframe)
		code := normCode(s.Symbol)
		want[seriesKey{code, kt}] = s
		ktsOf[code] = append(ktsOf[code], kt)
	}
	return c.caller.Do(ctx, vendor.EndpointLatest, len(chunk), c.post(PathKline, body), func(r transport.Response) error {
		env, err := decodeEnvelope(r)
		if err != nil {
			return err
		}
		if fast, ok := decodeKlineFast(env.Data); ok && run.latestFast(fast, ktsOf, want) {
			return nil
		}
		list, bad, err := decodeKlineData(env.Data)
		if err != nil {
			return err
		}
		for _, b := range bad {
			run.out.Rejects = append(run.out.Rejects, vendor.Reject{Series: vendor.Series{Vendor: vendor.QOS}, Raw: b.raw, Reason: b.reason})
		}
		got := map[vendor.Series][]vendor.Bar{}
		var gotOrder []vendor.Series
		for _, e := range list {
			code := normCode(*e.C)
			kts, requested := ktsOf[code]
			if !requested {
				run.out.Rejects = append(run.out.Rejects, vendor.Reject{
					Series: vendor.Series{Vendor: vendor.QOS, Symbol: *e.C}, Raw: slices.Clone(e.raw),
					Reason: "answer for a code that was not requested",
				})
				continue
			}
			for _, raw := range e.K {
				s, bar, reason := placeBar(raw, code, kts, want)
				if reason != "" {
					run.out.Rejects = append(run.out.Rejects, vendor.Reject{Series: s, Raw: slices.Clone(raw), Reason: reason})
					continue
				}
				if _, ok := got[s]; !ok {
					gotOrder = append(gotOrder, s)
				}
				got[s] = append(got[s], bar)
			}
		}
		for _, s := range gotOrder {
			run.out.Bars[s] = vendor.SortBars(got[s])
		}
		run.ok++
		return nil
	})
}

// sameSymbol checks that a history answer's code is the one asked for.
func sameSymbol(got, symbol string) error {
	if !SameCode(got, symbol) {
		return apiError(vendor.ErrProtocol, fmt.Sprintf("answer is for %q, asked for %q", got, symbol))
	}
	return nil
}

// historyFast turns a one-pass decoded history answer into ascending bars,
// with the error the element-wise path would return. It reports false when
// a bar would be a reject there (another code or kt).
func historyFast(list []fastSeries, symbol string, kt int) ([]vendor.Bar, bool, error) {
	n := 0
	for _, s := range list {
		if err := sameSymbol(s.C, symbol); err != nil {
			return nil, false, err
		}
		for _, w := range s.K {
			if !w.fromSeries(s.C) || (w.Kt != 0 && int(w.Kt) != kt) {
				return nil, false, nil
			}
		}
		n += len(s.K)
	}
	bars := make([]vendor.Bar, 0, n)
	for _, s := range list {
		for _, w := range s.K {
			b, _ := w.bar()
			bars = append(bars, b)
		}
	}
	return vendor.SortBars(bars), true, nil
}

// latestFast files a one-pass decoded latest answer into the run as the
// element-wise path would. It files nothing and reports false when an
// element or bar would be a reject there.
func (run *latestRun) latestFast(list []fastSeries, ktsOf map[string][]int, want map[seriesKey]vendor.Series) bool {
	type placed struct {
		s vendor.Series
		w fastBar
	}
	var all []placed
	for _, e := range list {
		code := normCode(e.C)
		kts, requested := ktsOf[code]
		if !requested {
			return false
		}
		for _, w := range e.K {
			kt := int(w.Kt)
			if kt == 0 {
				if len(kts) > 1 {
					return false
				}
				kt = kts[0]
			}
			s, ok := want[seriesKey{code, kt}]
			if !ok || !w.fromSeries(e.C) {
				return false
			}
			all = append(all, placed{s, w})
		}
	}
	got := make(map[vendor.Series][]vendor.Bar, len(list))
	var order []vendor.Series
	for _, p := range all {
		if _, ok := got[p.s]; !ok {
			order = append(order, p.s)
		}
		b, _ := p.w.bar()
		got[p.s] = append(got[p.s], b)
	}
	for _, s := range order {
		run.out.Bars[s] = vendor.SortBars(got[s])
	}
	run.ok++
	return true
}

// placeBar decodes a bar of the answer element for code and finds its series
// by the bar's kt (or the only kt asked for code when the bar has none).
func placeBar(raw json.RawMessage, code string, kts []int, want map[seriesKey]vendor.Series) (vendor.Series, vendor.Bar, string) {
	s := want[seriesKey{code, kts[0]}]
	wb, reason := toBar(raw)
	if reason != "" {
		return s, vendor.Bar{}, reason
	}
	if wb.code != "" && normCode(wb.code) != code {
		return s, vendor.Bar{}, fmt.Sprintf("bar of %q in the series of %q", wb.code, s.Symbol)
	}
	kt := wb.kt
	if kt == 0 {
		if len(kts) > 1 {
			return s, vendor.Bar{}, "bar without kt, and the code was asked at several kts"
		}
		kt = kts[0]
	}
	found, ok := want[seriesKey{code, kt}]
	if !ok {
		return s, vendor.Bar{}, fmt.Sprintf("bar of kt %d, which was not asked for this code", kt)
	}
	return found, wb.bar, ""
}

// Trades returns the latest trade of each symbol, up to TradeMax codes per
// request (grouped per market prefix as QOS wants). Symbols that did not
// come back are absent. Malformed codes, and codes QOS refuses (named in the
// error text, or isolated by bisection), are named by a returned
// *vendor.InvalidSymbolsError; the trades of the other codes are returned
// along with it. A rate-limit, quota or auth error stops the call and is
// returned with the trades gathered so far.
func (c *Client) Trades(ctx context.Context, symbols []string) ([]vendor.Trade, error) {
	var invalid []string
	var firstInvalid error
	var valid []string
	seen := map[string]bool{}
	for _, sym := range symbols {
		if seen[sym] {
			continue
		}
		seen[sym] = true
		if _, err := ParseCode(sym); err != nil {
			invalid = append(invalid, sym)
			firstInvalid = cmp.Or(firstInvalid, err)
			continue
		}
		valid = append(valid, sym)
	}
	tr := &tradeRun{}
	var firstErr error
	for chunk := range slices.Chunk(valid, c.tradeMax) {
		err := c.tradesIsolate(ctx, tr, chunk)
		if err == nil {
			continue
		}
		if isolate.Fatal(ctx, err) {
			return tr.trades, fmt.Errorf("fetch qos trades: %w", err)
		}
		c.log.Warn("trades request failed", zap.Int("codes", len(chunk)), zap.Error(err))
		firstErr = cmp.Or(firstErr, err)
	}
	invalid = append(invalid, tr.invalid...)
	firstInvalid = cmp.Or(firstInvalid, tr.invalidErr)
	switch {
	case len(invalid) > 0:
		return tr.trades, &vendor.InvalidSymbolsError{Symbols: invalid, Err: firstInvalid}
	case firstErr != nil && tr.ok == 0:
		return tr.trades, fmt.Errorf("fetch qos trades: %w", firstErr)
	}
	return tr.trades, nil
}

type tradeRun struct {
	trades     []vendor.Trade
	invalid    []string
	invalidErr error
	ok         int
}

func (c *Client) tradesIsolate(ctx context.Context, tr *tradeRun, chunk []string) error {
	return isolate.Search[string]{
		Send:  func(ctx context.Context, part []string) error { return c.tradesOnce(ctx, tr, part) },
		Bad:   tr.bad,
		Named: func(err error, part []string) []string { return named(err, part, func(s string) string { return s }) },
	}.Run(ctx, chunk)
}

func (tr *tradeRun) bad(code string, err error) {
	tr.invalid = append(tr.invalid, code)
	tr.invalidErr = cmp.Or(tr.invalidErr, err)
}

// tradeCodes groups symbols per market prefix: ["US:AAPL,TSLA","HK:700"].
func tradeCodes(symbols []string) []string {
	idx := map[string]int{}
	var out []string
	for _, s := range symbols {
		code, _ := ParseCode(s)
		i, ok := idx[code.Mkt]
		if !ok {
			idx[code.Mkt] = len(out)
			out = append(out, s)
			continue
		}
		out[i] += "," + code.Sym
	}
	return out
}

func (c *Client) tradesOnce(ctx context.Context, tr *tradeRun, chunk []string) error {
	want := make(map[string]string, len(chunk))
	for _, s := range chunk {
		want[normCode(s)] = s
	}
	body := TradeRequest{Codes: tradeCodes(chunk), Count: 1}
	return c.caller.Do(ctx, vendor.EndpointTrades, len(chunk), c.post(PathTrade, body), func(r transport.Response) error {
		env, err := decodeEnvelope(r)
		if err != nil {
			return err
		}
		trades, bad, err := decodeTrades(env.Data)
		if err != nil {
			return err
		}
		for _, b := range bad {
			c.log.Warn("rejected trade", zap.String("reason", b))
		}
		latest := map[string]int{} // symbol → index in tr.trades, for count > 1 answers
		for _, t := range trades {
			sym, ok := want[normCode(t.Symbol)]
			if !ok {
				c.log.Debug("trade for a code that was not requested", zap.String("code", t.Symbol))
				continue
			}
			t.Symbol = sym
			if i, dup := latest[sym]; dup {
				if t.Time.After(tr.trades[i].Time) {
					tr.trades[i] = t
				}
				continue
			}
			latest[sym] = len(tr.trades)
			tr.trades = append(tr.trades, t)
		}
		tr.ok++
		return nil
	})
}

// post builds a POST of body to path with the key header.
func (c *Client) post(path string, body any) func(context.Context) (*http.Request, error) {
	target := c.base + path
	return func(ctx context.Context) (*http.Request, error) {
		payload, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s request: %w", path, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("new %s request: %w", path, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header[HeaderKey] = []string{c.token.Reveal()}
		return req, nil
	}
}
