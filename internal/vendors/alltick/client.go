// Package alltick is the AllTick client: history pages from GET /kline, the
// latest two bars of many series from POST /batch-kline, latest trades from
// GET /trade-tick. Stock codes and other codes live on different endpoint
// families; stock codes cannot page back in time.
package alltick

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// DefaultBaseURL is AllTick's current public host (quote.alltick.io and
// quote.tradeswitcher.com are older ones).
const DefaultBaseURL = "https://quote.alltick.co"

// DefaultTradeMax is the most codes syncd puts in one /trade-tick query, to
// keep its URL short.
const DefaultTradeMax = 50

// Config sets up a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL; "" means DefaultBaseURL.
	BaseURL string
	// Token is the API key (required); it goes only into the token= query.
	Token secret.Value
	// HTTPClient; nil means transport.NewHTTPClient(0).
	HTTPClient *http.Client
	// Gate every request passes; nil means vendor.Open{}.
	Gate vendor.Gate
	// BatchMax caps groups per /batch-kline (the plan's); 0 means BatchMax.
	BatchMax int
	// TradeMax caps codes per /trade-tick; 0 means DefaultTradeMax.
	TradeMax int
	Logger   *zap.Logger
}

// Client talks to AllTick. Safe for concurrent use.
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
		return nil, errors.New("new alltick client: Token is required")
	}
	base, err := transport.BaseURL(cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("new alltick client: %w", err)
	}
	return &Client{base: base, token: cfg.Token,
		batchMax: transport.Cap(cfg.BatchMax, BatchMax),
		tradeMax: transport.Cap(cfg.TradeMax, DefaultTradeMax),
		log:      cmp.Or(cfg.Logger, zap.NewNop()),
		caller: transport.New(transport.Config{Vendor: vendor.AllTick, HTTPClient: cfg.HTTPClient, Gate: cfg.Gate,
			Secrets: []string{cfg.Token.Reveal()}}),
	}, nil
}

// Name returns vendor.AllTick.
func (c *Client) Name() string { return vendor.AllTick }

// Capabilities says what AllTick serves for symbol.
func (c *Client) Capabilities(symbol string) (vendor.Capabilities, error) {
	return capabilities(symbol, c.batchMax)
}

func trace() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Client) url(prefix, path string, q url.Values) string {
	if q == nil {
		q = url.Values{}
	}
	q.Set("token", c.token.Reveal())
	return c.base + prefix + path + "?" + q.Encode()
}

// History returns up to limit bars at or before end (zero: the latest),
// ascending and deduplicated. Stock codes take no end time.
func (c *Client) History(ctx context.Context, symbol string, tf vendor.Timeframe, end time.Time, limit int) (vendor.Page, error) {
	caps, err := c.Capabilities(symbol)
	if err != nil {
		return vendor.Page{}, err
	}
	if err := caps.CheckTimeframe(symbol, tf); err != nil {
		return vendor.Page{}, err
	}
	if !end.IsZero() && !caps.PagesBack {
		return vendor.Page{}, fmt.Errorf("%w: AllTick serves stock code %s only from the latest bar back (no end time)", vendor.ErrUnsupported, symbol)
	}
	limit = min(max(limit, 1), PageSize)
	q := KlineQuery{Code: symbol, KlineType: KlineTypes[tf], QueryKlineNum: limit}
	if !end.IsZero() {
		q.KlineTimestampEnd = end.Unix()
	}
	query, err := json.Marshal(Request[KlineQuery]{Trace: trace(), Data: q})
	if err != nil {
		return vendor.Page{}, fmt.Errorf("encode kline query: %w", err)
	}
	series := vendor.Series{Vendor: vendor.AllTick, Symbol: symbol, Timeframe: tf}
	page := vendor.Page{Requested: limit}
	err = c.caller.Do(ctx, vendor.EndpointHistory, 1, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, c.url(PathPrefix(symbol), "/kline", url.Values{"query": {string(query)}}), nil)
	}, func(r transport.Response) error {
		data, err := envelope(r, vendor.EndpointHistory)
		if err != nil {
			return err
		}
		code, bars, rejects, err := decodeKline(series, data)
		if err != nil {
			return protocol(vendor.EndpointHistory, "kline data", err)
		}
		if code != "" && code != symbol {
			return protocol(vendor.EndpointHistory, "kline data", fmt.Errorf("answer for %q, asked for %q", code, symbol))
		}
		page.Bars, page.Rejects = bars, rejects
		return nil
	})
	return page, err
}

