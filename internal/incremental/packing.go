package incremental

import (
	"fmt"
	"sort"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// Request is the series one latest-bars request carries.
type Request []vendor.Series

// Pack splits series into as few latest-bars requests as the vendor's rules and
// the plan's cap allow: series may share a request only when their capabilities
// give the same BatchKey (and, where the vendor wants one timeframe per
// request, the same timeframe). The result is deterministic: the same input
// gives the same requests, so rotation through them is fair.
func Pack(series []vendor.Series, caps map[vendor.Series]vendor.Capabilities, planMax int) ([]Request, error) {
	type key struct {
		batch string
		tf    vendor.Timeframe
	}
	groups := map[key][]vendor.Series{}
	var order []key
	limit := map[key]int{}
	for _, s := range series {
		c, ok := caps[s]
		if !ok {
			return nil, fmt.Errorf("pack latest requests: no capabilities for %s", s)
		}
		k := key{batch: c.BatchKey}
		if c.BatchOneTimeframe {
			k.tf = s.Timeframe
		}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
		n := c.BatchMax
		if n <= 0 {
			n = 1
		}
		if planMax > 0 && planMax < n {
			n = planMax
		}
		if cur, ok := limit[k]; !ok || n < cur {
			limit[k] = n
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].batch != order[j].batch {
			return order[i].batch < order[j].batch
		}
		return order[i].tf.Less(order[j].tf)
	})
	var out []Request
	for _, k := range order {
		g := groups[k]
		n := limit[k]
		for i := 0; i < len(g); i += n {
			out = append(out, Request(g[i:min(i+n, len(g))]))
		}
	}
	return out, nil
}

// RefreshPeriod is how long a full rotation through reqs takes at one request
// per interval: the longest any series waits between two refreshes.
func RefreshPeriod(reqs []Request, interval time.Duration) time.Duration {
	return time.Duration(len(reqs)) * interval
}

func sortCandles(c []Candle) {
	sort.Slice(c, func(i, j int) bool { return c[i].Time.Before(c[j].Time) })
}
