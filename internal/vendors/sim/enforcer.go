package sim

import (
	"fmt"
	"sync"
	"time"

	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// Reason names the plan dimension a request broke.
type Reason string

// Reasons, in the order the Enforcer checks them: a malformed request first,
// then the day's budget, then the pacing rules from the most specific to the
// broadest.
const (
	ReasonBatch         Reason = "batch"          // more groups or codes than the plan allows in one request
	ReasonDaily         Reason = "daily"          // the day's cap is used up
	ReasonSpacing       Reason = "spacing"        // too soon after the previous request to this endpoint
	ReasonGlobalSpacing Reason = "global_spacing" // too soon after the previous request to any endpoint
	ReasonPerSecond     Reason = "per_second"     // more than the plan's requests in some 1 s window
	ReasonPerMinute     Reason = "per_minute"     // more than the plan's requests in some 60 s window
)

// Reasons lists every Reason in check order.
func Reasons() []Reason {
	return []Reason{ReasonBatch, ReasonDaily, ReasonSpacing, ReasonGlobalSpacing, ReasonPerSecond, ReasonPerMinute}
}

// Decision is the Enforcer's verdict on one request.
type Decision struct {
	// Allowed is true when the request is within the plan.
	Allowed bool
	// Reason is the first dimension the request broke; "" when allowed.
	Reason Reason
	// Detail says what was exceeded, for the vendor's error message and logs.
	Detail string
	// RetryAt is the earliest instant at which the same request could be
	// admitted if nothing else arrived meanwhile; zero for ReasonBatch, which
	// no amount of waiting fixes.
	RetryAt time.Time
}

// Enforcer is the vendor side of a plan: it admits or refuses each request as
// a strict vendor would, independently of syncd's own governor, so that a
// client exceeding its plan is caught.
//
// Counting rules:
//   - Sliding windows are exact: a request is refused when admitting it would
//     put more than PerSecond requests into some 1 s window, or more than
//     PerMinute into some 60 s window. Windows are half-open, so two requests
//     exactly 1 s apart never share a 1 s window, and a client pacing itself
//     at exactly the plan's rate is never refused.
//   - Spacing is measured between arrivals: a request exactly Spacing after
//     the previous one to its endpoint is admitted.
//   - Every arrival counts toward spacing and the windows, refused ones
//     included, as a vendor's front-line limiter counts every hit: a client
//     that keeps retrying into a refusal keeps being refused, so a violation
//     shows instead of healing itself.
//   - Only admitted requests count toward the daily cap (a refused request is
//     not served, and a strict vendor does not bill it); the count restarts
//     at the plan's daily reset (Plan.DayStart/NextReset).
//
// A zero limit is no limit, so a zero Plan admits everything. Arrival times
// that go backwards (clock steps) are treated as the latest arrival seen.
// Safe for concurrent use.
type Enforcer struct {
	mu       sync.Mutex
	p        plan.Plan
	lastEP   map[vendor.Endpoint]time.Time
	last     time.Time
	latest   time.Time // latest arrival, for the monotonic clamp
	sec, min ring
	day      time.Time // start of the current quota day
	reset    time.Time // next daily reset
	used     int       // admitted requests since day
}

// NewEnforcer returns an Enforcer for p with no history.
func NewEnforcer(p plan.Plan) *Enforcer {
	e := &Enforcer{p: p}
	e.Reset()
	return e
}

// Plan returns the plan being enforced.
func (e *Enforcer) Plan() plan.Plan { return e.p }

// Reset forgets every past request, as if the key were new.
func (e *Enforcer) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastEP = make(map[vendor.Endpoint]time.Time)
	e.last, e.latest, e.day, e.reset = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	e.used = 0
	e.sec = ring{limit: e.p.PerSecond, window: time.Second}
	e.min = ring{limit: e.p.PerMinute, window: time.Minute}
}

// UsedToday returns how many requests were admitted in the quota day that
// contains at.
func (e *Enforcer) UsedToday(at time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.day.IsZero() || at.Before(e.day) || !at.Before(e.reset) {
		return 0
	}
	return e.used
}

