package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// utc8 is where AllTick and XdTick are assumed to reset daily caps: "midnight
// the next day", server time zone unconfirmed, very likely UTC+8.
var utc8 = time.FixedZone("UTC+8", 8*3600)

func spacing(history, latest, trades time.Duration) map[vendor.Endpoint]time.Duration {
	return map[vendor.Endpoint]time.Duration{vendor.EndpointHistory: history, vendor.EndpointLatest: latest, vendor.EndpointTrades: trades}
}

// allTickStyle builds the AllTick/XdTick plans, which share their numbers.
// Where sources disagree the stricter value is taken (vendors.md §3.6):
//   - free daily cap: 1000 (newest GitHub docs) vs 14400 (older pages): 1000;
//   - free batch groups: 5 (limits page) vs 10 (endpoint page): 5;
//   - free: "one endpoint per 10 s" vs 10 per minute: one request per 10 s overall.
func allTickStyle(vendorName string) map[string]Plan {
	mk := func(name string, hist, latest, trades, global time.Duration, perSec, perMin, perDay, batch, tradeMax int) Plan {
		return Plan{Vendor: vendorName, Name: name, Spacing: spacing(hist, latest, trades), GlobalSpacing: global,
			PerSecond: perSec, PerMinute: perMin, PerDay: perDay, BatchMax: batch, TradeCodesMax: tradeMax, ResetZone: utc8}
	}
	free := mk(Free, 10*time.Second, 10*time.Second, 10*time.Second, 10*time.Second, 0, 6, 1000, 5, 5)
	if vendorName == vendor.XdTick {
		// XdTick's own limits page keeps the older 14400 daily cap and 10/min; the
		// one-per-10 s spacing still bounds it to 6/min.
		free.PerDay = 14400
	}
	plans := map[string]Plan{
		Free:    free,
		"basic": mk("basic", time.Second, 3*time.Second, time.Second, 0, 1, 60, 86400, 100, 50),
	}
	premium := mk("premium", 100*time.Millisecond, 2*time.Second, 100*time.Millisecond, 0, 10, 600, 864000, 200, 50)
	pro := mk("professional", 50*time.Millisecond, time.Second, 50*time.Millisecond, 0, 20, 1200, 1728000, 500, 50)
	if vendorName == vendor.XdTick {
		premium.Name, pro.Name = "advanced", "pro"
		plans["advanced"], plans["pro"] = premium, pro
		return plans
	}
	plans["premium"], plans["professional"] = premium, pro
	for _, n := range []string{"all_hk_stocks", "all_cn_stocks", "all_us_stocks"} {
		p := pro
		p.Name = n
		plans[n] = p
	}
	return plans
}

// presets holds every vendor's named plans.
var presets = map[string]map[string]Plan{
	vendor.AllTick: allTickStyle(vendor.AllTick),
	vendor.XdTick:  allTickStyle(vendor.XdTick),
	vendor.Infoway: {
		// One shared limit across all endpoints (vendors.md §5.5). Free daily cap:
		// 86400 (zh) vs 172800 (en): the stricter 86400. Batch: ≤100 codes.
		Free:      {Vendor: vendor.Infoway, Name: Free, PerSecond: 1, PerMinute: 60, PerDay: 86400, BatchMax: 100, TradeCodesMax: 100, ResetZone: utc8},
		"basic":   {Vendor: vendor.Infoway, Name: "basic", PerSecond: 2, PerMinute: 120, PerDay: 172800, BatchMax: 100, TradeCodesMax: 100, ResetZone: utc8},
		"premium": {Vendor: vendor.Infoway, Name: "premium", PerSecond: 10, PerMinute: 600, PerDay: 864000, BatchMax: 100, TradeCodesMax: 100, ResetZone: utc8},
		"pro":     {Vendor: vendor.Infoway, Name: "pro", PerSecond: 20, PerMinute: 1200, PerDay: 1728000, BatchMax: 100, TradeCodesMax: 100, ResetZone: utc8},
	},
	vendor.QOS: {
		// The default plan: 10 requests per minute and 10 products (vendors.md §6.1).
		"default": {Vendor: vendor.QOS, Name: "default", PerMinute: 10, BatchMax: 10, TradeCodesMax: 10, ResetZone: time.UTC},
	},
}

// Names lists a vendor's plan names, sorted.
func Names(vendorName string) []string {
	return slices.Sorted(maps.Keys(presets[vendorName]))
}

// Free is the name of every vendor's free plan but QOS's, and so the default
// of SYNCD_PLAN.
const Free = "free"

// DefaultName is the plan a vendor's key has when none is named: Free, or
// QOS's only published plan, "default".
func DefaultName(vendorName string) string {
	if vendorName == vendor.QOS {
		return "default"
	}
	return Free
}

// Lookup returns a vendor's plan by name, or parses a custom spec (see
// ParseCustom). An unknown name is an error that lists the valid ones.
func Lookup(vendorName, name string) (Plan, error) {
	if strings.HasPrefix(name, "custom") {
		p, err := ParseCustom(name)
		p.Vendor = vendorName
		return p, err
	}
	vp, ok := presets[vendorName]
	if !ok {
		return Plan{}, fmt.Errorf("unknown vendor %q (want one of %s)", vendorName, strings.Join(vendor.Names, ", "))
	}
	p, ok := vp[name]
	if !ok {
		return Plan{}, fmt.Errorf("unknown %s plan %q (want one of %s, or a custom:… spec)", vendorName, name, strings.Join(Names(vendorName), ", "))
	}
	return p.clone(), nil
}

func (p Plan) clone() Plan {
	p.Spacing = maps.Clone(p.Spacing)
	return p
}
