package plan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// ParseCustom reads a custom plan for benchmarks against the simulator:
//
//	custom:per_second=50,per_minute=3000,per_day=0,global=0,history=0,latest=20ms,trades=0,batch=500,trade_codes=50
//	custom:unlimited
//
// Every key is optional; a missing or zero limit means no limit in that
// dimension. Durations use Go syntax (20ms, 1s). "custom" alone is unlimited.
func ParseCustom(spec string) (Plan, error) {
	p := Plan{Name: "custom", Spacing: map[vendor.Endpoint]time.Duration{}, ResetZone: time.UTC}
	rest, ok := strings.CutPrefix(spec, "custom")
	if !ok {
		return Plan{}, fmt.Errorf("custom plan %q: must start with custom", spec)
	}
	rest, _ = strings.CutPrefix(rest, ":")
	rest = strings.TrimSpace(rest)
	if rest == "" || rest == "unlimited" {
		return p, nil
	}
	for kv := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return Plan{}, fmt.Errorf("custom plan: %q is not key=value (example: per_second=50)", kv)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "per_second", "per_minute", "per_day", "batch", "trade_codes":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Plan{}, fmt.Errorf("custom plan: %s=%q is not a whole number ≥ 0", k, v)
			}
			switch k {
			case "per_second":
				p.PerSecond = n
			case "per_minute":
				p.PerMinute = n
			case "per_day":
				p.PerDay = n
			case "batch":
				p.BatchMax = n
			default:
				p.TradeCodesMax = n
			}
		case "global", "history", "latest", "trades":
			d, err := time.ParseDuration(v)
			if v == "0" {
				d, err = 0, nil
			}
			if err != nil || d < 0 {
				return Plan{}, fmt.Errorf("custom plan: %s=%q is not a duration ≥ 0 (example: 20ms)", k, v)
			}
			if k == "global" {
				p.GlobalSpacing = d
			} else {
				p.Spacing[vendor.Endpoint(k)] = d
			}
		default:
			return Plan{}, fmt.Errorf("custom plan: unknown key %q (want per_second, per_minute, per_day, global, history, latest, trades, batch, trade_codes)", k)
		}
	}
	return p, p.Validate()
}

// Validate rejects plans that cannot be enforced.
func (p Plan) Validate() error {
	var errs []error
	if p.PerSecond < 0 || p.PerMinute < 0 || p.PerDay < 0 || p.BatchMax < 0 || p.TradeCodesMax < 0 || p.GlobalSpacing < 0 {
		errs = append(errs, errors.New("negative limit"))
	}
	for ep, d := range p.Spacing {
		if d < 0 {
			errs = append(errs, fmt.Errorf("negative spacing for %s", ep))
		}
	}
	if p.PerSecond > 0 && p.PerMinute > 0 && p.PerMinute < p.PerSecond {
		errs = append(errs, errors.New("per_minute below per_second"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("plan %s: %w", p.Name, err)
	}
	return nil
}
