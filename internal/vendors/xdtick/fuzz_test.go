package xdtick

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/transport"
)

func seed(f *testing.F, name string) {
	f.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// checkBars fails on a kept bar with an implausible time, a missing value,
// or bars out of strict ascending order.
func checkBars(t *testing.T, bars []vendor.Bar) {
	t.Helper()
	for i, b := range bars {
		if ms := b.Time.UnixMilli(); ms < unitBoundary {
			t.Fatalf("a time in seconds kept as milliseconds: %v", b.Time)
		}
		if i > 0 && !bars[i-1].Time.Before(b.Time) {
			t.Fatal("bars not strictly ascending")
		}
	}
}

// FuzzDecodeKline feeds arbitrary bodies through the envelope and bar
// decoding History uses: it must never panic, and what it keeps is sane.
func FuzzDecodeKline(f *testing.F) {
	seed(f, "kline_response_doc.json")
	f.Add([]byte(`{"code":429,"msg":"Too Many Requests"}`))
	f.Add([]byte(`{"code":200,"data":{"klineList":[{"timestamp":1768992360,"open":1,"high":1,"low":1,"close":1,"volume":1}]}}`))
	f.Add([]byte(`{"code":200,"data":{"klineList":[{"timestamp":"1768992360000","open":"1e3","high":null,"low":1,"close":1,"volume":1}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		data, err := envelope(transport.Response{Status: 200, Body: body}, vendor.EndpointHistory)
		if err != nil {
			return
		}
		series := vendor.Series{Symbol: "X"}
		head, fastBars, fastRejects, fastErr := decodeKline(series, data)
		var kd KlineData
		if json.Unmarshal(data, &kd) != nil {
			if fastErr == nil {
				t.Fatal("one-pass decoding accepted data the element-wise one refuses")
			}
			return
		}
		bars, rejects := decodeBars(series, kd.KlineList)
		if len(bars)+len(rejects) > len(kd.KlineList) {
			t.Fatal("more bars and rejects than elements")
		}
		checkBars(t, bars)
		// The one-pass decoding must give exactly what element-wise decoding gives.
		if fastErr != nil || head.Code != kd.Code || head.KlineType != kd.KlineType ||
			!reflect.DeepEqual(fastBars, bars) || !reflect.DeepEqual(fastRejects, rejects) {
			t.Fatalf("one-pass decoding differs: %v %v %v, element-wise %v %v", fastErr, fastBars, fastRejects, bars, rejects)
		}
	})
}

// FuzzDecodeBatch covers /tick-api/batch-kline answers.
func FuzzDecodeBatch(f *testing.F) {
	seed(f, "batch_response_doc.json")
	f.Add([]byte(`{"code":600,"msg":"code invalid"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		data, err := envelope(transport.Response{Status: 200, Body: body}, vendor.EndpointLatest)
		if err != nil {
			return
		}
		var bd BatchData
		if json.Unmarshal(data, &bd) != nil {
			return
		}
		for _, g := range bd.KlineList {
			bars, _ := decodeBars(vendor.Series{Symbol: g.Code}, g.KlineData)
			checkBars(t, bars)
		}
	})
}

// FuzzDecodeTick covers /tick-api/trade-tick elements.
func FuzzDecodeTick(f *testing.F) {
	f.Add([]byte(`{"volume":0.99173000,"code":"BTCUSD","price":89262.11000000,"turnover":88523.9123503000000000,"timestamp":1769616358}`))
	f.Add([]byte(`{"code":"EURUSD","price":"1.1","volume":"0","quoteVolume":"","timestamp":"1769616358000"}`))
	f.Fuzz(func(t *testing.T, el []byte) {
		tr, reason := decodeTick(el)
		if reason != "" {
			return
		}
		if s := tr.Time.Unix(); s <= 0 || s >= unitBoundary {
			t.Fatalf("implausible trade time %v", tr.Time)
		}
		if tr.Symbol == "" {
			t.Fatal("a trade without a code was kept")
		}
	})
}
