// Package xdtick is the XdTick client. XdTick is an AllTick-style vendor for
// FX, metals, crypto, energy and commodities (no stocks): history from GET
// /tick-api/kline, the latest two bars of many series from POST
// /tick-api/batch-kline, latest trades from GET /tick-api/trade-tick, the key
// in the X-API-KEY header. /tick-api/kline documents no end time, so only
// the latest bars of a series can be fetched; klineType "1m" is one month.
package xdtick

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// DefaultBaseURL is XdTick's documented host (its code samples also use
// api.xdtick.cc).
const DefaultBaseURL = "https://api.xdtick.com"

// Config sets up a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL; "" means DefaultBaseURL.
	BaseURL string
	// Token is the API key (required); it goes only into the X-API-KEY header.
	Token secret.Value
	// HTTPClient; nil means transport.NewHTTPClient(0).
	HTTPClient *http.Client
	// Gate every request passes; nil means vendor.Open{}.
	Gate vendor.Gate
	// BatchMax caps groups per /tick-api/batch-kline (the plan's); 0 or more
	// than BatchMax means BatchMax.
	BatchMax int
	// TradeMax caps codes per /tick-api/trade-tick (the plan's); 0 means TradeMax.
	TradeMax int
	// Logger; nil means no logs.
	Logger *zap.Logger
}

// Client talks to XdTick. Safe for concurrent use.
type Client struct {
	base     string
	token    secret.Value
	caller   *transport.Caller
	batchMax int
	tradeMax int
	log      *zap.Logger
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Token.IsZero() {
		return nil, errors.New("new xdtick client: Token is required")
	}
	base, err := transport.BaseURL(cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("new xdtick client: %w", err)
	}
	return &Client{base: base, token: cfg.Token,
		batchMax: transport.Cap(cfg.BatchMax, BatchMax),
		tradeMax: transport.Cap(cfg.TradeMax, TradeMax),
		log:      cmp.Or(cfg.Logger, zap.NewNop()),
		caller: transport.New(transport.Config{Vendor: vendor.XdTick, HTTPClient: cfg.HTTPClient, Gate: cfg.Gate,
			Secrets: []string{cfg.Token.Reveal()}}),
	}, nil
}

// Name returns vendor.XdTick.
func (c *Client) Name() string { return vendor.XdTick }

// Capabilities says what XdTick serves for symbol; a code XdTick cannot have
// is an ErrInvalidSymbol error with examples.
func (c *Client) Capabilities(symbol string) (vendor.Capabilities, error) {
	return capabilities(symbol, c.batchMax)
}

// request builds a request with the key header; body may be nil.
func (c *Client) request(method, path string, q url.Values, body []byte) func(context.Context) (*http.Request, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return func(ctx context.Context) (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set(HeaderKey, c.token.Reveal())
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, nil
	}
}

// History returns up to limit of the latest bars, ascending and
// deduplicated. XdTick takes no end time: a non-zero end is ErrUnsupported.
func (c *Client) History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error) {
	caps, err := c.Capabilities(symbol)
	if err != nil {
		return vendor.Page{}, err
	}
	if err := caps.CheckTimeframe(symbol, tf); err != nil {
		return vendor.Page{}, err
	}
	if !end.IsZero() {
		return vendor.Page{}, fmt.Errorf("%w: XdTick serves %s only from the latest bar back (no end time)", vendor.ErrUnsupported, symbol)
	}
	limit = min(max(limit, 1), PageSize)
	kt := KlineTypes[tf]
	q := url.Values{"code": {symbol}, "klineType": {kt}, "size": {strconv.Itoa(limit)}}
	series := vendor.Series{Vendor: vendor.XdTick, Symbol: symbol, Timeframe: tf}
	page := vendor.Page{Requested: limit}
	err = c.caller.Do(ctx, vendor.EndpointHistory, 1, c.request(http.MethodGet, PathKline, q, nil), func(r transport.Response) error {
		data, err := envelope(r, vendor.EndpointHistory)
		if err != nil {
			return err
		}
		kd, bars, rejects, err := decodeKline(series, data)
		if err != nil {
			return protocol(vendor.EndpointHistory, "kline data", err)
		}
		// A month answered for a minute (or the reverse) must never be stored.
		if (kd.Code != "" && kd.Code != symbol) || (kd.KlineType != "" && kd.KlineType != kt) {
			return protocol(vendor.EndpointHistory, "kline data",
				fmt.Errorf("answer for %q %q, asked for %q %q", kd.Code, kd.KlineType, symbol, kt))
		}
		page.Bars, page.Rejects = bars, rejects
		return nil
	})
	if err != nil {
		return vendor.Page{}, fmt.Errorf("fetch xdtick history page: %w", err)
	}
	return page, nil
}

