//go:build chaos

package chaos

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/failpoint"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// lockAcquired is logged when a process starts fetching (package leader).
const lockAcquired = "fetch lock acquired"

// TestKillAnywhere SIGKILLs syncd at seeded random moments after it starts
// fetching, during the backfill and then during live polling, restarting it
// each time; the persisted daily count must never go down.
func TestKillAnywhere(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, *flagKills, 20, "-chaos.kills: the issue asks for at least 20")
	// Ten hours of history per kill, some 30 pages per series, about 90 in
	// all: killed within a dozen pages, roughly half the processes die in
	// the backfill.
	h := newHarness(t, scenario{symbols: []string{"BTCUSDT", "ETHUSDT", "EURUSD"}, tf: vendor.TF1m,
		history: time.Duration(*flagKills) * 10 * time.Hour})
	rng := rand.New(rand.NewPCG(*flagSeed, nameHash(t.Name())))
	minEach := *flagKills / 3
	var kills, duringBackfill, duringPolling int
	var quota int64
	for kills < *flagKills || duringPolling < minEach {
		require.Less(t, kills, 4**flagKills, "the backfill never finished")
		backfilling := !h.backfilled()
		d := h.start()
		require.True(t, d.waitLog(lockAcquired, time.Minute), "syncd did not start fetching")
		var wait time.Duration
		var reason string
		if backfilling {
			// Counted in pages, not time, so that how many kills land in the
			// backfill does not depend on how fast this machine is; then a
			// moment more, so the kill falls anywhere in the page's round trip
			// and write.
			pages := 1 + rng.IntN(12)
			wait = time.Duration(rng.Int64N(int64(100 * time.Millisecond)))
			reason = fmt.Sprintf("%d pages and %s", pages, wait.Round(time.Millisecond))
			h.waitHistory(len(h.historyEnds())+pages, 3*time.Second, d)
		} else {
			// A poll tick comes every 2 s: kill within two or three ticks.
			wait = time.Duration(rng.Int64N(int64(5 * time.Second)))
			reason = wait.Round(time.Millisecond).String()
		}
		select {
		case <-time.After(wait):
		case <-d.done:
			t.Fatalf("syncd exited by itself (%s); log %s", d.state, d.log)
		}
		polling := h.backfilled()
		d.kill(t)
		kills++
		if polling {
			duringPolling++
		} else {
			duringBackfill++
		}
		q := h.quotaCount()
		require.GreaterOrEqual(t, q, quota, "the persisted daily count went down after kill %d", kills)
		quota = q
		t.Logf("kill %d after %s while %s; quota count %d", kills, reason, map[bool]string{true: "polling", false: "backfilling"}[polling], q)
	}
	require.GreaterOrEqual(t, duringBackfill, minEach, "kills during the backfill")
	d := h.start()
	h.syncUp()
	stoppedAt := time.Now()
	d.stop(t)
	h.verify(stoppedAt)
	t.Logf("%d kills (%d backfilling, %d polling); %d history requests, %d rows compared", kills, duringBackfill, duringPolling,
		len(h.historyEnds()), h.count(`SELECT count(*) FROM candles`))
}

// TestFailpoints crashes syncd at each named failpoint several times, on a
// seeded hit count, then lets it finish.
func TestFailpoints(t *testing.T) {
	t.Parallel()
	names := map[failpoint.Name]string{failpoint.AfterResponse: "AfterResponse", failpoint.DuringWrite: "DuringWrite", failpoint.AfterCommit: "AfterCommit"}
	for _, fp := range failpoint.Names() {
		t.Run(names[fp], func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, scenario{symbols: []string{"BTCUSDT", "ETHUSDT"}, tf: vendor.TF1m, history: 5 * 24 * time.Hour})
			rng := rand.New(rand.NewPCG(*flagSeed, nameHash(t.Name())))
			var quota int64
			for i := range 4 {
				at := 1 + rng.IntN(3)
				d := h.start(failpoint.Env + "=" + string(fp) + "@" + strconv.Itoa(at))
				select {
				case <-d.done:
				case <-time.After(2 * time.Minute):
					t.Fatalf("failpoint %s@%d was not reached within 2 minutes", fp, at)
				}
				require.True(t, d.waitLog("failpoint "+string(fp)+" hit", 0), "syncd exited (%s) but not at the failpoint; log %s", d.state, d.log)
				ws, ok := d.state.Sys().(syscall.WaitStatus)
				require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "exit at the failpoint: %s", d.state)
				d.requireNoCrash(t)
				q := h.quotaCount()
				require.GreaterOrEqual(t, q, quota, "the persisted daily count went down after crash %d", i+1)
				quota = q
			}
			d := h.start()
			h.syncUp()
			stoppedAt := time.Now()
			d.stop(t)
			h.verify(stoppedAt)
		})
	}
}

