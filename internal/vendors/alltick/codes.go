package alltick

import (
	"fmt"
	"strings"

	"github.com/syncd/syncd/internal/vendor"
)

// PageSize is the most bars /kline returns (1000 before 2025-07; a larger
// request is silently truncated to 500).
const PageSize = 500

// BatchMax is the most groups AllTick's top plans allow in one /batch-kline.
const BatchMax = 500

var (
	stockSuffix = map[string]vendor.Market{".US": vendor.MarketUS, ".HK": vendor.MarketHK, ".SH": vendor.MarketCN, ".SZ": vendor.MarketCN}
	fiat        = map[string]bool{"USD": true, "EUR": true, "JPY": true, "GBP": true, "AUD": true, "NZD": true, "CAD": true,
		"CHF": true, "CNH": true, "CNY": true, "HKD": true, "SGD": true, "SEK": true, "NOK": true, "MXN": true, "ZAR": true, "TRY": true}
	commodities = map[string]bool{"GOLD": true, "SILVER": true, "USOIL": true, "UKOIL": true, "COPPER": true, "NGAS": true,
		"XAUUSD": true, "XAGUSD": true, "XPTUSD": true, "XPDUSD": true}
)

// IsStock reports whether code goes to the stock endpoints.
func IsStock(code string) bool {
	_, ok := stockSuffix[suffix(code)]
	return ok
}

func suffix(code string) string {
	if i := strings.LastIndexByte(code, '.'); i >= 0 {
		return strings.ToUpper(code[i:])
	}
	return ""
}

// PathPrefix returns the endpoint family serving code.
func PathPrefix(code string) string {
	if IsStock(code) {
		return StockPrefix
	}
	return OtherPrefix
}

// MarketOf infers a code's market: stocks by suffix; crypto by a stablecoin
// quote (BTCUSDT); FX as two fiat currencies (EURUSD); metals and energy from
// AllTick's product names (GOLD, USOIL, XAUUSD). Anything else is "other",
// which the calendar treats as always open rather than hide bars on a guess.
func MarketOf(code string) vendor.Market {
	if m, ok := stockSuffix[suffix(code)]; ok {
		return m
	}
	up := strings.ToUpper(code)
	switch {
	case commodities[up]:
		return vendor.MarketCommodity
	case strings.HasSuffix(up, "USDT") || strings.HasSuffix(up, "USDC"):
		return vendor.MarketCrypto
	case len(up) == 6 && fiat[up[:3]] && fiat[up[3:]]:
		return vendor.MarketFX
	}
	return vendor.MarketOther
}

// checkCode rejects codes AllTick cannot have: empty, too long, or with
// characters outside letters, digits, '.' and '_'.
func checkCode(code string) error {
	if code == "" || len(code) > 32 {
		return fmt.Errorf("%w: %q is not an AllTick code (examples: BTCUSDT, 700.HK, AAPL.US)", vendor.ErrInvalidSymbol, code)
	}
	for _, r := range code {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '_' {
			return fmt.Errorf("%w: %q has a character AllTick codes do not use (examples: BTCUSDT, 700.HK)", vendor.ErrInvalidSymbol, code)
		}
	}
	if suffix(code) == ".HK" && strings.HasPrefix(code, "0") {
		return fmt.Errorf("%w: %q: AllTick writes HK codes without leading zeros (700.HK)", vendor.ErrInvalidSymbol, code)
	}
	return nil
}

var (
	allTimeframes   = vendor.Timeframes
	stockTimeframes = []vendor.Timeframe{vendor.TF1m, vendor.TF5m, vendor.TF15m, vendor.TF30m, vendor.TF1h, vendor.TF1d, vendor.TF1w, vendor.TF1M}
)

// capabilities describes what AllTick serves for code.
func capabilities(code string, batchMax int) (vendor.Capabilities, error) {
	if err := checkCode(code); err != nil {
		return vendor.Capabilities{}, err
	}
	c := vendor.Capabilities{Vendor: vendor.AllTick, Market: MarketOf(code), PageSize: PageSize, PagesBack: true,
		EndBound: vendor.EndUnknown, Timeframes: allTimeframes, BatchMax: batchMax, BatchKey: "other"}
	if IsStock(code) {
		// Stock codes take no end time: only the latest 500 bars exist over HTTP.
		c.PagesBack, c.Timeframes, c.BatchKey = false, stockTimeframes, "stock"
	}
	return c, nil
}