// klineData is KlineData with the bars decoded in the same pass.
type klineData struct {
	Code      string `json:"code"`
	KlineType int    `json:"kline_type"`
	KlineList []Bar  `json:"kline_list"`
}

// decodeKline decodes /kline's data: the whole bar list in one pass, and
// only when a bar spoils that, element by element (decodeBars), so the bad
// bar becomes a reject and the rest are kept. Both ways give the same result.
func decodeKline(s vendor.Series, data []byte) (code string, bars []vendor.Bar, rejects []vendor.Reject, err error) {
	var fast klineData
	if json.Unmarshal(data, &fast) == nil && complete(fast.KlineList) {
		return fast.Code, toBars(fast.KlineList), nil, nil
	}
	var kd KlineData
	if err := json.Unmarshal(data, &kd); err != nil {
		return "", nil, nil, err
	}
	bars, rejects = decodeBars(s, kd.KlineList)
	return kd.Code, bars, rejects, nil
}

// complete reports whether every bar decoded in one pass would pass
// decodeBars too.
func complete(bars []Bar) bool {
	for _, b := range bars {
		if b.Timestamp == 0 {
			return false
		}
	}
	return true
}

// toBars converts bars that complete accepted, ascending and deduplicated.
func toBars(bars []Bar) []vendor.Bar {
	out := make([]vendor.Bar, len(bars))
	for i, b := range bars {
		out[i] = b.ToBar()
	}
	return vendor.SortBars(out)
}

// decodeBars decodes each element on its own, so one bad bar becomes a reject
// and the rest are kept; the result is ascending with duplicates removed.
func decodeBars(s vendor.Series, raw []json.RawMessage) ([]vendor.Bar, []vendor.Reject) {
	bars := make([]vendor.Bar, 0, len(raw))
	var rejects []vendor.Reject
	for _, el := range raw {
		var b Bar
		if err := json.Unmarshal(el, &b); err != nil {
			rejects = append(rejects, vendor.Reject{Series: s, Raw: el, Reason: err.Error()})
			continue
		}
		if b.Timestamp == 0 {
			rejects = append(rejects, vendor.Reject{Series: s, Raw: el, Reason: "missing timestamp"})
			continue
		}
		bars = append(bars, b.ToBar())
	}
	return vendor.SortBars(bars), rejects
}

// Latest fetches the latest two bars of every series: stock and other codes
// in separate requests, each at most BatchMax groups. A request refused for
// an invalid or unauthorised code is split in halves until the code is found,
// so one bad code never stalls the others.
func (c *Client) Latest(ctx context.Context, series []vendor.Series) (vendor.Latest, error) {
	out := vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}, Invalid: map[vendor.Series]error{}}
	var stock, other []vendor.Series
	for _, s := range series {
		if err := checkCode(s.Symbol); err != nil {
			out.Invalid[s] = err
			continue
		}
		if _, ok := KlineTypes[s.Timeframe]; !ok {
			out.Invalid[s] = fmt.Errorf("%w: timeframe %s", vendor.ErrUnsupported, s.Timeframe)
			continue
		}
		if IsStock(s.Symbol) {
			stock = append(stock, s)
		} else {
			other = append(other, s)
		}
	}
	search := isolate.Search[vendor.Series]{
		Send: func(ctx context.Context, part []vendor.Series) error { return c.latestOnce(ctx, part, &out) },
		Bad:  out.MarkInvalid,
	}
	var firstErr error
	for _, group := range [][]vendor.Series{stock, other} {
		for chunk := range slices.Chunk(group, c.batchMax) {
			err := search.Run(ctx, chunk)
			if err == nil {
				continue
			}
			firstErr = cmp.Or(firstErr, err)
			if isolate.Fatal(ctx, err) {
				// Going on would only be refused too; what was not sent is Missing.
				out.MarkMissing(slices.Concat(stock, other))
				return out, firstErr
			}
		}
	}
	out.MarkMissing(slices.Concat(stock, other))
	return out, firstErr
}