// fastBar is a Bar as the one-pass decoding reads it: startTime, which
// syncd does not use, is checked to be a string but not kept (the outer
// field hides Bar's), so a page costs no string per bar.
type fastBar struct {
	Bar
	StartTime unusedString `json:"startTime"`
}

// unusedString accepts what a string field accepts (a string or null)
// without keeping it.
type unusedString struct{}

// UnmarshalJSON implements json.Unmarshaler.
func (unusedString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '"' && string(b) != "null" {
		return fmt.Errorf("startTime %.20s is not a string", b)
	}
	return nil
}

// decodeKline decodes /tick-api/kline's data: the whole bar list in one
// pass, and only when a bar spoils that, element by element (decodeBars), so
// the bad bar becomes a reject and the rest are kept. Both ways give the
// same result; the returned KlineData has no KlineList.
func decodeKline(s vendor.Series, data []byte) (KlineData, []vendor.Bar, []vendor.Reject, error) {
	var fast struct {
		Code      string    `json:"code"`
		KlineType string    `json:"klineType"`
		KlineList []fastBar `json:"klineList"`
	}
	if json.Unmarshal(data, &fast) == nil && complete(fast.KlineList) {
		return KlineData{Code: fast.Code, KlineType: fast.KlineType}, toBars(fast.KlineList), nil, nil
	}
	var kd KlineData
	if err := json.Unmarshal(data, &kd); err != nil {
		return KlineData{}, nil, nil, err
	}
	bars, rejects := decodeBars(s, kd.KlineList)
	kd.KlineList = nil
	return kd, bars, rejects, nil
}

// complete reports whether every bar decoded in one pass would pass
// decodeBars too.
func complete(bars []fastBar) bool {
	for _, b := range bars {
		if b.missing() != "" {
			return false
		}
	}
	return true
}

// toBars converts bars that complete accepted, ascending and deduplicated.
// XdTick sends bars newest first: strictly descending ones are filled in
// from the end, so SortBars gets them ascending and only has to check (with
// no two times equal, the order SortBars' dedup depends on cannot differ).
func toBars(bars []fastBar) []vendor.Bar {
	out := make([]vendor.Bar, len(bars))
	desc := true
	for i := 1; i < len(bars) && desc; i++ {
		desc = bars[i].Timestamp < bars[i-1].Timestamp
	}
	for i, b := range bars {
		if desc {
			i = len(bars) - 1 - i
		}
		out[i] = b.ToBar()
	}
	return vendor.SortBars(out)
}

// decodeBars decodes each element on its own, so one bad bar becomes a
// reject and the rest are kept; the result is ascending with duplicates
// removed (the last of equal times in the vendor's order is kept).
func decodeBars(s vendor.Series, raw []json.RawMessage) ([]vendor.Bar, []vendor.Reject) {
	bars := make([]vendor.Bar, 0, len(raw))
	var rejects []vendor.Reject
	for _, el := range raw {
		var b Bar
		if err := json.Unmarshal(el, &b); err != nil {
			rejects = append(rejects, vendor.Reject{Series: s, Raw: el, Reason: err.Error()})
			continue
		}
		if f := b.missing(); f != "" {
			rejects = append(rejects, vendor.Reject{Series: s, Raw: el, Reason: "missing " + f})
			continue
		}
		bars = append(bars, b.ToBar())
	}
	return vendor.SortBars(bars), rejects
}

