// Package infoway is syncd's client for Infoway's REST API
// (https://data.infoway.io): history pages and latest bars from POST
// /{mkt}/v2/batch_kline, latest trades from GET /{mkt}/batch_trade/{codes}.
//
// What the engines can rely on (see Capabilities):
//   - one history request returns at most 500 bars of one code, newest first
//     on the wire, sorted ascending here;
//   - history pages back by "timestamp" (Unix seconds) for minute and hour bars
//     only: the English docs restrict it to them, the Chinese ones read the
//     other way; syncd takes the narrow reading, so History with a non-zero end
//     on 1d/1w/1M returns ErrUnsupported. Whether the end bar is included is not
//     documented (EndUnknown);
//   - a latest request carries up to 100 codes of one market prefix and one
//     timeframe and returns the latest 2 bars of each;
//   - klineNum above 500 is rejected by Infoway, so it is never sent.
package infoway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	// Token is the API key, sent in the apiKey header (required).
	Token secret.Value
	// HTTPClient sends requests; nil means transport.NewHTTPClient(0).
	HTTPClient *http.Client
	// Gate is passed before every request; nil means vendor.Open{}.
	Gate vendor.Gate
	// BatchMax is the plan's cap on codes per latest request; 0 means the
	// vendor's MaxCodes (100), and larger values are capped to it.
	BatchMax int
	// TradeMax caps codes per trades request; 0 means DefaultTradeMax, and
	// larger values are capped to it.
	TradeMax int
	// Logger receives debug and warning logs; nil means a no-op logger.
	Logger *zap.Logger
}

// Client talks to Infoway. It is safe for concurrent use.
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
		return nil, errors.New("new infoway client: token is required")
	}
	base, err := transport.BaseURL(cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("new infoway client: %w", err)
	}
	if cfg.BatchMax < 0 || cfg.TradeMax < 0 {
		return nil, fmt.Errorf("new infoway client: negative BatchMax %d or TradeMax %d", cfg.BatchMax, cfg.TradeMax)
	}
	return &Client{
		base:  base,
		token: cfg.Token,
		caller: transport.New(transport.Config{
			Vendor: vendor.Infoway, HTTPClient: cfg.HTTPClient, Gate: cfg.Gate, Secrets: []string{cfg.Token.Reveal()},
		}),
		batchMax: transport.Cap(cfg.BatchMax, MaxCodes),
		tradeMax: transport.Cap(cfg.TradeMax, DefaultTradeMax),
		log:      cmp.Or(cfg.Logger, zap.NewNop()).Named("infoway"),
	}, nil
}

// Name returns vendor.Infoway.
func (c *Client) Name() string { return vendor.Infoway }

// Capabilities describes what Infoway serves for symbol. The error wraps
// vendor.ErrInvalidSymbol for a malformed code (e.g. "700.HK", which must be
// "00700.HK").
func (c *Client) Capabilities(symbol string) (vendor.Capabilities, error) {
	code, err := ParseCode(symbol)
	if err != nil {
		return vendor.Capabilities{}, err
	}
	return vendor.Capabilities{
		Vendor:            vendor.Infoway,
		Market:            code.Market,
		PageSize:          MaxKlineNum,
		PagesBack:         true, // minute and hour bars; see History for 1d and longer
		EndBound:          vendor.EndUnknown,
		Depth:             0, // plan-dependent, no numbers published
		Timeframes:        slices.Clone(vendor.Timeframes),
		BatchMax:          MaxCodes,
		BatchOneTimeframe: true,
		BatchKey:          code.Mkt,
	}, nil
}

