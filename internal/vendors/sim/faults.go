package sim

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/vendor"
)

// FaultKind names a misbehaviour the simulator can inject.
type FaultKind int

// Fault kinds. The first five replace the response and exclude each other;
// latency adds to any response; the last three spoil the bars of a page that
// is otherwise served normally.
const (
	NoFault          FaultKind = iota // a normal answer
	FaultServerError                  // an HTTP 500/502/503/504
	FaultTimeout                      // no answer until the client gives up (bounded)
	FaultMalformed                    // a body that is not valid JSON
	FaultTruncated                    // a valid body cut short
	FaultRateLimit                    // the vendor's rate-limit answer although within the plan
	FaultLatency                      // an added delay before the answer
	FaultDuplicate                    // a bar repeated across the page boundary
	FaultOutOfOrder                   // two adjacent bars swapped
	FaultHighLow                      // one bar with high < low
	numFaultKinds
)

// faultNames are the spec names, indexed by FaultKind.
func faultNames() [numFaultKinds]string {
	return [numFaultKinds]string{"none", "5xx", "timeout", "malformed", "truncated", "ratelimit", "latency", "duplicate", "outoforder", "highlow"}
}

// String returns the kind's spec name ("5xx", "truncated", …).
func (k FaultKind) String() string {
	if k < 0 || k >= numFaultKinds {
		return "fault(" + strconv.Itoa(int(k)) + ")"
	}
	return faultNames()[k]
}

// FaultKinds lists every kind but NoFault.
func FaultKinds() []FaultKind {
	out := make([]FaultKind, 0, numFaultKinds-1)
	for k := FaultServerError; k < numFaultKinds; k++ {
		out = append(out, k)
	}
	return out
}

func (k FaultKind) exclusive() bool { return k >= FaultServerError && k <= FaultRateLimit }

// Defaults for the durations a spec may omit.
const (
	DefaultLatency = 500 * time.Millisecond
	DefaultTimeout = 30 * time.Second
	maxFaultDelay  = 10 * time.Minute
)

// Faults is a fault configuration: a rate per kind (a probability per
// request, 0–1) and the sizes of the delays. The zero value injects nothing.
type Faults struct {
	// Rate is the probability of each kind per request (Rate[NoFault] is
	// unused and must be 0). The exclusive kinds
	// (5xx, timeout, malformed, truncated, ratelimit) must sum to at most 1.
	Rate [numFaultKinds]float64
	// Latency is the largest added delay; each delayed response waits a
	// deterministic duration in (0, Latency]. 0 means DefaultLatency.
	Latency time.Duration
	// Timeout bounds how long a timed-out request hangs if the client does
	// not give up first. 0 means DefaultTimeout.
	Timeout time.Duration
}

// ParseFaults reads a spec such as "5xx=0.05,truncated=2%,latency=0.1@250ms,
// timeout=0.01@20s": comma-separated kind=rate items, a rate being a
// probability 0–1 or a percentage; latency and timeout take an optional
// @duration (the largest delay, the hang bound). "" and "none" mean no faults.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return f, nil
	}
	seen := [numFaultKinds]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return Faults{}, fmt.Errorf("parse fault %q: want kind=rate", item)
		}
		k, ok := faultKindOf(strings.TrimSpace(name))
		if !ok {
			names := faultNames()
			return Faults{}, fmt.Errorf("parse fault %q: unknown kind (want one of %s)", item, strings.Join(names[1:], " "))
		}
		if seen[k] {
			return Faults{}, fmt.Errorf("parse fault %q: %s given twice", item, k)
		}
		seen[k] = true
		rateText, durText, hasDur := strings.Cut(strings.TrimSpace(val), "@")
		r, err := parseRate(strings.TrimSpace(rateText))
		if err != nil {
			return Faults{}, fmt.Errorf("parse fault %q: %w", item, err)
		}
		f.Rate[k] = r
		if hasDur {
			if k != FaultLatency && k != FaultTimeout {
				return Faults{}, fmt.Errorf("parse fault %q: only latency and timeout take @duration", item)
			}
			d, err := time.ParseDuration(strings.TrimSpace(durText))
			if err != nil || d <= 0 || d > maxFaultDelay {
				return Faults{}, fmt.Errorf("parse fault %q: duration must be between 0 and %s, like 250ms", item, maxFaultDelay)
			}
			// A duration on a zero rate never takes effect; keeping it would
			// make two specs that behave alike compare unequal, and String
			// (which omits zero rates) would not round-trip.
			switch {
			case r == 0:
			case k == FaultLatency:
				f.Latency = d
			default:
				f.Timeout = d
			}
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, err
	}
	return f, nil
}