type groupKey struct{ code, klineType string }

// latestRun gathers one Latest call's answer.
type latestRun struct {
	out vendor.Latest
	ok  int // requests that succeeded
}

// Latest fetches the latest two bars of every series, at most the plan's
// BatchMax groups per request. A request refused for an invalid or
// unauthorised code is split in halves until the code is alone, so k bad
// codes among n cost O(k·log n) requests and never stall the others. Every
// requested series ends up in Bars, Invalid or Missing.
//
// A rate-limit, quota or auth error (or ctx ending) stops the call: it
// returns what was gathered, the rest in Missing, and the error. Other
// request failures leave their series Missing and are logged; the first is
// returned only when no request succeeded.
func (c *Client) Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error) {
	run := &latestRun{out: vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}, Invalid: map[vendor.Series]error{}}}
	var valid []vendor.Series
	seen := map[vendor.Series]bool{}
	for _, s := range series {
		if seen[s] {
			continue
		}
		seen[s] = true
		switch caps, err := c.Capabilities(s.Symbol); {
		case s.Vendor != vendor.XdTick:
			run.out.Invalid[s] = fmt.Errorf("%w: series %s is not an xdtick series", vendor.ErrInvalidSymbol, s)
		case err != nil:
			run.out.Invalid[s] = err
		case !caps.Supports(s.Timeframe):
			run.out.Invalid[s] = caps.CheckTimeframe(s.Symbol, s.Timeframe)
		default:
			valid = append(valid, s)
		}
	}
	var firstErr error
	for chunk := range slices.Chunk(valid, c.batchMax) {
		err := c.isolate(ctx, run, chunk)
		if err == nil {
			continue
		}
		if isolate.Fatal(ctx, err) {
			run.out.MarkMissing(valid)
			return run.out, fmt.Errorf("fetch xdtick latest bars: %w", err)
		}
		c.log.Warn("latest bars request failed", zap.Int("groups", len(chunk)), zap.Error(err))
		firstErr = cmp.Or(firstErr, err)
	}
	run.out.MarkMissing(valid)
	if firstErr != nil && run.ok == 0 {
		return run.out, fmt.Errorf("fetch xdtick latest bars: %w", firstErr)
	}
	return run.out, nil
}

// isolate fetches chunk, bisecting it while XdTick refuses it for a bad code.
func (c *Client) isolate(ctx context.Context, run *latestRun, chunk []vendor.Series) error {
	return isolate.Search[vendor.Series]{
		Send: func(ctx context.Context, part []vendor.Series) error { return c.latestOnce(ctx, run, part) },
		Bad:  run.out.MarkInvalid,
	}.Run(ctx, chunk)
}

// latestOnce sends one /tick-api/batch-kline for chunk.
func (c *Client) latestOnce(ctx context.Context, run *latestRun, chunk []vendor.Series) error {
	items := make([]BatchItem, len(chunk))
	want := make(map[groupKey]vendor.Series, len(chunk))
	for i, s := range chunk {
		items[i] = BatchItem{Code: s.Symbol, KlineType: KlineTypes[s.Timeframe], Size: 2}
		want[groupKey{s.Symbol, items[i].KlineType}] = s
	}
	body, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("encode batch query: %w", err)
	}
	return c.caller.Do(ctx, vendor.EndpointLatest, len(chunk), c.request(http.MethodPost, PathBatch, nil, body), func(r transport.Response) error {
		data, err := envelope(r, vendor.EndpointLatest)
		if err != nil {
			return err
		}
		if err := run.collect(data, want); err != nil {
			return err
		}
		run.ok++
		return nil
	})
}

