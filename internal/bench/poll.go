package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/syncd/syncd/internal/calendar"
	"github.com/syncd/syncd/internal/incremental"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/quota"
	"github.com/syncd/syncd/internal/secret"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// Poll is the measured live poll tick.
type Poll struct {
	Groups, Ticks, Requests int
	// Bars is how many bars one tick fetched and upserted.
	Bars          int
	P50, P99, Max time.Duration
	// Updated and Unchanged sum the store's verdicts over the measured ticks.
	Updated, Unchanged, Inserted int
}

// pollRig is a poller wired to the simulator and a fresh store: what the
// poll-tick phase and BenchmarkPollTick both measure.
type pollRig struct {
	poller *incremental.Poller
	stop   func()
}

func newPollRig(ctx context.Context, db *database, seed uint64, groups int) (*pollRig, error) {
	p, err := plan.Lookup(vendor.AllTick, fmt.Sprintf("custom:batch=%d", groups))
	if err != nil {
		return nil, err
	}
	simu, err := startSim(ctx, seed, p)
	if err != nil {
		return nil, err
	}
	st, err := db.store(ctx, "poll")
	if err != nil {
		simu.stop()
		return nil, err
	}
	stop := func() { st.Close(); simu.stop() }
	gov, err := quota.New(quota.Config{Plan: p})
	if err != nil {
		stop()
		return nil, err
	}
	client, err := alltick.New(alltick.Config{BaseURL: simu.url, Token: secret.New("bench-token"), Gate: gov, BatchMax: groups})
	if err != nil {
		stop()
		return nil, err
	}
	cal, err := calendar.New()
	if err != nil {
		stop()
		return nil, err
	}
	series := cryptoSeries(groups, vendor.TF1m)
	caps := make(map[vendor.Series]vendor.Capabilities, len(series))
	for _, s := range series {
		if caps[s], err = client.Capabilities(s.Symbol); err != nil {
			stop()
			return nil, err
		}
	}
	poller, err := incremental.New(incremental.Config{Client: client, Store: st, Series: series, Caps: caps, Calendar: cal,
		PlanMax: groups, Interval: time.Second, Lane: gov.Live})
	if err != nil {
		stop()
		return nil, err
	}
	if err := poller.Init(ctx); err != nil {
		stop()
		return nil, err
	}
	// The first tick inserts every series' two bars; the measured ones are the
	// steady state, where the closed bar is unchanged and the forming one moves.
	if _, err := poller.Tick(ctx); err != nil {
		stop()
		return nil, fmt.Errorf("first tick: %w", err)
	}
	return &pollRig{poller: poller, stop: stop}, nil
}

func measurePoll(ctx context.Context, db *database, cfg Config) (*Poll, error) {
	rig, err := newPollRig(ctx, db, cfg.Seed, cfg.PollGroups)
	if err != nil {
		return nil, err
	}
	defer rig.stop()
	out := &Poll{Groups: cfg.PollGroups, Ticks: cfg.PollTicks}
	took := make([]time.Duration, 0, cfg.PollTicks)
	for range cfg.PollTicks {
		start := time.Now()
		r, err := rig.poller.Tick(ctx)
		d := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("tick: %w", err)
		}
		took = append(took, d)
		out.Requests = r.Requests
		out.Bars = r.Written.Inserted + r.Written.Updated + r.Written.Unchanged
		out.Inserted += r.Written.Inserted
		out.Updated += r.Written.Updated
		out.Unchanged += r.Written.Unchanged
	}
	out.P50, out.P99 = percentile(took, 50), percentile(took, 99)
	out.Max = slices.Max(took)
	return out, nil
}

// percentile returns the nearest-rank q-th percentile of ds.
func percentile(ds []time.Duration, q int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (q*len(s) + 99) / 100 // ceil(q/100 × n)
	return s[min(max(rank, 1), len(s))-1]
}