func (c *Client) latestOnce(ctx context.Context, groups []vendor.Series, out *vendor.Latest) error {
	q := BatchQuery{DataList: make([]KlineQuery, len(groups))}
	want := make(map[[2]string]vendor.Series, len(groups))
	for i, s := range groups {
		q.DataList[i] = KlineQuery{Code: s.Symbol, KlineType: KlineTypes[s.Timeframe], QueryKlineNum: 2}
		want[[2]string{s.Symbol, strconv.Itoa(KlineTypes[s.Timeframe])}] = s
	}
	body, err := json.Marshal(Request[BatchQuery]{Trace: trace(), Data: q})
	if err != nil {
		return fmt.Errorf("encode batch query: %w", err)
	}
	return c.caller.Do(ctx, vendor.EndpointLatest, len(groups), func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(PathPrefix(groups[0].Symbol), "/batch-kline", nil), strings.NewReader(string(body)))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		return req, nil
	}, func(r transport.Response) error {
		return readBatch(r, groups, want, out)
	})
}

// batchAnswer is a whole /batch-kline answer, envelope and bars, decoded in
// one pass. A poll's answer carries two bars per group, and reading the
// envelope first, then its data, scanned the body twice more: a quarter of a
// 500-group tick's CPU went to encoding/json.
type batchAnswer struct {
	Ret  int        `json:"ret"`
	Data *batchData `json:"data"`
}

// readBatch files a /batch-kline answer to groups into out. The common
// answer (2xx, ret OK, every group requested and every bar clean) takes one
// decoding pass; anything else goes through envelope and collectBatch, which
// classify the error or keep what is good, with the same outcome as if the
// one pass had not been tried.
func readBatch(r transport.Response, groups []vendor.Series, want map[[2]string]vendor.Series, out *vendor.Latest) error {
	seen := make(map[vendor.Series]bool, len(groups))
	var fast batchAnswer
	if r.Status >= 200 && r.Status < 300 && json.Unmarshal(r.Body, &fast) == nil &&
		fast.Ret == RetOK && fast.Data != nil && batchComplete(*fast.Data, want) {
		fileBatch(*fast.Data, want, out, seen)
	} else {
		data, err := envelope(r, vendor.EndpointLatest)
		if err != nil {
			return err
		}
		if err := collectBatch(data, want, out, seen); err != nil {
			return err
		}
	}
	for _, s := range groups {
		if !seen[s] {
			out.Missing = append(out.Missing, s)
		}
	}
	return nil
}

// batchData is BatchData with the bars decoded in the same pass.
type batchData struct {
	KlineList []struct {
		Code      string `json:"code"`
		KlineType int    `json:"kline_type"`
		KlineData []Bar  `json:"kline_data"`
	} `json:"kline_list"`
}

