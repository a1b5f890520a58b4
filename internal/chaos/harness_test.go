//go:build chaos

package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// scenario describes what one test syncs.
type scenario struct {
	symbols []string
	tf      vendor.Timeframe
	// history is how far back the backfill goes; it sizes the backfill (a 1m
	// page holds 500 bars).
	history time.Duration
	// faults is a sim.ParseFaults spec.
	faults string
	// pg is the server to use; nil means the shared one.
	pg *pgServer
	// viaProxy puts a TCP proxy between syncd and the database.
	viaProxy bool
	// plan is the AllTick plan of the key; "" means chaosPlan.
	plan string
}

// chaosPlan is AllTick's premium plan: 10 requests/s, history spaced 100 ms,
// latest bars every 2 s. Its spacings keep a restarted process within the
// plan however soon after a kill it starts.
const chaosPlan = "premium"

// harness is one scenario's world: a simulator, a database, and the syncd
// processes run against them, one at a time.
type harness struct {
	t       *testing.T
	sc      scenario
	sim     *sim.Server
	simURL  string
	horizon time.Time
	series  []vendor.Series
	db      string
	pg      *pgServer
	pool    *pgxpool.Pool // direct to the database, never through the proxy
	proxy   *proxy
	token   string
	simLog  *observer.ObservedLogs // the simulator's refusals, with what was exceeded

	endsMu  sync.Mutex
	ends    []time.Time   // end time of every history request; zero: the latest page
	asked   []string      // each history request's code, end and size, for failure messages
	grew    chan struct{} // closed and replaced on every history request
	runs    int
	logDir  string
	lastLog string
}

var dbSeq atomic.Int64

func newHarness(t *testing.T, sc scenario) *harness {
	t.Helper()
	ctx := t.Context()
	// The log directory first: its removal then runs after the cleanup that
	// shows the last log of a failed test.
	h := &harness{t: t, sc: sc, pg: sc.pg, token: "chaos-" + strings.ReplaceAll(t.Name(), "/", "-"), logDir: t.TempDir(),
		grew: make(chan struct{})}
	if h.pg == nil {
		h.pg = sharedPG
	}
	if h.sc.plan == "" {
		h.sc.plan = chaosPlan
	}
	p, err := plan.Lookup(vendor.AllTick, h.sc.plan)
	require.NoError(t, err)
	faults, err := sim.ParseFaults(sc.faults)
	require.NoError(t, err)
	core, logs := observer.New(zapcore.DebugLevel)
	h.simLog = logs
	h.sim, err = sim.New(sim.Config{Seed: *flagSeed ^ nameHash(t.Name()), Plan: p, Faults: faults, RootVendor: vendor.AllTick,
		Logger: zap.New(core)})
	require.NoError(t, err)
	require.NoError(t, h.sim.RegisterVendor(vendor.AllTick, sim.AllTick))
	srv := httptest.NewServer(h.countHistory(h.sim))
	t.Cleanup(srv.Close)
	h.simURL = srv.URL

	h.horizon = time.Now().Add(-sc.history).Truncate(time.Minute).UTC()
	for _, s := range sc.symbols {
		h.series = append(h.series, vendor.Series{Vendor: vendor.AllTick, Symbol: s, Timeframe: sc.tf})
	}

	addr, err := h.pg.addr(ctx)
	require.NoError(t, err)
	h.db = fmt.Sprintf("chaos_%d_%d", os.Getpid(), dbSeq.Add(1))
	admin, err := pgx.Connect(ctx, pgURL(addr, "chaos"))
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{h.db}.Sanitize())
	require.NoError(t, err)
	require.NoError(t, admin.Close(ctx))
	t.Cleanup(func() { h.dropDatabase() })
	h.pool, err = pgxpool.New(ctx, pgURL(addr, h.db))
	require.NoError(t, err)
	t.Cleanup(h.pool.Close)
	if sc.viaProxy {
		h.proxy = newProxy(t, addr)
	}
	t.Cleanup(func() {
		if t.Failed() && h.lastLog != "" {
			t.Logf("last syncd log (%s):\n%s", h.lastLog, tail(h.lastLog, 60))
		}
	})
	return h
}