// collect files /tick-api/batch-kline's groups into the run. It decodes all
// groups in one pass and only when a bar or an unrequested group spoils
// that, group by group and bar by bar, so what is bad becomes a reject and
// the rest are kept.
func (run *latestRun) collect(data []byte, want map[groupKey]vendor.Series) error {
	var fast struct {
		KlineList []fastGroup `json:"klineList"`
	}
	if json.Unmarshal(data, &fast) == nil && !slices.ContainsFunc(fast.KlineList, func(g fastGroup) bool {
		_, ok := want[groupKey{g.Code, g.KlineType}]
		return !ok || !complete(g.KlineData)
	}) {
		for _, g := range fast.KlineList {
			if bars := toBars(g.KlineData); len(bars) > 0 {
				run.out.Bars[want[groupKey{g.Code, g.KlineType}]] = bars
			}
		}
		return nil
	}
	var bd BatchData
	if err := json.Unmarshal(data, &bd); err != nil {
		return protocol(vendor.EndpointLatest, "batch data", err)
	}
	for _, g := range bd.KlineList {
		s, ok := want[groupKey{g.Code, g.KlineType}]
		if !ok {
			raw, err := json.Marshal(g)
			if err != nil {
				return protocol(vendor.EndpointLatest, "batch group", err)
			}
			run.out.Rejects = append(run.out.Rejects, vendor.Reject{Series: vendor.Series{Vendor: vendor.XdTick, Symbol: g.Code},
				Raw: raw, Reason: "answer for a series that was not requested"})
			continue
		}
		bars, rejects := decodeBars(s, g.KlineData)
		run.out.Rejects = append(run.out.Rejects, rejects...)
		if len(bars) > 0 {
			run.out.Bars[s] = bars
		}
	}
	return nil
}

// fastGroup is a BatchGroup with the bars decoded in the same pass.
type fastGroup struct {
	Code      string    `json:"code"`
	KlineType string    `json:"klineType"`
	KlineData []fastBar `json:"klineData"`
}

// Trades fetches the latest trade of each symbol, at most TradeMax codes per
// request. A code XdTick cannot have fails the call before anything is sent.
func (c *Client) Trades(ctx context.Context, symbols []string) ([]vendor.Trade, error) {
	for _, s := range symbols {
		if err := CheckCode(s); err != nil {
			return nil, err
		}
	}
	var out []vendor.Trade
	for chunk := range slices.Chunk(symbols, c.tradeMax) {
		// Codes are letters and digits (CheckCode), so the doc's literal
		// ?codes=BTCUSD,ETHUSD needs no escaping.
		path := PathTrades + "?codes=" + strings.Join(chunk, ",")
		err := c.caller.Do(ctx, vendor.EndpointTrades, len(chunk), c.request(http.MethodGet, path, nil, nil), func(r transport.Response) error {
			data, err := envelope(r, vendor.EndpointTrades)
			if err != nil {
				return err
			}
			var td TradeData
			if err := json.Unmarshal(data, &td); err != nil {
				return protocol(vendor.EndpointTrades, "trade data", err)
			}
			for _, el := range td.TickList {
				t, reason := decodeTick(el)
				if reason != "" {
					c.log.Warn("trade rejected", zap.String("reason", reason))
					continue
				}
				out = append(out, t)
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("fetch xdtick trades: %w", err)
		}
	}
	return out, nil
}

// decodeTick decodes one tickList element, or says why it cannot.
func decodeTick(el json.RawMessage) (vendor.Trade, string) {
	var t Tick
	if err := json.Unmarshal(el, &t); err != nil {
		return vendor.Trade{}, err.Error()
	}
	switch {
	case t.Code == "":
		return vendor.Trade{}, "missing code"
	case t.Timestamp == 0:
		return vendor.Trade{}, "missing timestamp"
	case !t.Price.Valid:
		return vendor.Trade{}, "missing price"
	case !t.Volume.Valid:
		return vendor.Trade{}, "missing volume"
	}
	turnover := t.Turnover.Null
	if !turnover.Valid {
		turnover = t.QuoteVolume.Null
	}
	return vendor.Trade{Symbol: t.Code, Time: time.Unix(int64(t.Timestamp), 0).UTC(), Price: t.Price.Decimal,
		Volume: t.Volume.Decimal, Turnover: turnover}, ""
}
