package alltick

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/transport"
)

func mustDec(s string) decimal.Decimal { return decimal.MustParse(s) }

// FuzzDecodeKline feeds arbitrary bodies through the envelope and bar decoding
// used by History: it must never panic, and every bar it keeps has a sane time.
func FuzzDecodeKline(f *testing.F) {
	f.Add([]byte(`{"ret":200,"msg":"ok","trace":"x","data":{"code":"857.HK","kline_type":1,"kline_list":[{"timestamp":"1677829200","open_price":"136.421","close_price":"136.412","high_price":"136.422","low_price":"136.407","volume":"0","turnover":"0"}]}}`))
	f.Add([]byte(`{"ret":605,"msg":"too many requests"}`))
	f.Add([]byte(`{"ret":200,"data":{"kline_list":[{"timestamp":1677829200000}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		data, err := envelope(transport.Response{Status: 200, Body: body}, vendor.EndpointHistory)
		if err != nil {
			return
		}
		series := vendor.Series{Symbol: "X"}
		code, bars, rejects, err := decodeKline(series, data)
		var kd KlineData
		if json.Unmarshal(data, &kd) != nil {
			if err == nil {
				t.Fatal("one-pass decoding accepted data the element-wise one refuses")
			}
			return
		}
		// The one-pass decoding must give exactly what element-wise decoding gives.
		slowBars, slowRejects := decodeBars(series, kd.KlineList)
		if err != nil || code != kd.Code || !reflect.DeepEqual(bars, slowBars) || !reflect.DeepEqual(rejects, slowRejects) {
			t.Fatalf("one-pass decoding differs: %v %q %v %v, element-wise %q %v %v", err, code, bars, rejects, kd.Code, slowBars, slowRejects)
		}
		for i, b := range bars {
			if b.Time.Unix() <= 0 || b.Time.Unix() >= unitBoundary {
				t.Fatalf("implausible bar time %v", b.Time)
			}
			if i > 0 && !bars[i-1].Time.Before(b.Time) {
				t.Fatal("bars not strictly ascending")
			}
		}
	})
}

// FuzzDecodeBatch covers /batch-kline answers.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"ret":200,"msg":"ok","trace":"x","data":{"kline_list":[{"code":"700.HK","kline_type":1,"kline_data":[{"timestamp":"1677829200","open_price":"1","close_price":"1","high_price":"1","low_price":"1","volume":"0","turnover":"0"}]}]}}`))
	f.Fuzz(func(_ *testing.T, body []byte) {
		data, err := envelope(transport.Response{Status: 200, Body: body}, vendor.EndpointLatest)
		if err != nil {
			return
		}
		var bd BatchData
		if json.Unmarshal(data, &bd) != nil {
			return
		}
		for _, g := range bd.KlineList {
			decodeBars(vendor.Series{Symbol: g.Code}, g.KlineData)
		}
	})
}

// FuzzDecodeTick covers /trade-tick elements.
func FuzzDecodeTick(f *testing.F) {
	f.Add([]byte(`{"code":"857.HK","seq":"30841439","tick_time":"1677831545217","price":"136.302","volume":"0","turnover":"0","trade_direction":0}`))
	f.Fuzz(func(t *testing.T, el []byte) {
		var tk Tick
		if json.Unmarshal(el, &tk) != nil {
			return
		}
		if tk.TickTime != 0 && int64(tk.TickTime) < unitBoundary {
			t.Fatalf("seconds accepted as milliseconds: %d", tk.TickTime)
		}
	})
}

// FuzzReadBatchOnePass: the one-pass decode of a /batch-kline answer gives
// exactly what the envelope-then-data path gives, for any body: the same
// error, bars, missing series and rejects.
func FuzzReadBatchOnePass(f *testing.F) {
	ok := `{"ret":200,"msg":"ok","trace":"x","data":{"kline_list":[{"code":"700.HK","kline_type":1,"kline_data":[{"timestamp":"1677829200","open_price":"1","close_price":"1","high_price":"1","low_price":"1","volume":"0","turnover":"0"}]}]}}`
	for _, s := range []string{
		ok,
		strings.Replace(ok, "700.HK", "9988.HK", 1), // a group not asked for
		strings.Replace(ok, `"high_price":"1"`, `"high_price":"x"`, 1),
		`{"ret":605,"msg":"too many requests","data":null}`,
		`{"ret":605,"msg":"too many requests","data":{}}`,
		`{"ret":200,"msg":"ok","data":null}`,
		`{"ret":200,"msg":"ok","data":{}}`,
		`{"ret":200,"data":{"kline_list":[]},"data":{"kline_list":null}}`,
	} {
		f.Add([]byte(s), 200)
	}
	f.Add([]byte(ok), 500)
	groups := []vendor.Series{
		{Vendor: vendor.AllTick, Symbol: "700.HK", Timeframe: vendor.TF1m},
		{Vendor: vendor.AllTick, Symbol: "BTCUSDT", Timeframe: vendor.TF1m},
		{Vendor: vendor.AllTick, Symbol: "AAPL.US", Timeframe: vendor.TF1d},
	}
	want := make(map[[2]string]vendor.Series, len(groups))
	for _, s := range groups {
		want[[2]string{s.Symbol, strconv.Itoa(KlineTypes[s.Timeframe])}] = s
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		r := transport.Response{Status: status, Body: body}
		got := vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}}
		gotErr := readBatch(r, groups, want, &got)

		ref := vendor.Latest{Bars: map[vendor.Series][]vendor.Bar{}}
		refErr := func() error {
			data, err := envelope(r, vendor.EndpointLatest)
			if err != nil {
				return err
			}
			seen := map[vendor.Series]bool{}
			if err := collectBatch(data, want, &ref, seen); err != nil {
				return err
			}
			for _, s := range groups {
				if !seen[s] {
					ref.Missing = append(ref.Missing, s)
				}
			}
			return nil
		}()
		require.Equal(t, refErr, gotErr)
		if refErr == nil {
			require.Equal(t, ref, got)
		}
	})
}