// Admit decides on one request to ep carrying items groups (latest bars) or
// codes (trades) that arrives at at, and records it.
func (e *Enforcer) Admit(ep vendor.Endpoint, items int, at time.Time) Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	if at.Before(e.latest) {
		at = e.latest
	}
	e.latest = at
	if e.day.IsZero() || !at.Before(e.reset) { // track the day even without a cap, for UsedToday
		e.day, e.reset, e.used = e.p.DayStart(at), e.p.NextReset(at), 0
	}

	d := e.check(ep, items, at)

	// Record the arrival.
	e.lastEP[ep] = at
	e.last = at
	e.sec.add(at)
	e.min.add(at)
	if d.Allowed {
		e.used++
		return d
	}
	// The windows now hold this arrival too; retrying is useful once the
	// oldest arrival that fills the window has left it.
	switch d.Reason {
	case ReasonPerSecond:
		d.RetryAt = e.sec.freeAt()
	case ReasonPerMinute:
		d.RetryAt = e.min.freeAt()
	case ReasonSpacing:
		d.RetryAt = at.Add(e.p.Spacing[ep])
	case ReasonGlobalSpacing:
		d.RetryAt = at.Add(e.p.GlobalSpacing)
	}
	return d
}

func (e *Enforcer) check(ep vendor.Endpoint, items int, at time.Time) Decision {
	var capN int
	switch ep {
	case vendor.EndpointLatest:
		capN = e.p.BatchMax
	case vendor.EndpointTrades:
		capN = e.p.TradeCodesMax
	}
	if capN > 0 && items > capN {
		return Decision{Reason: ReasonBatch, Detail: fmt.Sprintf("%d items in one %s request, plan allows %d", items, ep, capN)}
	}
	if e.p.PerDay > 0 && e.used >= e.p.PerDay {
		return Decision{Reason: ReasonDaily, RetryAt: e.reset,
			Detail: fmt.Sprintf("daily cap of %d requests used up until %s", e.p.PerDay, e.reset.UTC().Format(time.RFC3339))}
	}
	if sp := e.p.Spacing[ep]; sp > 0 {
		if prev, ok := e.lastEP[ep]; ok && at.Sub(prev) < sp {
			return Decision{Reason: ReasonSpacing, Detail: fmt.Sprintf("%s request %s after the previous one, plan requires %s", ep, at.Sub(prev), sp)}
		}
	}
	if sp := e.p.GlobalSpacing; sp > 0 && !e.last.IsZero() && at.Sub(e.last) < sp {
		return Decision{Reason: ReasonGlobalSpacing, Detail: fmt.Sprintf("request %s after the previous one, plan requires %s", at.Sub(e.last), sp)}
	}
	if e.sec.full(at) {
		return Decision{Reason: ReasonPerSecond, Detail: fmt.Sprintf("more than %d requests in 1s", e.p.PerSecond)}
	}
	if e.min.full(at) {
		return Decision{Reason: ReasonPerMinute, Detail: fmt.Sprintf("more than %d requests in 60s", e.p.PerMinute)}
	}
	return Decision{Allowed: true}
}

// ring keeps the latest limit arrival times (Unix nanoseconds). With every
// arrival recorded, the window (t−window, t] already holds limit requests
// exactly when the limit-th most recent arrival is inside it, so one
// comparison decides and memory stays bounded by the limit. The buffer grows
// on demand, so a huge custom limit costs nothing until traffic uses it.
type ring struct {
	limit  int
	window time.Duration
	buf    []int64
	next   int // index of the oldest entry once buf is full
}

func (r *ring) add(t time.Time) {
	if r.limit <= 0 {
		return
	}
	if len(r.buf) < r.limit {
		r.buf = append(r.buf, t.UnixNano())
		return
	}
	r.buf[r.next] = t.UnixNano()
	r.next = (r.next + 1) % r.limit
}

// oldest returns the limit-th most recent arrival; ok is false until limit
// arrivals have been seen.
func (r *ring) oldest() (int64, bool) {
	if r.limit <= 0 || len(r.buf) < r.limit {
		return 0, false
	}
	return r.buf[r.next], true
}

// full reports whether (t−window, t] already holds limit arrivals.
func (r *ring) full(t time.Time) bool {
	o, ok := r.oldest()
	return ok && o > t.UnixNano()-int64(r.window)
}

// freeAt returns when the window stops being full if nothing else arrives.
func (r *ring) freeAt() time.Time {
	o, ok := r.oldest()
	if !ok {
		return time.Time{}
	}
	return time.Unix(0, o+int64(r.window)).UTC()
}