func faultKindOf(name string) (FaultKind, bool) {
	for i, n := range faultNames() {
		if i > 0 && n == name {
			return FaultKind(i), true
		}
	}
	return 0, false
}

func parseRate(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSuffix(s, "%")
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("rate %q is not a number", s)
	}
	if pct {
		r /= 100
	}
	if r < 0 || r > 1 {
		return 0, fmt.Errorf("rate %s outside 0–1 (or 0%%–100%%)", s)
	}
	return r, nil
}

// Validate reports rates outside 0–1, exclusive rates summing above 1, or bad
// durations.
func (f Faults) Validate() error {
	if f.Rate[NoFault] != 0 {
		return fmt.Errorf("validate faults: rate given for no fault")
	}
	sum := 0.0
	for _, k := range FaultKinds() {
		r := f.Rate[k]
		if math.IsNaN(r) || r < 0 || r > 1 {
			return fmt.Errorf("validate faults: %s rate %v outside 0–1", k, r)
		}
		if k.exclusive() {
			sum += r
		}
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("validate faults: 5xx, timeout, malformed, truncated and ratelimit rates sum to %v, above 1", sum)
	}
	if f.Latency < 0 || f.Latency > maxFaultDelay || f.Timeout < 0 || f.Timeout > maxFaultDelay {
		return fmt.Errorf("validate faults: latency and timeout must be between 0 and %s", maxFaultDelay)
	}
	return nil
}