// History returns up to limit bars of symbol at or before end (zero end = the
// latest, in-progress bar included), ascending and deduplicated.
// Page.Requested is the klineNum sent: limit clamped to 1..500 (≤0 means 500).
// A non-zero end is honoured for minute and hour bars only; for 1d, 1w and 1M
// it returns ErrUnsupported (see the package doc). Bars after end, should
// Infoway send any, are dropped.
func (c *Client) History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error) {
	code, err := ParseCode(symbol)
	if err != nil {
		return vendor.Page{}, err
	}
	kt, ok := KlineType(tf)
	if !ok {
		return vendor.Page{}, fmt.Errorf("%w: infoway has no timeframe %q", vendor.ErrUnsupported, tf)
	}
	n := limit
	if n <= 0 || n > MaxKlineNum {
		n = MaxKlineNum
	}
	req := KlineRequest{KlineType: kt, KlineNum: n, Codes: symbol}
	if !end.IsZero() {
		if !TimestampBounded(tf) {
			return vendor.Page{}, fmt.Errorf("%w: infoway pages history back by timestamp only for minute and hour bars, not %s", vendor.ErrUnsupported, tf)
		}
		if end.Unix() < minSeconds {
			return vendor.Page{}, fmt.Errorf("%w: end %s is before 1970", vendor.ErrBeyondRange, end.UTC().Format(time.RFC3339))
		}
		req.Timestamp = end.Unix()
	}
	series := vendor.Series{Vendor: vendor.Infoway, Symbol: symbol, Timeframe: tf}
	page := vendor.Page{Requested: n}
	err = c.caller.Do(ctx, vendor.EndpointHistory, 1, c.postKline(code.Mkt, req), func(r transport.Response) error {
		env, err := decodeEnvelope(r)
		if err != nil {
			return err
		}
		if fast, ok := decodeKlineFast(env.Data); ok {
			var bars []vendor.Bar
			for _, s := range fast {
				if err := sameSymbol(s.S, symbol); err != nil {
					return err
				}
				bars = append(bars, s.Bars...)
			}
			page.Bars = vendor.SortBars(bars)
			return nil
		}
		list, bad, reasons, err := decodeKlineData(env.Data)
		if err != nil {
			return err
		}
		for i := range bad {
			page.Rejects = append(page.Rejects, vendor.Reject{Series: series, Raw: bad[i], Reason: reasons[i]})
		}
		var raws []json.RawMessage
		for _, s := range list {
			if err := sameSymbol(*s.S, symbol); err != nil {
				return err
			}
			raws = append(raws, s.RespList...)
		}
		bars, rejects := barsOf(series, raws)
		page.Rejects = append(page.Rejects, rejects...)
		page.Bars = bars
		return nil
	})
	if err != nil {
		return vendor.Page{}, fmt.Errorf("fetch infoway history of %s %s: %w", symbol, tf, err)
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

// sameSymbol checks that a history answer's code is the one asked for.
func sameSymbol(got, symbol string) error {
	if got != symbol && !strings.EqualFold(got, symbol) {
		return apiError(vendor.ErrProtocol, "", fmt.Sprintf("answer is for %q, asked for %q", got, symbol))
	}
	return nil
}

// batchKey is one latest request's market prefix and timeframe.
type batchKey struct {
	mkt string
	tf  vendor.Timeframe
}

// latestRun collects one Latest call's answers.
type latestRun struct {
	out vendor.Latest
	ok  int // requests that succeeded
}

// Latest fetches the latest 2 bars of every series, packing up to BatchMax
// codes of one market prefix and one timeframe per request. Every requested
// series ends up in Bars, Missing (did not come back) or Invalid (a malformed
// code, an unserved timeframe, or a code Infoway refused; a request refused
// without naming the code is bisected to find it).
//
// A rate-limit, quota or auth error (or ctx ending) stops the call: it returns
// what was gathered, the rest in Missing, and the error. Other request
// failures, ret 514 "no permission" among them (a market the plan lacks),
// leave their series Missing and are logged; the first is returned only when
// no request succeeded.
func (c *Client) Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error) {
	run := &latestRun{out: vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}, Invalid: map[vendor.Series]error{}}}
	groups := map[batchKey][]vendor.Series{}
	var order []batchKey
	var valid []vendor.Series
	seen := map[vendor.Series]bool{}
	for _, s := range series {
		if seen[s] {
			continue
		}
		seen[s] = true
		if s.Vendor != vendor.Infoway {
			run.out.Invalid[s] = fmt.Errorf("%w: series %s is not an infoway series", vendor.ErrInvalidSymbol, s)
			continue
		}
		code, err := ParseCode(s.Symbol)
		if err != nil {
			run.out.Invalid[s] = err
			continue
		}
		if _, ok := KlineType(s.Timeframe); !ok {
			run.out.Invalid[s] = fmt.Errorf("%w: infoway has no timeframe %q", vendor.ErrUnsupported, s.Timeframe)
			continue
		}
		k := batchKey{code.Mkt, s.Timeframe}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
		valid = append(valid, s)
	}
	var firstErr error
	for _, k := range order {
		for chunk := range slices.Chunk(groups[k], c.batchMax) {
			err := c.isolate(ctx, run, k, chunk)
			if err == nil {
				continue
			}
			if fatal(ctx, err) {
				run.out.MarkMissing(valid)
				return run.out, fmt.Errorf("fetch infoway latest bars: %w", err)
			}
			c.log.Warn("latest bars request failed", zap.String("market", k.mkt), zap.String("timeframe", string(k.tf)),
				zap.Int("codes", len(chunk)), zap.Error(err))
			firstErr = cmp.Or(firstErr, err)
		}
	}
	run.out.MarkMissing(valid)
	if firstErr != nil && run.ok == 0 {
		return run.out, fmt.Errorf("fetch infoway latest bars: %w", firstErr)
	}
	return run.out, nil
}

