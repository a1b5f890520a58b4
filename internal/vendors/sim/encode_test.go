package sim

import (
	"encoding/json"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/infoway"
	"github.com/syncd/syncd/internal/vendors/qos"
	"github.com/syncd/syncd/internal/vendors/xdtick"
)

// randDecimal draws a decimal at scale: mostly generator-sized
// coefficients, sometimes zero, negative, 18-digit or beyond int64.
func randDecimal(r *rand.Rand, scale int32) decimal.Decimal {
	switch r.IntN(10) {
	case 0:
		return decimal.New(0, scale)
	case 1:
		return decimal.New(-r.Int64N(1<<45), scale)
	case 2:
		return decimal.New(r.Int64(), scale)
	case 3:
		c := new(big.Int).Lsh(big.NewInt(r.Int64N(1<<40)+1), 70)
		if r.IntN(2) == 0 {
			c.Neg(c)
		}
		return decimal.NewFromBig(c, scale)
	}
	return decimal.New(r.Int64N(1<<42)+1, scale)
}

func randBars(r *rand.Rand, n int) []vendor.Bar {
	bars := make([]vendor.Bar, n)
	t := time.Unix(r.Int64N(4_000_000_000), 0).UTC()
	for i := range bars {
		ps := r.Int32N(13)
		cs := ps
		if r.IntN(8) == 0 {
			cs = r.Int32N(13) // open and close at different scales
		}
		b := vendor.Bar{Time: t.Add(time.Duration(i) * time.Minute), Open: randDecimal(r, ps), High: randDecimal(r, ps),
			Low: randDecimal(r, ps), Close: randDecimal(r, cs), Volume: randDecimal(r, r.Int32N(13))}
		switch r.IntN(4) {
		case 0: // absent, the zero Null
		case 1:
			b.Turnover = decimal.Null{Decimal: decimal.New(5, 1)} // absent but not the zero value
		default:
			b.Turnover = decimal.Null{Decimal: randDecimal(r, ps), Valid: true}
		}
		bars[i] = b
	}
	return bars
}

func marshal(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}

// TestFastEncodersMatchEncodingJSON: each page encoder writes exactly what
// encoding/json writes for the client package's wire values.
func TestFastEncodersMatchEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(4, 2))
	for round := range 300 {
		bars := randBars(r, r.IntN(6))
		code := []string{"BTCUSDT", "US:AAPL", `a"b\c<d>&e`, "é\u2028x", "\x01\xff"}[round%5]
		kt := r.IntN(20)

		want := marshal(t, alltick.KlineData{Code: code, KlineType: kt, KlineList: encodeAllTickBars(bars)})
		require.Equal(t, want, string(allTickKlineData(code, kt, bars)), "alltick")

		n := r.IntN(4)
		groups := make([]allTickGroup, 0, n)
		var data alltick.BatchData
		for j := range n {
			g := allTickGroup{code: []string{code, "ETHUSDT", "700.HK"}[j%3], kt: kt + j, bars: randBars(r, r.IntN(3))}
			groups = append(groups, g)
			data.KlineList = append(data.KlineList, alltick.BatchGroup{Code: g.code, KlineType: g.kt, KlineData: encodeAllTickBars(g.bars)})
		}
		require.Equal(t, marshal(t, data), string(allTickBatchData(groups)), "alltick batch")

		ktText := []string{"1min", "1h", `"x"`}[kt%3]
		want = marshal(t, xdtick.KlineData{Code: code, KlineType: ktText, KlineList: encodeXdTickBars(bars)})
		require.Equal(t, want, string(xdTickKlineData(code, ktText, bars)), "xdtick")

		want = marshal(t, []infoway.KlineSeries{{S: code, RespList: infowayBars(bars)}})
		require.Equal(t, want, string(infowayKlineData(code, bars)), "infoway")

		other := randBars(r, r.IntN(3))
		want = marshal(t, []qos.KlineSeries{{C: code, K: encodeQOSBars(code, kt, bars)}, {C: "HK:00700", K: encodeQOSBars("HK:00700", 1, other)}})
		got := qosKlineData([]qosPage{{code: code, kt: kt, bars: bars}, {code: "HK:00700", kt: 1, bars: other}})
		require.Equal(t, want, string(got), "qos")
	}
}

// TestFastEncodersGeneratedBars: the same on real pages, where the int64
// paths are the ones taken.
func TestFastEncodersGeneratedBars(t *testing.T) {
	t.Parallel()
	g := newGen(t, 3)
	for _, m := range []vendor.Market{vendor.MarketCrypto, vendor.MarketFX, vendor.MarketUS, vendor.MarketJP} {
		bars, err := g.Last(spec("ENC", m, vendor.TF1h), utc(2025, 3, 4, 5, 0), 200, utc(2025, 3, 4, 5, 17))
		require.NoError(t, err)
		require.NotEmpty(t, bars)
		require.Equal(t, marshal(t, alltick.KlineData{Code: "ENC", KlineList: encodeAllTickBars(bars)}), string(allTickKlineData("ENC", 0, bars)))
		require.Equal(t, marshal(t, xdtick.KlineData{Code: "ENC", KlineType: "1h", KlineList: encodeXdTickBars(bars)}), string(xdTickKlineData("ENC", "1h", bars)))
		require.Equal(t, marshal(t, []infoway.KlineSeries{{S: "ENC", RespList: infowayBars(bars)}}), string(infowayKlineData("ENC", bars)))
		require.Equal(t, marshal(t, []qos.KlineSeries{{C: "ENC", K: encodeQOSBars("ENC", 3, bars)}}), string(qosKlineData([]qosPage{{code: "ENC", kt: 3, bars: bars}})))
	}
}

// encodeAllTickBars is the reference the append encoder is held to: each
// bar through json.Marshal of the client package's wire value.
func encodeAllTickBars(bars []vendor.Bar) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(bars))
	for _, b := range bars {
		raw, err := json.Marshal(alltick.FromBar(b))
		if err != nil {
			panic(err) // every field marshals
		}
		out = append(out, raw)
	}
	return out
}
