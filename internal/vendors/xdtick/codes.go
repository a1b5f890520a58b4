package xdtick

import (
	"fmt"
	"strings"

	"github.com/syncd/syncd/internal/vendor"
)

// PageSize is the most bars one /tick-api/kline answers ("max 1000 per
// request" on the endpoint's page; the limits page, copied from AllTick, says
// 500 and that more is truncated, which costs nothing here).
const PageSize = 1000

// BatchMax is the most groups XdTick's top plan allows in one
// /tick-api/batch-kline (free 5, basic 100, advanced 200, pro 500).
const BatchMax = 500

// TradeMax is the advised most codes per /tick-api/trade-tick (GET URL
// length); the free plan allows 5.
const TradeMax = 50

var (
	fiat = map[string]bool{"USD": true, "EUR": true, "JPY": true, "GBP": true, "AUD": true, "NZD": true, "CAD": true,
		"CHF": true, "CNH": true, "CNY": true, "HKD": true, "SGD": true, "SEK": true, "NOK": true, "DKK": true,
		"MXN": true, "ZAR": true, "TRY": true, "INR": true}
	metals = map[string]bool{"XAU": true, "XAG": true, "XPT": true, "XPD": true}
	// commodities are XdTick's futures roots and the older product names.
	commodities = map[string]bool{"GC": true, "SI": true, "HG": true, "CL": true, "QM": true, "NG": true, "RB": true,
		"PA": true, "PL": true, "ZR": true, "ZL": true, "SB": true, "ZC": true, "CT": true, "ZW": true, "ZO": true,
		"GOLD": true, "SILVER": true, "USOIL": true, "UKOIL": true, "COPPER": true, "NGAS": true, "ALUMINUM": true,
		"PALLADIUM": true, "PLATINUM": true, "NICKEL": true}
	stockSuffixes = []string{".US", ".HK", ".SH", ".SZ"}
)

// MarketOf infers a code's market: FX as two fiat currencies (EURUSD),
// commodities from XdTick's futures roots and product names (GC, USOIL) or a
// metal against a currency (XAUUSD), crypto as anything else quoted in USD
// (BTCUSD; XdTick quotes crypto in USD, not USDT). Anything else, such as
// the Chinese continuous contracts (COS00, HSK0), is "other", which the
// calendar treats as always open rather than hide bars on a guess.
func MarketOf(code string) vendor.Market {
	up := strings.ToUpper(code)
	switch {
	case len(up) == 6 && fiat[up[:3]] && fiat[up[3:]]:
		return vendor.MarketFX
	case commodities[up], len(up) == 6 && metals[up[:3]] && fiat[up[3:]]:
		return vendor.MarketCommodity
	case len(up) > 3 && (strings.HasSuffix(up, "USD") || strings.HasSuffix(up, "USDT") || strings.HasSuffix(up, "USDC")):
		return vendor.MarketCrypto
	}
	return vendor.MarketOther
}

const codeExamples = "examples: BTCUSD, EURUSD, GC"

// CheckCode rejects codes XdTick cannot have: empty, too long, stock codes,
// or characters other than ASCII letters and digits. Case is kept as given:
// XdTick's codes are matched as listed.
func CheckCode(code string) error {
	if code == "" || len(code) > 32 {
		return fmt.Errorf("%w: %q is not an XdTick code (%s)", vendor.ErrInvalidSymbol, code, codeExamples)
	}
	up := strings.ToUpper(code)
	for _, s := range stockSuffixes {
		if strings.HasSuffix(up, s) {
			return fmt.Errorf("%w: %q: XdTick serves no stocks, only FX, metals, crypto, energy and commodities (%s)",
				vendor.ErrInvalidSymbol, code, codeExamples)
		}
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return fmt.Errorf("%w: %q has a character XdTick codes do not use (%s)", vendor.ErrInvalidSymbol, code, codeExamples)
		}
	}
	return nil
}

// timeframes are those XdTick serves: no 2h or 4h.
var timeframes = []vendor.Timeframe{vendor.TF1m, vendor.TF5m, vendor.TF15m, vendor.TF30m, vendor.TF1h, vendor.TF1d, vendor.TF1w, vendor.TF1M}

// capabilities describes what XdTick serves for code. /tick-api/kline takes
// no end time, so only the latest PageSize bars of a series exist over HTTP.
func capabilities(code string, batchMax int) (vendor.Capabilities, error) {
	if err := CheckCode(code); err != nil {
		return vendor.Capabilities{}, err
	}
	return vendor.Capabilities{Vendor: vendor.XdTick, Market: MarketOf(code), PageSize: PageSize, PagesBack: false,
		EndBound: vendor.EndUnknown, Timeframes: timeframes, BatchMax: batchMax}, nil
}
