package sim

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/clock"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
)

// Core is the vendor-agnostic heart of the simulator that every vendor's
// wire handler calls: the clock, the bar generator, plan enforcement per API
// key, fault decisions and statistics. A handler's life for one request:
//
//	call := core.Begin(ctx, vendor.AllTick, token, vendor.EndpointHistory, 1)
//	if !call.Decision.Allowed { render the vendor's limit error; return }
//	if err := call.Fault.Wait(ctx); err != nil { return }       // latency, timeout
//	switch call.Fault.Kind { case FaultServerError, FaultRateLimit, FaultTimeout: render; return }
//	bars, err := core.Page(call, spec, end, n)                   // page faults applied
//	body := render(bars)
//	Truncate or Malform body when the fault says so
//
// Safe for concurrent use.
type Core struct {
	gen    *Generator
	clk    clock.Clock
	plan   plan.Plan
	faults Faults
	seed   uint64
	log    *zap.Logger
	stats  *Stats

	mu        sync.Mutex
	enforcers map[enforcerKey]*Enforcer
	counters  map[statKey]uint64
}

type enforcerKey struct{ vendor, key string }

// arrivalKey keys a request's arrival time (time.Time) in its context, set by
// Server.ServeHTTP; Begin uses the clock's now for a request without one.
type arrivalKey struct{}

func withArrival(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, arrivalKey{}, at)
}

// Call is one vendor request as the core decided it.
type Call struct {
	// Vendor and Endpoint identify the request stream.
	Vendor   string
	Endpoint vendor.Endpoint
	// Now is the simulator's time at arrival; every bar the handler serves
	// for this request is as of Now.
	Now time.Time
	// N numbers the request within its vendor endpoint, from 0.
	N uint64
	// Decision is the plan's verdict.
	Decision Decision
	// Fault is what to do wrong; a refused request gets no fault.
	Fault Fault

	core *Core
}

// Begin admits (or refuses) one request from API key apiKey to ep carrying
// items groups or codes, decides its fault and records both. Each API key has
// its own plan state, as at a real vendor. The request arrived when
// Server.ServeHTTP stamped ctx, or now for a ctx it did not stamp.
func (c *Core) Begin(ctx context.Context, vendorName, apiKey string, ep vendor.Endpoint, items int) *Call {
	now, ok := ctx.Value(arrivalKey{}).(time.Time)
	if !ok {
		now = c.clk.Now()
	}
	c.mu.Lock()
	k := enforcerKey{vendorName, apiKey}
	e, ok := c.enforcers[k]
	if !ok {
		e = NewEnforcer(c.plan)
		c.enforcers[k] = e
	}
	sk := statKey{vendorName, ep}
	n := c.counters[sk]
	c.counters[sk] = n + 1
	c.mu.Unlock()

	call := &Call{Vendor: vendorName, Endpoint: ep, Now: now, N: n, core: c, Fault: Fault{Kind: NoFault}}
	call.Decision = e.Admit(ep, items, now)
	c.stats.Request(vendorName, ep, call.Decision)
	if !call.Decision.Allowed {
		c.log.Debug("request refused by plan", zap.String("vendor", vendorName), zap.String("endpoint", string(ep)),
			zap.String("reason", string(call.Decision.Reason)), zap.String("detail", call.Decision.Detail))
		return call
	}
	call.Fault = c.faults.Decide(c.seed, vendorName+"/"+string(ep), n)
	if call.Fault.Kind != NoFault {
		c.stats.Fault(vendorName, ep, call.Fault.Kind)
		c.log.Debug("fault injected", zap.String("vendor", vendorName), zap.String("endpoint", string(ep)),
			zap.Stringer("fault", call.Fault.Kind), zap.Uint64("request", n))
	}
	if call.Fault.Kind != FaultTimeout && call.Fault.Delay > 0 {
		c.stats.Fault(vendorName, ep, FaultLatency)
	}
	return call
}