func (h *harness) dropDatabase() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr, err := h.pg.addr(ctx)
	if err != nil {
		h.t.Logf("drop database %s: %v", h.db, err)
		return
	}
	admin, err := pgx.Connect(ctx, pgURL(addr, "chaos"))
	if err != nil {
		h.t.Logf("drop database %s: %v", h.db, err)
		return
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{h.db}.Sanitize()+" WITH (FORCE)"); err != nil {
		h.t.Logf("drop database %s: %v", h.db, err)
	}
}

func nameHash(s string) uint64 {
	f := fnv.New64a()
	_, _ = f.Write([]byte(s))
	return f.Sum64()
}

// countHistory records the end time of every history request before the
// simulator sees it.
func (h *harness) countHistory(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/kline") {
			var q alltick.Request[alltick.KlineQuery]
			if json.Unmarshal([]byte(r.URL.Query().Get("query")), &q) == nil {
				end := time.Time{}
				if q.Data.KlineTimestampEnd != 0 {
					end = time.Unix(q.Data.KlineTimestampEnd, 0).UTC()
				}
				h.endsMu.Lock()
				h.ends = append(h.ends, end)
				h.asked = append(h.asked, fmt.Sprintf("%s end=%s n=%d", q.Data.Code, end.Format(time.RFC3339), q.Data.QueryKlineNum))
				close(h.grew)
				h.grew = make(chan struct{})
				h.endsMu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// historyAsked describes the history requests from the i-th on.
func (h *harness) historyAsked(i int) []string {
	h.endsMu.Lock()
	defer h.endsMu.Unlock()
	return append([]string(nil), h.asked[i:]...)
}

// waitHistory waits until n history requests have been seen in all, or
// until none has come for idle (the walk is over), or d exits. It reports
// whether the n-th request came.
func (h *harness) waitHistory(n int, idle time.Duration, d *daemon) bool {
	for {
		h.endsMu.Lock()
		seen, grew := len(h.ends), h.grew
		h.endsMu.Unlock()
		if seen >= n {
			return true
		}
		select {
		case <-grew:
		case <-time.After(idle):
			return false
		case <-d.done:
			return false
		}
	}
}

// historyEnds returns the end times of the history requests so far.
func (h *harness) historyEnds() []time.Time {
	h.endsMu.Lock()
	defer h.endsMu.Unlock()
	return append([]time.Time(nil), h.ends...)
}

// dbURL is what syncd connects to: the database, through the proxy if any.
func (h *harness) dbURL() string {
	if h.proxy != nil {
		return pgURL(h.proxy.addr(), h.db)
	}
	addr, err := h.pg.addr(h.t.Context())
	require.NoError(h.t, err)
	return pgURL(addr, h.db)
}

// daemon is one syncd process.
type daemon struct {
	cmd      *exec.Cmd
	httpAddr string
	log      string
	done     chan struct{}
	state    *os.ProcessState

	mu    sync.Mutex
	lines []string
	seen  chan struct{} // closed and replaced on every line
}

// start runs `syncd run` with the scenario's configuration and extra
// variables (KEY=VALUE).
func (h *harness) start(extra ...string) *daemon {
	h.t.Helper()
	h.runs++
	d := &daemon{httpAddr: freeAddr(h.t), done: make(chan struct{}), seen: make(chan struct{}),
		log: filepath.Join(h.logDir, fmt.Sprintf("syncd-%02d.log", h.runs))}
	h.lastLog = d.log
	symbols := strings.Join(h.sc.symbols, ",")
	env := make([]string, 0, 16+len(extra))
	env = append(env,
		"PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"),
		"SYNCD_DATABASE_URL="+h.dbURL(), "SYNCD_VENDOR=alltick", "SYNCD_VENDOR_URL="+h.simURL,
		"SYNCD_VENDOR_TOKEN="+h.token, "SYNCD_PLAN="+h.sc.plan, "SYNCD_SYMBOLS="+symbols,
		"SYNCD_TIMEFRAMES="+string(h.sc.tf), "SYNCD_BACKFILL_SINCE="+h.horizon.Format(time.RFC3339),
		"SYNCD_HTTP_ADDR="+d.httpAddr, "SYNCD_LOG_LEVEL=info", "SYNCD_LOG_FORMAT=json", "SYNCD_SHUTDOWN_TIMEOUT=30s",
	)
	if *flagQuotaMargin != "" {
		env = append(env, "SYNCD_QUOTA_MARGIN="+*flagQuotaMargin)
	}
	env = append(env, extra...)
	d.cmd = exec.CommandContext(h.t.Context(), syncdBin, "run")
	d.cmd.Env = env
	f, err := os.Create(d.log)
	require.NoError(h.t, err)
	stderr, err := d.cmd.StderrPipe()
	require.NoError(h.t, err)
	d.cmd.Stdout = f
	require.NoError(h.t, d.cmd.Start())
	var copied sync.WaitGroup
	copied.Go(func() { d.follow(stderr, f) })
	go func() {
		copied.Wait()
		_ = d.cmd.Wait()
		d.state = d.cmd.ProcessState
		_ = f.Close()
		close(d.done)
	}()
	h.t.Cleanup(func() {
		if d.exited() {
			return
		}
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// follow copies the process's log to the file and keeps the lines for
// waitLog.
func (d *daemon) follow(r io.Reader, f *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = f.WriteString(line + "\n")
		d.mu.Lock()
		d.lines = append(d.lines, line)
		close(d.seen)
		d.seen = make(chan struct{})
		d.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// waitLog waits until a log line contains text, the process exits, or the
// deadline passes; it reports whether the line came.
func (d *daemon) waitLog(text string, within time.Duration) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	next := 0
	for {
		d.mu.Lock()
		for ; next < len(d.lines); next++ {
			if strings.Contains(d.lines[next], text) {
				d.mu.Unlock()
				return true
			}
		}
		seen := d.seen
		d.mu.Unlock()
		select {
		case <-seen:
		case <-d.done:
			d.mu.Lock()
			found := false
			for _, l := range d.lines[next:] {
				found = found || strings.Contains(l, text)
			}
			d.mu.Unlock()
			return found
		case <-deadline.C:
			return false
		}
	}
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to go.
func (d *daemon) kill(t *testing.T) {
	t.Helper()
	require.False(t, d.exited(), "syncd exited by itself before the kill: %s", d.state)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.done
	d.requireNoCrash(t)
}

// stop asks for a graceful stop and requires exit code 0.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	require.False(t, d.exited(), "syncd exited by itself: %s", d.state)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-d.done:
	case <-time.After(45 * time.Second):
		t.Fatal("syncd did not stop within 45 s of SIGTERM")
	}
	d.requireNoCrash(t)
	require.Equal(t, 0, d.state.ExitCode(), "syncd's exit after SIGTERM: %s", d.state)
}

// requireNoCrash fails on a Go panic or fatal error in the log.
func (d *daemon) requireNoCrash(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.lines {
		for _, bad := range []string{"panic:", "fatal error:", "DATA RACE", `"level":"fatal"`, `"level":"dpanic"`} {
			require.NotContains(t, l, bad, "syncd crashed; log %s", d.log)
		}
	}
}

// status GETs an ops endpoint and returns the HTTP status (0: no answer).
func (d *daemon) status(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.httpAddr+path, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// eventually polls cond every 200 ms until it holds or within passes, and
// returns how long it took.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("waited %s for %s", within, what)
		}
	}
	return time.Since(start)
}

// count runs a count query on the database directly; -1 when it fails (the
// schema may not exist yet, the database may be down).
func (h *harness) count(sql string, args ...any) int64 {
	n, err := h.query(sql, args...)
	if err != nil {
		return -1
	}
	return n
}

func (h *harness) query(sql string, args ...any) (int64, error) {
	ctx, cancel := context.WithTimeout(h.t.Context(), 30*time.Second)
	defer cancel()
	var n int64
	err := h.pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// backfilled reports whether every series reaches back to the horizon.
func (h *harness) backfilled() bool {
	return h.count(`SELECT count(*) FROM sync_state WHERE oldest_ts <= $1 OR history_exhausted`, h.horizon) == int64(len(h.series))
}

// serverNow is the database's clock, which live_confirmed_at is written with.
func (h *harness) serverNow() time.Time {
	var now time.Time
	require.NoError(h.t, h.pool.QueryRow(h.t.Context(), `SELECT now()`).Scan(&now))
	return now
}

// confirmedSince reports whether every series was polled and written after at
// (database time). A series whose market has been closed all the while (FX at
// the weekend) is polled once to settle its last bar and then not until the
// next open: for it, having been confirmed at all is enough.
func (h *harness) confirmedSince(at time.Time) bool {
	ctx, cancel := context.WithTimeout(h.t.Context(), 30*time.Second)
	defer cancel()
	rows, err := h.pool.Query(ctx, `SELECT vendor, symbol, timeframe, live_confirmed_at FROM sync_state WHERE live_confirmed_at IS NOT NULL`)
	if err != nil {
		return false
	}
	type confirmation struct {
		s  vendor.Series
		at time.Time
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (confirmation, error) {
		var c confirmation
		var tf string
		err := r.Scan(&c.s.Vendor, &c.s.Symbol, &tf, &c.at)
		c.s.Timeframe = vendor.Timeframe(tf)
		return c, err
	})
	if err != nil {
		return false
	}
	last := make(map[vendor.Series]time.Time, len(list))
	for _, c := range list {
		last[c.s] = c.at
	}
	cal, now := h.sim.Core().Generator().Calendar(), time.Now()
	for _, s := range h.series {
		c, ok := last[s]
		switch {
		case !ok:
			return false
		case c.After(at):
		case !cal.ClosedThroughout(sim.AllTickSpec(s.Symbol, s.Timeframe).Market, at, now):
			return false
		}
	}
	return true
}

// quotaCount is the persisted daily count, summed over days.
func (h *harness) quotaCount() int64 {
	h.t.Helper()
	n, err := h.query(`SELECT coalesce(sum(reserved), 0) FROM quota_usage`)
	require.NoError(h.t, err, "read the persisted daily count")
	return n
}

// syncUp waits, up to 3 minutes for each, until every series is backfilled
// to the horizon and polled after the call.
func (h *harness) syncUp() {
	const within = 3 * time.Minute
	h.t.Helper()
	eventually(h.t, within, "the backfill to reach the horizon", h.backfilled)
	since := h.serverNow()
	eventually(h.t, within, "every series to be polled", func() bool { return h.confirmedSince(since) })
}

type row struct {
	ts              time.Time
	o, hi, lo, c, v decimal.Decimal
	turnover        decimal.Null
	final           bool
}

// verify is every scenario's ending: for each series, the table from its
// oldest row up to its newest final row equals the simulator's truth row by
// row (no bar missing, none extra, none twice, every value exact); only the
// newest one or two rows may still be forming; the oldest row reaches the
// horizon and the newest is current; the simulator refused nothing; and the
// persisted daily quota count covers every request the simulator saw.
func (h *harness) verify(stoppedAt time.Time) {
	t := h.t
	t.Helper()
	ctx := t.Context()
	for _, s := range h.series {
		rows, err := h.pool.Query(ctx, `SELECT ts, open, high, low, close, volume, turnover, is_final FROM candles
WHERE vendor = $1 AND symbol = $2 AND timeframe = $3 ORDER BY ts`, s.Vendor, s.Symbol, string(s.Timeframe))
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			err := r.Scan(&x.ts, &x.o, &x.hi, &x.lo, &x.c, &x.v, &x.turnover, &x.final)
			return x, err
		})
		require.NoError(t, err)
		require.NotEmpty(t, got, "%s: no rows", s)
		lastFinal := -1
		for i, r := range got {
			if r.final {
				lastFinal = i
			}
		}
		require.GreaterOrEqual(t, lastFinal, 0, "%s: no final row", s)
		require.LessOrEqual(t, len(got)-1-lastFinal, 2, "%s: more than two forming rows at the head", s)
		require.False(t, got[0].ts.After(h.horizon), "%s: oldest row %s is after the horizon %s", s, got[0].ts, h.horizon)
		newest := got[len(got)-1].ts
		spec := sim.AllTickSpec(s.Symbol, s.Timeframe)
		// Current means within three bars of the last instant the market
		// traded: the suite runs on weekends too, when FX has been closed
		// since Friday and nothing newer exists.
		lastTraded := stoppedAt
		if cal := h.sim.Core().Generator().Calendar(); !cal.IsOpen(spec.Market, stoppedAt) {
			if lc, ok := cal.LastClose(spec.Market, stoppedAt); ok {
				lastTraded = lc
			}
		}
		require.True(t, newest.After(lastTraded.Add(-3*s.Timeframe.Duration())), "%s: newest row %s is stale at %s (market last open at %s)", s, newest, stoppedAt, lastTraded)

		truth, err := h.sim.Core().Truth(spec, got[0].ts, got[lastFinal].ts.Add(time.Nanosecond))
		require.NoError(t, err)
		final := got[:lastFinal+1]
		for i := range min(len(truth), len(final)) {
			want, have := truth[i], final[i]
			require.True(t, want.Time.Equal(have.ts), "%s: row %d is %s, the truth has %s there (a bar missing or extra)", s, i, have.ts, want.Time)
			require.Equal(t, []string{want.Open.String(), want.High.String(), want.Low.String(), want.Close.String(), want.Volume.String(), want.Turnover.String()},
				[]string{have.o.String(), have.hi.String(), have.lo.String(), have.c.String(), have.v.String(), have.turnover.String()},
				"%s: values of the bar at %s", s, have.ts)
		}
		require.Len(t, final, len(truth), "%s: rows up to the newest final one", s)
	}
	st := h.sim.Core().Stats()
	var refused uint64
	by := map[vendor.Endpoint]map[sim.Reason]uint64{}
	for _, e := range st.Endpoints {
		for _, n := range e.Refused {
			refused += n
		}
		if len(e.Refused) > 0 {
			by[e.Endpoint] = e.Refused
		}
	}
	refusals := h.simLog.FilterMessage("request refused by plan").All()
	details := make([]string, 0, len(refusals))
	for _, e := range refusals {
		f := e.ContextMap()
		details = append(details, fmt.Sprintf("%s %v: %v", e.Time.Format("15:04:05.000"), f["endpoint"], f["detail"]))
	}
	require.Zero(t, refused, "requests the simulator refused for breaking the plan, by endpoint: %v\n%s", by, strings.Join(details, "\n"))
	require.GreaterOrEqual(t, h.quotaCount(), int64(st.Total.Requests), "the persisted daily count is below the requests the simulator saw: it was reset")
}