// fatal is isolate.Fatal except for ret 514 ("no permission"): it may concern
// one market the plan lacks, so the other markets' requests still go out.
func fatal(ctx context.Context, err error) bool {
	var ae *vendor.APIError
	if errors.As(err, &ae) && ae.Code == strconv.Itoa(RetNoPermission) {
		return ctx.Err() != nil
	}
	return isolate.Fatal(ctx, err)
}

// isolate fetches chunk. Infoway refuses a whole request as an unknown
// product without naming it, so the chunk is bisected to find the bad codes.
func (c *Client) isolate(ctx context.Context, run *latestRun, k batchKey, chunk []vendor.Series) error {
	return isolate.Search[vendor.Series]{
		Send:  func(ctx context.Context, part []vendor.Series) error { return c.latestOnce(ctx, run, k, part) },
		Bad:   run.out.MarkInvalid,
		Fatal: fatal,
	}.Run(ctx, chunk)
}

// latestOnce sends one latest request for chunk (all of k).
func (c *Client) latestOnce(ctx context.Context, run *latestRun, k batchKey, chunk []vendor.Series) error {
	kt, _ := KlineType(k.tf)
	codes := make([]string, len(chunk))
	bySymbol := make(map[string]vendor.Series, len(chunk))
	for i, s := range chunk {
		codes[i] = s.Symbol
		bySymbol[s.Symbol] = s
	}
	req := KlineRequest{KlineType: kt, KlineNum: LatestKlineNum, Codes: strings.Join(codes, ",")}
	return c.caller.Do(ctx, vendor.EndpointLatest, len(chunk), c.postKline(k.mkt, req), func(r transport.Response) error {
		env, err := decodeEnvelope(r)
		if err != nil {
			return err
		}
		if fast, ok := decodeKlineFast(env.Data); ok && run.collectFast(fast, bySymbol) {
			return nil
		}
		list, bad, reasons, err := decodeKlineData(env.Data)
		if err != nil {
			return err
		}
		for i := range bad {
			run.out.Rejects = append(run.out.Rejects, vendor.Reject{
				Series: vendor.Series{Vendor: vendor.Infoway, Timeframe: k.tf}, Raw: bad[i], Reason: reasons[i],
			})
		}
		raws := map[vendor.Series][]json.RawMessage{}
		var got []vendor.Series
		for _, e := range list {
			s, ok := lookup(bySymbol, *e.S)
			if !ok {
				run.out.Rejects = append(run.out.Rejects, vendor.Reject{
					Series: vendor.Series{Vendor: vendor.Infoway, Symbol: *e.S, Timeframe: k.tf},
					Raw:    slices.Clone(e.raw), Reason: "answer for a code that was not requested",
				})
				continue
			}
			if _, dup := raws[s]; !dup {
				got = append(got, s)
			}
			raws[s] = append(raws[s], e.RespList...)
		}
		for _, s := range got {
			bars, rejects := barsOf(s, raws[s])
			run.out.Rejects = append(run.out.Rejects, rejects...)
			if len(bars) > 0 {
				run.out.Bars[s] = bars
			}
		}
		run.ok++
		return nil
	})
}

// collectFast files a one-pass decoded answer into the run, as the
// element-wise path would. It files nothing and reports false when a code was
// not requested: the element-wise path makes that a reject.
func (run *latestRun) collectFast(list []fastSeries, bySymbol map[string]vendor.Series) bool {
	for _, e := range list {
		if _, ok := lookup(bySymbol, e.S); !ok {
			return false
		}
	}
	bars := make(map[vendor.Series][]vendor.Bar, len(list))
	got := make([]vendor.Series, 0, len(list))
	for _, e := range list {
		s, _ := lookup(bySymbol, e.S)
		if _, dup := bars[s]; !dup {
			got = append(got, s)
		}
		bars[s] = append(bars[s], e.Bars...)
	}
	for _, s := range got {
		if b := vendor.SortBars(bars[s]); len(b) > 0 {
			run.out.Bars[s] = b
		}
	}
	run.ok++
	return true
}