// Spoil applies the call's page-level faults to a page of bars (ascending),
// counting each one applied. next is the bar just after the page's newer end
// when known (see Fault.SpoilPage).
func (call *Call) Spoil(bars []vendor.Bar, next *vendor.Bar) []vendor.Bar {
	f := call.Fault
	if !f.PageFaults() || len(bars) == 0 {
		return bars
	}
	c := call.core
	if f.Duplicate {
		c.stats.Fault(call.Vendor, call.Endpoint, FaultDuplicate)
	}
	if f.OutOfOrder && len(bars)+btoi(f.Duplicate) >= 2 {
		c.stats.Fault(call.Vendor, call.Endpoint, FaultOutOfOrder)
	}
	if f.HighLow {
		c.stats.Fault(call.Vendor, call.Endpoint, FaultHighLow)
	}
	return f.SpoilPage(bars, next)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Page returns a backward history page for the call: up to n bars of s with
// open time ≤ end as of call.Now (ascending, the newest possibly forming),
// with the call's page faults applied. A duplicate fault repeats the bar just
// after end, the first bar of the newer page the client fetched before.
func (c *Core) Page(call *Call, s Spec, end time.Time, n int) ([]vendor.Bar, error) {
	bars, err := c.gen.Last(s, end, n, call.Now)
	if err != nil || len(bars) == 0 || !call.Fault.PageFaults() {
		return bars, err
	}
	var next *vendor.Bar
	if call.Fault.Duplicate {
		after, err := c.gen.Range(s, bars[len(bars)-1].Time.Add(time.Nanosecond), call.Now.Add(time.Nanosecond), call.Now)
		if err == nil && len(after) > 0 {
			next = &after[0]
		}
	}
	return call.Spoil(bars, next), nil
}

// Latest returns the n newest bars of s as of call.Now (ascending: the ones
// that just closed and the one forming), with the call's page faults applied.
func (c *Core) Latest(call *Call, s Spec, n int) ([]vendor.Bar, error) {
	bars, err := c.gen.Last(s, call.Now, n, call.Now)
	if err != nil {
		return nil, err
	}
	return call.Spoil(bars, nil), nil
}

// Generator returns the bar generator, for handlers that need more than
// Page and Latest.
func (c *Core) Generator() *Generator { return c.gen }

// Now returns the simulator's current time.
func (c *Core) Now() time.Time { return c.clk.Now() }

// Logger returns the simulator's logger (never nil).
func (c *Core) Logger() *zap.Logger { return c.log }

// Plan returns the plan every API key is held to.
func (c *Core) Plan() plan.Plan { return c.plan }

// Truth returns the ground truth for end-to-end tests: every bar of s opening
// in [from, to) that is final at the simulator's current time, exactly as it
// will be served from now on. Compare the database with it row by row.
func (c *Core) Truth(s Spec, from, to time.Time) ([]vendor.Bar, error) {
	return c.gen.Final(s, from, to, c.clk.Now())
}

// Stats returns a copy of the counters.
func (c *Core) Stats() Snapshot { return c.stats.Snapshot(c.clk.Now()) }

// UsedToday returns how many requests the plan admitted today for a key.
func (c *Core) UsedToday(vendorName, apiKey string) int {
	c.mu.Lock()
	e := c.enforcers[enforcerKey{vendorName, apiKey}]
	c.mu.Unlock()
	if e == nil {
		return 0
	}
	return e.UsedToday(c.clk.Now())
}

// Reset zeroes the statistics, forgets every key's plan usage and restarts
// the fault sequences, so a test can start from a clean vendor.
func (c *Core) Reset() {
	c.mu.Lock()
	c.enforcers = make(map[enforcerKey]*Enforcer)
	c.counters = make(map[statKey]uint64)
	c.mu.Unlock()
	c.stats.Reset(c.clk.Now())
}