// TestDatabaseOutage kills syncd's database connections, then restarts the
// database, while syncd keeps running behind a proxy with a stable address.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg, err := startPostgres(ctx)
	if pg != nil {
		t.Cleanup(pg.terminate)
	}
	require.NoError(t, err)
	h := newHarness(t, scenario{symbols: []string{"BTCUSDT", "ETHUSDT"}, tf: vendor.TF1m, history: 2 * 24 * time.Hour, pg: pg, viaProxy: true})
	d := h.start()
	h.syncUp()
	require.Equal(t, 200, d.status("/readyz"))

	killedAt := h.serverNow()
	n := h.count(`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'syncd' AND pid <> pg_backend_pid()) k`)
	require.Positive(t, n, "no syncd connection to terminate")
	took := eventually(t, time.Minute, "writing to resume after pg_terminate_backend", func() bool { return h.confirmedSince(killedAt) })
	t.Logf("%d connections terminated; writing resumed after %s", n, took.Round(time.Millisecond))

	stopWithin := 10 * time.Second
	require.NoError(t, pg.ctr.Stop(ctx, &stopWithin))
	down := time.Now()
	eventually(t, 30*time.Second, "/readyz to report the outage", func() bool { return d.status("/readyz") == 503 })
	require.Equal(t, 200, d.status("/healthz"), "syncd must stay alive while its database is down")
	// Keep the database away for a while, so that polls and pages fail.
	<-time.After(time.Until(down.Add(8 * time.Second)))
	require.False(t, d.exited(), "syncd exited during the outage: %s", d.state)
	require.NoError(t, pg.ctr.Start(ctx))
	addr, err := pg.addr(ctx)
	require.NoError(t, err)
	h.proxy.setTarget(addr)
	h.reconnect(addr)
	eventually(t, time.Minute, "the restarted database to answer", func() bool { return h.count(`SELECT 1`) == 1 })
	back := h.serverNow()
	took = eventually(t, time.Minute, "writing to resume after the restart", func() bool { return h.confirmedSince(back) })
	t.Logf("database down for %s; writing resumed %s after its return", time.Since(down).Round(time.Second), took.Round(time.Millisecond))
	require.LessOrEqual(t, took, 10*time.Second, "the issue requires writing to resume within 10 s of the database's return")
	eventually(t, 30*time.Second, "/readyz to recover", func() bool { return d.status("/readyz") == 200 })

	stoppedAt := time.Now()
	d.stop(t)
	h.verify(stoppedAt)
}

// TestHalfOpenConnection freezes every database connection syncd has open
// (the proxy stops forwarding without closing them), as when a peer vanishes
// without a FIN; syncd must notice by its deadlines and carry on over new
// connections.
func TestHalfOpenConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, scenario{symbols: []string{"BTCUSDT", "ETHUSDT"}, tf: vendor.TF1m, history: 2 * 24 * time.Hour, viaProxy: true})
	d := h.start()
	h.syncUp()
	frozenAt := h.serverNow()
	n := h.proxy.freeze()
	require.Positive(t, n, "no connection to freeze")
	took := eventually(t, 5*time.Minute, "writing to resume over new connections", func() bool { return h.confirmedSince(frozenAt) })
	t.Logf("%d connections frozen; writing resumed after %s", n, took.Round(time.Millisecond))
	stoppedAt := time.Now()
	d.stop(t)
	h.verify(stoppedAt)
}

