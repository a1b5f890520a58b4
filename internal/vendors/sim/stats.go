package sim

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// EndpointStats are the counters of one vendor endpoint.
type EndpointStats struct {
	Vendor   string          `json:"vendor"`
	Endpoint vendor.Endpoint `json:"endpoint"`
	// Requests counts every request that reached the core.
	Requests uint64 `json:"requests"`
	// Accepted counts requests the plan admitted (faults may still spoil them).
	Accepted uint64 `json:"accepted"`
	// Refused counts plan refusals by reason; Requests = Accepted + Σ Refused.
	Refused map[Reason]uint64 `json:"refused"`
	// Faults counts injected faults by kind name.
	Faults map[string]uint64 `json:"faults"`
}

// Snapshot is the JSON body of /_sim/stats.
type Snapshot struct {
	// Since is when counting started (creation or the last reset), in the
	// simulator's time.
	Since time.Time `json:"since"`
	// Now is the simulator's time of the snapshot.
	Now time.Time `json:"now"`
	// Endpoints holds one entry per vendor endpoint seen, sorted.
	Endpoints []EndpointStats `json:"endpoints"`
	// Total sums every endpoint.
	Total EndpointStats `json:"total"`
}

// Stats counts requests, plan verdicts and faults per vendor endpoint. Safe
// for concurrent use.
type Stats struct {
	mu    sync.Mutex
	since time.Time
	by    map[statKey]*EndpointStats
}

type statKey struct {
	vendor string
	ep     vendor.Endpoint
}

// NewStats returns empty counters starting at since.
func NewStats(since time.Time) *Stats {
	return &Stats{since: since, by: make(map[statKey]*EndpointStats)}
}

func (s *Stats) entry(v string, ep vendor.Endpoint) *EndpointStats {
	k := statKey{v, ep}
	e, ok := s.by[k]
	if !ok {
		e = &EndpointStats{Vendor: v, Endpoint: ep, Refused: map[Reason]uint64{}, Faults: map[string]uint64{}}
		s.by[k] = e
	}
	return e
}

// Request records one request and the plan's verdict.
func (s *Stats) Request(v string, ep vendor.Endpoint, d Decision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entry(v, ep)
	e.Requests++
	if d.Allowed {
		e.Accepted++
	} else {
		e.Refused[d.Reason]++
	}
}

// Fault records one injected fault.
func (s *Stats) Fault(v string, ep vendor.Endpoint, k FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entry(v, ep).Faults[k.String()]++
}

// Reset zeroes every counter and restarts counting at since.
func (s *Stats) Reset(since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.since = since
	s.by = make(map[statKey]*EndpointStats)
}

// Snapshot copies the counters.
func (s *Stats) Snapshot(now time.Time) Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Snapshot{Since: s.since, Now: now, Endpoints: make([]EndpointStats, 0, len(s.by)),
		Total: EndpointStats{Refused: map[Reason]uint64{}, Faults: map[string]uint64{}}}
	for _, e := range s.by {
		c := *e
		c.Refused, c.Faults = make(map[Reason]uint64, len(e.Refused)), make(map[string]uint64, len(e.Faults))
		out.Total.Requests += e.Requests
		out.Total.Accepted += e.Accepted
		for k, v := range e.Refused {
			c.Refused[k] = v
			out.Total.Refused[k] += v
		}
		for k, v := range e.Faults {
			c.Faults[k] = v
			out.Total.Faults[k] += v
		}
		out.Endpoints = append(out.Endpoints, c)
	}
	slices.SortFunc(out.Endpoints, func(a, b EndpointStats) int {
		return cmp.Or(cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Endpoint, b.Endpoint))
	})
	return out
}