// lookup finds the requested series of an answer's code: exactly, else
// ignoring case.
func lookup(bySymbol map[string]vendor.Series, code string) (vendor.Series, bool) {
	if s, ok := bySymbol[code]; ok {
		return s, true
	}
	for sym, s := range bySymbol {
		if strings.EqualFold(sym, code) {
			return s, true
		}
	}
	return vendor.Series{}, false
}

// Trades returns the latest trade of each symbol, up to TradeMax codes of one
// market prefix per request. Symbols that did not come back are absent.
// Malformed codes, and codes Infoway refuses (isolated by bisection), are
// named by a returned *vendor.InvalidSymbolsError; the trades of the other
// codes are returned along with it. A rate-limit, quota or auth error stops
// the call and is returned with the trades gathered so far.
func (c *Client) Trades(ctx context.Context, symbols []string) ([]vendor.Trade, error) {
	var invalid []string
	var firstInvalid error
	groups := map[string][]string{}
	var order []string
	seen := map[string]bool{}
	for _, sym := range symbols {
		if seen[sym] {
			continue
		}
		seen[sym] = true
		code, err := ParseCode(sym)
		if err != nil {
			invalid = append(invalid, sym)
			firstInvalid = cmp.Or(firstInvalid, err)
			continue
		}
		if _, ok := groups[code.Mkt]; !ok {
			order = append(order, code.Mkt)
		}
		groups[code.Mkt] = append(groups[code.Mkt], sym)
	}
	tr := &tradeRun{}
	var firstErr error
	for _, mkt := range order {
		for chunk := range slices.Chunk(groups[mkt], c.tradeMax) {
			err := c.tradesIsolate(ctx, tr, mkt, chunk)
			if err == nil {
				continue
			}
			if fatal(ctx, err) {
				return tr.trades, fmt.Errorf("fetch infoway trades: %w", err)
			}
			c.log.Warn("trades request failed", zap.String("market", mkt), zap.Int("codes", len(chunk)), zap.Error(err))
			firstErr = cmp.Or(firstErr, err)
		}
	}
	invalid = append(invalid, tr.invalid...)
	firstInvalid = cmp.Or(firstInvalid, tr.invalidErr)
	switch {
	case len(invalid) > 0:
		return tr.trades, &vendor.InvalidSymbolsError{Symbols: invalid, Err: firstInvalid}
	case firstErr != nil && tr.ok == 0:
		return tr.trades, fmt.Errorf("fetch infoway trades: %w", firstErr)
	}
	return tr.trades, nil
}

type tradeRun struct {
	trades     []vendor.Trade
	invalid    []string
	invalidErr error
	ok         int
}

func (c *Client) tradesIsolate(ctx context.Context, tr *tradeRun, mkt string, chunk []string) error {
	return isolate.Search[string]{
		Send:  func(ctx context.Context, part []string) error { return c.tradesOnce(ctx, tr, mkt, part) },
		Bad:   tr.bad,
		Fatal: fatal,
	}.Run(ctx, chunk)
}

func (tr *tradeRun) bad(code string, err error) {
	tr.invalid = append(tr.invalid, code)
	tr.invalidErr = cmp.Or(tr.invalidErr, err)
}

func (c *Client) tradesOnce(ctx context.Context, tr *tradeRun, mkt string, chunk []string) error {
	escaped := make([]string, len(chunk))
	want := make(map[string]string, len(chunk))
	for i, s := range chunk {
		escaped[i] = url.PathEscape(s)
		want[strings.ToUpper(s)] = s
	}
	target := c.base + TradePath(mkt, strings.Join(escaped, ","))
	build := func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, fmt.Errorf("new trades request: %w", err)
		}
		req.Header[HeaderAPIKey] = []string{c.token.Reveal()}
		return req, nil
	}
	return c.caller.Do(ctx, vendor.EndpointTrades, len(chunk), build, func(r transport.Response) error {
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
		for _, t := range trades {
			sym, ok := want[strings.ToUpper(t.Symbol)]
			if !ok {
				c.log.Debug("trade for a code that was not requested", zap.String("code", t.Symbol))
				continue
			}
			t.Symbol = sym
			tr.trades = append(tr.trades, t)
		}
		tr.ok++
		return nil
	})
}

// postKline builds a POST of body to the K-line endpoint of mkt.
func (c *Client) postKline(mkt string, body KlineRequest) func(context.Context) (*http.Request, error) {
	target := c.base + KlinePath(mkt)
	return func(ctx context.Context) (*http.Request, error) {
		payload, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode kline request: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("new kline request: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header[HeaderAPIKey] = []string{c.token.Reveal()}
		return req, nil
	}
}
