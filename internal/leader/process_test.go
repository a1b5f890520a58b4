package leader_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// buildSyncd builds the real binary into a temporary directory.
func buildSyncd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "syncd")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/syncd/syncd/cmd/syncd")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build syncd: %s", out)
	return bin
}

// fetchLog records which process each vendor request came from. Each process
// gets its own base URL, /<name>/, in front of the same simulator, so the
// simulator sees one API key while the test can tell the callers apart.
type fetchLog struct {
	h       http.Handler
	mu      sync.Mutex
	by      []string    // process name per request, in arrival order
	at      []time.Time // arrival time per request
	ends    map[string][]int64
	arrived chan struct{}
}

func (f *fetchLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || strings.HasPrefix(name, "_") {
		f.h.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.by = append(f.by, name)
	f.at = append(f.at, time.Now())
	if strings.HasSuffix(rest, "/kline") {
		// A history page: remember where it ends (0: the latest bars).
		var q alltick.Request[alltick.KlineQuery]
		if json.Unmarshal([]byte(r.URL.Query().Get("query")), &q) == nil {
			f.ends[name] = append(f.ends[name], q.Data.KlineTimestampEnd)
		}
	}
	f.mu.Unlock()
	select {
	case f.arrived <- struct{}{}:
	default:
	}
	r.URL.Path = "/" + rest
	f.h.ServeHTTP(w, r)
}

// count returns how many requests name made, and its first and last arrival.
func (f *fetchLog) count(name string) (n int, first, last time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, by := range f.by {
		if by == name {
			if n == 0 {
				first = f.at[i]
			}
			n, last = n+1, f.at[i]
		}
	}
	return n, first, last
}

// waitFor waits until cond holds, re-checking whenever a request arrives or
// output is written, failing the test after a generous bound.
func (f *fetchLog) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond) // log lines do not signal
	defer tick.Stop()
	for !cond() {
		select {
		case <-f.arrived:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// lockedBuffer collects a process's log safely while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type process struct {
	cmd  *exec.Cmd
	logs *lockedBuffer
	done chan error
}

// TestTwoProcessesFetchOneAtATimeAndTheOtherTakesOverAfterKill9 runs two real
// `syncd run` processes with the same vendor key and database against the
// simulator. Only the first fetches while the second waits; after kill -9 of
// the first, the second takes over, and no request of the two ever overlaps.
func TestTwoProcessesFetchOneAtATimeAndTheOtherTakesOverAfterKill9(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	bin := buildSyncd(t)

	p, err := plan.Lookup(vendor.AllTick, "basic")
	require.NoError(t, err)
	srv, err := sim.New(sim.Config{Plan: p, Seed: 3, RootVendor: vendor.AllTick})
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.AllTick, sim.AllTick))
	fl := &fetchLog{h: srv, ends: map[string][]int64{}, arrived: make(chan struct{}, 1)}
	hs := httptest.NewServer(fl)
	defer hs.Close()

	start := func(name string) *process {
		cmd := exec.CommandContext(t.Context(), bin, "run")
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
			"SYNCD_DATABASE_URL=" + dbURL,
			"SYNCD_VENDOR=alltick", "SYNCD_VENDOR_URL=" + hs.URL + "/" + name,
			"SYNCD_VENDOR_TOKEN=two-process-key", "SYNCD_PLAN=basic",
			// 30 days of 1m bars is about 90 history pages: at basic's one
			// request per second, backfill keeps the fetcher busy throughout.
			"SYNCD_SYMBOLS=BTCUSDT", "SYNCD_TIMEFRAMES=1m", "SYNCD_BACKFILL_SINCE=30d",
			"SYNCD_HTTP_ADDR=", "SYNCD_LOG_FORMAT=json",
			// The simulator runs in this test process, and on a busy machine
			// its handler can start 25 ms and more after a request left: far
			// more than the network jitter the default margin is for.
			"SYNCD_QUOTA_MARGIN=50ms",
		}
		pr := &process{cmd: cmd, logs: &lockedBuffer{}, done: make(chan error, 1)}
		cmd.Stdout, cmd.Stderr = pr.logs, pr.logs
		require.NoError(t, cmd.Start())
		go func() { pr.done <- cmd.Wait() }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-pr.done
			if t.Failed() {
				t.Logf("%s's log:\n%s", name, pr.logs.String())
			}
		})
		return pr
	}

	a := start("a")
	fl.waitFor(t, "a to fetch", func() bool { n, _, _ := fl.count("a"); return n >= 2 })
	b := start("b")
	fl.waitFor(t, "b to wait for the lock", func() bool {
		return strings.Contains(b.logs.String(), "another process holds the fetch lock")
	})
	// Give b several of its lock polls (2 s each, then 4 s before fetching)
	// to misbehave while a keeps fetching.
	nA, _, _ := fl.count("a")
	fl.waitFor(t, "a to fetch on", func() bool { n, _, _ := fl.count("a"); return n >= nA+8 })
	nB, _, _ := fl.count("b")
	require.Zero(t, nB, "b fetched while a held the lock")

	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	require.Error(t, <-a.done, "a was killed")
	a.done <- nil // for the cleanup
	killed := time.Now()
	fl.waitFor(t, "b to take over", func() bool { n, _, _ := fl.count("b"); return n >= 3 })
	// b stops gracefully on SIGTERM; then nothing changes while we count.
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	err = <-b.done
	b.done <- err // for the cleanup
	require.NoError(t, err, "b exits 0 after SIGTERM")

	nA, _, lastA := fl.count("a")
	nB, firstB, _ := fl.count("b")
	t.Logf("a made %d requests, b %d; b's first came %s after the kill", nA, nB, firstB.Sub(killed).Round(time.Millisecond))
	require.True(t, firstB.After(killed) && firstB.After(lastA), "b fetched only after a died: never both at once")
	require.Contains(t, b.logs.String(), "fetch lock acquired; this process is the active fetcher")
	// b continues the backfill from the stored state: its first history page
	// is a's last one again (when a died before storing it) or the one just
	// older, not the latest bars again.
	fl.mu.Lock()
	endsA, endsB := fl.ends["a"], fl.ends["b"]
	fl.mu.Unlock()
	t.Logf("history pages end at: a %v, b %v", endsA, endsB)
	require.NotEmpty(t, endsA)
	require.NotEmpty(t, endsB)
	lastEnd := endsA[len(endsA)-1]
	require.NotZero(t, endsB[0], "b started over from the latest bars")
	require.LessOrEqual(t, endsB[0], lastEnd)
	require.GreaterOrEqual(t, endsB[0], lastEnd-int64(alltick.PageSize*60), "no page skipped")

	snap, err := sim.FetchStats(t.Context(), hs.Client(), hs.URL)
	require.NoError(t, err)
	require.Empty(t, snap.Total.Refused, "one key, one fetcher: the vendor refused nothing")
	require.EqualValues(t, nA+nB, snap.Total.Requests)
}