// faultSpec injects a fault into 10 % of the simulator's answers, every kind
// the issue names.
const faultSpec = "5xx=2%,timeout=1%@3s,malformed=1.5%,truncated=1.5%,ratelimit=1%,duplicate=1%,outoforder=1%,highlow=1%"

// TestVendorFaults runs syncd against a misbehaving vendor for
// -chaos.faults-for.
func TestVendorFaults(t *testing.T) {
	t.Parallel()
	// The professional plan (10 history pages/s with the governor's margin)
	// and 70 days of three series keep the backfill, and so plenty of
	// requests to spoil, going for about a minute.
	h := newHarness(t, scenario{symbols: []string{"BTCUSDT", "ETHUSDT", "EURUSD"}, tf: vendor.TF1m, history: 70 * 24 * time.Hour,
		faults: faultSpec, plan: "professional"})
	d := h.start()
	select {
	case <-time.After(*flagFaultsFor):
	case <-d.done:
		t.Fatalf("syncd exited under faults (%s); log %s", d.state, d.log)
	}
	h.syncUp()
	stoppedAt := time.Now()
	d.stop(t)
	h.verify(stoppedAt)
	st := h.sim.Core().Stats()
	for _, k := range sim.FaultKinds() {
		if k == sim.FaultLatency {
			continue
		}
		require.Positive(t, st.Total.Faults[k.String()], "no %s fault was injected in %d requests: run longer (faults: %v)", k, st.Total.Requests, st.Total.Faults)
	}
	var highLow uint64
	for _, e := range st.Endpoints {
		if e.Endpoint == vendor.EndpointHistory {
			highLow = e.Faults[sim.FaultHighLow.String()]
		}
	}
	quarantined := h.count(`SELECT count(*) FROM quarantine WHERE reason LIKE 'ohlc:%'`)
	require.GreaterOrEqual(t, quarantined, int64(highLow), "impossible bars in quarantine vs history pages spoiled")
	t.Logf("faults injected: %v over %d requests; %d impossible bars quarantined", st.Total.Faults, st.Total.Requests, quarantined)
}

// TestSecondRunHeadOnly restarts syncd on a complete table two bars later:
// it may fetch only pages at the head, above the newest stored bar, never
// walk history again.
func TestSecondRunHeadOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, scenario{symbols: []string{"BTCUSDT", "ETHUSDT"}, tf: vendor.TF1m, history: 2 * 24 * time.Hour})
	d := h.start()
	h.syncUp()
	d.stop(t)
	first := len(h.historyEnds())
	require.Positive(t, first, "the first run fetched no history")
	var newest time.Time
	require.NoError(t, h.pool.QueryRow(t.Context(), `SELECT max(ts) FROM candles`).Scan(&newest))
	latest := func() uint64 {
		for _, e := range h.sim.Core().Stats().Endpoints {
			if e.Endpoint == vendor.EndpointLatest {
				return e.Requests
			}
		}
		return 0
	}
	polls := latest()

	// Two bars later (plus the engine's 5 s grace) the head holds more than
	// the poller's latest two bars can cover, so the second run has a head
	// page to fetch.
	<-time.After(time.Until(time.Now().Truncate(time.Minute).Add(2*time.Minute + 6*time.Second)))
	d = h.start()
	require.True(t, d.waitLog(lockAcquired, time.Minute), "syncd did not start fetching")
	since := h.serverNow()
	eventually(t, time.Minute, "the second run to poll", func() bool { return h.confirmedSince(since) })
	since = h.serverNow()
	eventually(t, time.Minute, "the second run to poll again", func() bool { return h.confirmedSince(since) })
	stoppedAt := time.Now()
	d.stop(t)
	h.verify(stoppedAt)
	second := h.historyEnds()[first:]
	require.NotEmpty(t, second, "the second run fetched no head page")
	require.LessOrEqual(t, len(second), 2*len(h.series), "history requests in the second run: %q", h.historyAsked(first))
	for _, end := range second {
		require.True(t, end.IsZero() || end.After(newest), "the second run asked for a page ending %s, below the newest stored bar %s", end, newest)
	}
	require.Greater(t, latest(), polls, "the second run did not poll")
	t.Logf("second run: %d head requests, %d polls (first run: %d history requests)", len(second), latest()-polls, first)
}