// proxy is a TCP proxy with a stable address in front of the database. It
// can follow a restarted container to its new port, and freeze connections
// (stop forwarding without closing them) to make them half-open.
type proxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string
	pairs  map[*pair]struct{}
	closed chan struct{}
	wg     sync.WaitGroup
}

type pair struct {
	client, server net.Conn
	frozen         atomic.Bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, pairs: map[*pair]struct{}{}, closed: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		dialer := net.Dialer{Timeout: 2 * time.Second}
		s, err := dialer.DialContext(context.Background(), "tcp", target)
		if err != nil {
			_ = c.Close()
			continue
		}
		pr := &pair{client: c, server: s}
		p.mu.Lock()
		p.pairs[pr] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(pr, s, c) })
		p.wg.Go(func() { p.pipe(pr, c, s) })
	}
}

// pipe copies src to dst until either side closes; once the pair is frozen
// it forwards nothing more and holds both connections open until the proxy
// closes.
func (p *proxy) pipe(pr *pair, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if pr.frozen.Load() {
			<-p.closed
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			_ = pr.client.Close()
			_ = pr.server.Close()
			p.mu.Lock()
			delete(p.pairs, pr)
			p.mu.Unlock()
			return
		}
	}
}

// freeze makes every open connection half-open and returns how many there
// were; new connections are forwarded as before.
func (p *proxy) freeze() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pr := range p.pairs {
		pr.frozen.Store(true)
	}
	return len(p.pairs)
}

func (p *proxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
	for pr := range p.pairs {
		_ = pr.client.Close()
		_ = pr.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// reconnect points the test's own pool at the database's new address.
func (h *harness) reconnect(addr string) {
	h.t.Helper()
	pool, err := pgxpool.New(h.t.Context(), pgURL(addr, h.db))
	require.NoError(h.t, err)
	old := h.pool
	h.pool = pool
	old.Close()
	h.t.Cleanup(pool.Close)
}