// String returns the canonical spec, which ParseFaults reads back to an equal
// value; "none" when nothing is injected.
func (f Faults) String() string {
	var parts []string
	for _, k := range FaultKinds() {
		if f.Rate[k] == 0 {
			continue
		}
		p := k.String() + "=" + strconv.FormatFloat(f.Rate[k], 'g', -1, 64)
		if k == FaultLatency && f.Latency != 0 {
			p += "@" + f.Latency.String()
		}
		if k == FaultTimeout && f.Timeout != 0 {
			p += "@" + f.Timeout.String()
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// Fault is what to do wrong with one request. The zero value is a normal
// answer.
type Fault struct {
	// Kind is the response-level fault, NoFault for a normal answer.
	Kind FaultKind
	// Status is the HTTP status for FaultServerError (500, 502, 503 or 504).
	Status int
	// Delay is the added latency before answering; for FaultTimeout it is the
	// bound on the hang.
	Delay time.Duration
	// Duplicate, OutOfOrder and HighLow spoil the bars of a page answer.
	Duplicate, OutOfOrder, HighLow bool
	// word drives the deterministic choices inside the fault (which bar,
	// where to cut).
	word uint64
}

// Any reports whether the fault changes anything.
func (f Fault) Any() bool {
	return f.Kind != NoFault || f.Delay > 0 || f.Duplicate || f.OutOfOrder || f.HighLow
}

// PageFaults reports whether any page-level fault applies.
func (f Fault) PageFaults() bool { return f.Duplicate || f.OutOfOrder || f.HighLow }

// unit maps a word to [0, 1) with 53 bits.
func unit(w uint64) float64 { return float64(w>>11) / (1 << 53) }

// Decide returns the fault for request number n of stream (a vendor and
// endpoint name): a pure function of the seed, the stream and n, so a failing
// run replays exactly. Each kind is drawn from its own hash, so the rates hold
// independently; the exclusive kinds split one draw.
func (f Faults) Decide(seed uint64, stream string, n uint64) Fault {
	base := mix64(seriesKey(seed, stream) ^ mix64(n+0x0fa17))
	out := Fault{Kind: NoFault, word: mix64(base ^ 0xd00d)}
	u := unit(mix64(base ^ 1))
	acc := 0.0
	for k := FaultServerError; k <= FaultRateLimit; k++ {
		acc += f.Rate[k]
		if u < acc {
			out.Kind = k
			break
		}
	}
	switch out.Kind {
	case FaultServerError:
		out.Status = [4]int{500, 502, 503, 504}[out.word%4]
	case FaultTimeout:
		out.Delay = cmpOr(f.Timeout, DefaultTimeout)
	}
	if out.Kind != FaultTimeout && unit(mix64(base^2)) < f.Rate[FaultLatency] {
		lat := cmpOr(f.Latency, DefaultLatency)
		out.Delay = time.Duration(1 + mix64(base^3)%uint64(lat)) //nolint:gosec // hash mixing: wrapping is intended
	}
	out.Duplicate = unit(mix64(base^4)) < f.Rate[FaultDuplicate]
	out.OutOfOrder = unit(mix64(base^5)) < f.Rate[FaultOutOfOrder]
	out.HighLow = unit(mix64(base^6)) < f.Rate[FaultHighLow]
	return out
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Wait sleeps for the fault's delay, or until ctx ends (the client gave up),
// whichever is first. It returns ctx's error when the client gave up, so a
// handler knows not to answer. For FaultTimeout the handler then answers
// nothing useful either way.
func (f Fault) Wait(ctx context.Context) error {
	if f.Delay <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Truncate cuts a rendered body short at a deterministic point, keeping at
// least one byte and dropping at least one.
func (f Fault) Truncate(body []byte) []byte {
	if len(body) < 2 {
		return body[:0]
	}
	cut := 1 + int(f.word%uint64(len(body)-1)) //nolint:gosec // hash mixing: wrapping is intended
	return body[:cut]
}

// Malform spoils a rendered JSON body so that no JSON parser accepts it:
// either one name separator becomes '=' or the body is replaced by the HTML
// error page a proxy in front of the vendor might send.
func (f Fault) Malform(body []byte) []byte {
	// Only a colon outside strings is a name separator: one inside a value
	// ("18:46:00") turned into '=' would leave the body valid.
	var seps []int
	inString, escaped := false, false
	for i, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && c == ':':
			seps = append(seps, i)
		}
	}
	if len(seps) == 0 || f.word&1 == 1 {
		return []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
	}
	out := bytes.Clone(body)
	out[seps[int(f.word>>1)%len(seps)]] = '='
	return out
}

// SpoilPage applies the page-level faults to bars (ascending, as generated)
// and returns the spoiled page; bars itself is not modified. next is the bar
// just after the page's newer end (the one a following newer page starts
// with) if the caller knows it; the duplicate fault adds it so that two pages
// overlap, and without it repeats the page's newest bar.
func (f Fault) SpoilPage(bars []vendor.Bar, next *vendor.Bar) []vendor.Bar {
	if !f.PageFaults() || len(bars) == 0 {
		return bars
	}
	out := append(make([]vendor.Bar, 0, len(bars)+1), bars...)
	if f.Duplicate {
		if next != nil {
			out = append(out, *next)
		} else {
			out = append(out, out[len(out)-1])
		}
	}
	if f.OutOfOrder && len(out) >= 2 {
		i := int(mix64(f.word^7) % uint64(len(out)-1)) //nolint:gosec // hash mixing: wrapping is intended
		out[i], out[i+1] = out[i+1], out[i]
	}
	if f.HighLow {
		i := int(mix64(f.word^8) % uint64(len(out))) //nolint:gosec // hash mixing: wrapping is intended
		b := out[i]
		b.High, b.Low = b.Low, b.High
		if b.High.Cmp(b.Low) >= 0 { // a flat bar: push the high one tick under the low
			b.High = oneTickBelow(b.Low)
		}
		out[i] = b
	}
	return out
}

func oneTickBelow(d decimal.Decimal) decimal.Decimal {
	c := d.Coefficient()
	if c.IsInt64() {
		return decimal.New(c.Int64()-1, d.Scale())
	}
	return decimal.NewFromBig(c.Sub(c, big.NewInt(1)), d.Scale())
}