// collectBatch files /batch-kline's groups into out, marking in seen the
// series that got bars. It decodes all groups in one pass and only when a
// bar or an unrequested group spoils that, group by group and bar by bar, so
// what is bad becomes a reject and the rest are kept.
func collectBatch(data []byte, want map[[2]string]vendor.Series, out *vendor.Latest, seen map[vendor.Series]bool) error {
	var fast batchData
	if json.Unmarshal(data, &fast) == nil && batchComplete(fast, want) {
		fileBatch(fast, want, out, seen)
		return nil
	}
	var bd BatchData
	if err := json.Unmarshal(data, &bd); err != nil {
		return protocol(vendor.EndpointLatest, "batch data", err)
	}
	for _, g := range bd.KlineList {
		s, ok := want[[2]string{g.Code, strconv.Itoa(g.KlineType)}]
		if !ok {
			raw, err := json.Marshal(g)
			if err != nil {
				return protocol(vendor.EndpointLatest, "batch group", err)
			}
			out.Rejects = append(out.Rejects, vendor.Reject{Series: vendor.Series{Vendor: vendor.AllTick, Symbol: g.Code},
				Raw: raw, Reason: "answer for a series that was not requested"})
			continue
		}
		bars, rejects := decodeBars(s, g.KlineData)
		out.Rejects = append(out.Rejects, rejects...)
		if len(bars) > 0 {
			out.Bars[s] = bars
			seen[s] = true
		}
	}
	return nil
}

// fileBatch files the groups of a one-pass decode that batchComplete
// accepted.
func fileBatch(bd batchData, want map[[2]string]vendor.Series, out *vendor.Latest, seen map[vendor.Series]bool) {
	for _, g := range bd.KlineList {
		s := want[[2]string{g.Code, strconv.Itoa(g.KlineType)}]
		if bars := toBars(g.KlineData); len(bars) > 0 {
			out.Bars[s] = bars
			seen[s] = true
		}
	}
}

// batchComplete reports whether every group of a one-pass decode was
// requested and every bar in it would pass decodeBars.
func batchComplete(bd batchData, want map[[2]string]vendor.Series) bool {
	for _, g := range bd.KlineList {
		if _, ok := want[[2]string{g.Code, strconv.Itoa(g.KlineType)}]; !ok || !complete(g.KlineData) {
			return false
		}
	}
	return true
}

// Trades fetches the latest trade of each symbol, at most TradeMax per request.
func (c *Client) Trades(ctx context.Context, symbols []string) ([]vendor.Trade, error) {
	var out []vendor.Trade
	byPrefix := map[string][]string{}
	for _, s := range symbols {
		if err := checkCode(s); err != nil {
			return nil, err
		}
		byPrefix[PathPrefix(s)] = append(byPrefix[PathPrefix(s)], s)
	}
	for prefix, codes := range byPrefix {
		for chunk := range slices.Chunk(codes, c.tradeMax) {
			q := TradeQuery{SymbolList: make([]Symbol, len(chunk))}
			for i, s := range chunk {
				q.SymbolList[i] = Symbol{Code: s}
			}
			query, err := json.Marshal(Request[TradeQuery]{Trace: trace(), Data: q})
			if err != nil {
				return nil, fmt.Errorf("encode trade query: %w", err)
			}
			err = c.caller.Do(ctx, vendor.EndpointTrades, len(chunk), func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, c.url(prefix, "/trade-tick", url.Values{"query": {string(query)}}), nil)
			}, func(r transport.Response) error {
				data, err := envelope(r, vendor.EndpointTrades)
				if err != nil {
					return err
				}
				var td TradeData
				if err := json.Unmarshal(data, &td); err != nil {
					return protocol(vendor.EndpointTrades, "trade data", err)
				}
				for _, el := range td.TickList {
					var t Tick
					if err := json.Unmarshal(el, &t); err != nil {
						c.log.Warn("trade rejected", zap.String("reason", err.Error()))
						continue
					}
					out = append(out, vendor.Trade{Symbol: t.Code, Time: time.UnixMilli(int64(t.TickTime)).UTC(), Price: t.Price,
						Volume: t.Volume, Turnover: t.Turnover, Seq: t.Seq, Direction: t.TradeDirection})
				}
				return nil
			})
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}
