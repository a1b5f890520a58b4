package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/status"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// wednesday is the instant most tests replay, inside the calendar's holiday
// tables, with the US market open (16:00 UTC is 11:00 in New York).
var wednesday = time.Date(2026, 11, 18, 16, 0, 40, 0, time.UTC)

// simOptions configures one simulator.
type simOptions struct {
	Seed uint64
	// Plan is the AllTick plan enforced, by name or custom spec; syncd is
	// told the same plan.
	Plan string
	// Faults is the simulator's fault spec; "" injects none.
	Faults string
	// AsOf is the simulator's time at start; syncd's clock is shifted to match.
	AsOf time.Time
}

// quotaMargin is the governor's margin in these tests. The simulator counts
// arrivals on a loopback shared with parallel race-enabled tests on two
// cores: a request's handler has been seen starting ~100 ms after its send,
// so the next one, sent a spacing later, arrived right behind it. The
// default margin covers a real network's jitter, not a starved scheduler;
// these tests are about the data and pay the throughput.
const quotaMargin = 100 * time.Millisecond

// request is one vendor request as the simulator saw it arrive.
type request struct {
	At       time.Time // simulator time on arrival
	Endpoint vendor.Endpoint
	Codes    []string
	Kline    int   // AllTick kline_type (history requests)
	End      int64 // kline_timestamp_end (history requests)
}

// simulator is an in-process AllTick simulator that records every request.
type simulator struct {
	srv    *sim.Server
	http   *httptest.Server
	plan   string
	offset time.Duration // simulator time minus system time

	mu   sync.Mutex
	reqs []request
	// hook, when set, sees every vendor request before it is served.
	hook func(request)
}

func newSimulator(t *testing.T, o simOptions) *simulator {
	t.Helper()
	p, err := plan.Lookup(vendor.AllTick, o.Plan)
	require.NoError(t, err)
	f, err := sim.ParseFaults(o.Faults)
	require.NoError(t, err)
	start := time.Now()
	srv, err := sim.New(sim.Config{Seed: o.Seed, Plan: p, Faults: f, AsOf: o.AsOf, Speed: 1, RootVendor: vendor.AllTick})
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.AllTick, sim.AllTick))
	s := &simulator{srv: srv, plan: o.Plan, offset: o.AsOf.Sub(start)}
	s.http = httptest.NewServer(s)
	t.Cleanup(s.http.Close)
	return s
}

func (s *simulator) core() *sim.Core { return s.srv.Core() }

// ServeHTTP records the request, runs the hook and serves it.
func (s *simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := request{At: s.core().Now()}
	switch {
	case strings.HasSuffix(r.URL.Path, "/kline"):
		var q alltick.Request[alltick.KlineQuery]
		if json.Unmarshal([]byte(r.URL.Query().Get("query")), &q) == nil {
			rq.Endpoint, rq.Codes, rq.Kline, rq.End = vendor.EndpointHistory, []string{q.Data.Code}, q.Data.KlineType, q.Data.KlineTimestampEnd
		}
	case strings.HasSuffix(r.URL.Path, "/batch-kline"):
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var q alltick.Request[alltick.BatchQuery]
		if json.Unmarshal(body, &q) == nil {
			rq.Endpoint = vendor.EndpointLatest
			for _, g := range q.Data.DataList {
				rq.Codes = append(rq.Codes, g.Code)
			}
		}
	}
	var hook func(request)
	if rq.Endpoint != "" {
		s.mu.Lock()
		s.reqs = append(s.reqs, rq)
		hook = s.hook
		s.mu.Unlock()
	}
	if hook != nil {
		hook(rq)
	}
	s.srv.ServeHTTP(w, r)
}

func (s *simulator) setHook(h func(request)) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// requests returns the recorded requests to ep ("" for all).
func (s *simulator) requests(ep vendor.Endpoint) []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request
	for _, r := range s.reqs {
		if ep == "" || r.Endpoint == ep {
			out = append(out, r)
		}
	}
	return out
}

// requireNoViolations checks the plan was never exceeded.
func (s *simulator) requireNoViolations(t *testing.T) sim.Snapshot {
	t.Helper()
	st := s.core().Stats()
	var refused uint64
	for _, n := range st.Total.Refused {
		refused += n
	}
	require.Zero(t, refused, "plan violations: %v; closest arrivals per endpoint: %s", st.Total.Refused, s.closest())
	return st
}

// closest names, per endpoint, the two requests that arrived closest together.
func (s *simulator) closest() string {
	var parts []string
	for _, ep := range []vendor.Endpoint{vendor.EndpointHistory, vendor.EndpointLatest} {
		rs := s.requests(ep)
		best := time.Duration(1 << 62)
		at := time.Time{}
		for i := 1; i < len(rs); i++ {
			if g := rs[i].At.Sub(rs[i-1].At); g < best {
				best, at = g, rs[i].At
			}
		}
		if !at.IsZero() {
			parts = append(parts, fmt.Sprintf("%s %s at %s", ep, best, at.Format("15:04:05.000")))
		}
	}
	return strings.Join(parts, ", ")
}

var tokens atomic.Int64

// deployment is one syncd installation: its own schema and API key (the
// fetch lock is per key and database-wide, so tests must not share keys).
type deployment struct {
	t     *testing.T
	dbURL string
	db    *pgxpool.Pool
	token string
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	url := pgtest.Schema(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return &deployment{t: t, dbURL: url, db: db, token: fmt.Sprintf("e2e-key-%d-%d", os.Getpid(), tokens.Add(1))}
}

// series names syncd's configuration of symbols and timeframes.
type series struct {
	Symbols    []string
	Timeframes []vendor.Timeframe
	Since      string // SYNCD_BACKFILL_SINCE
}

func (c series) each() []vendor.Series {
	out := make([]vendor.Series, 0, len(c.Symbols)*len(c.Timeframes))
	for _, sym := range c.Symbols {
		for _, tf := range c.Timeframes {
			out = append(out, vendor.Series{Vendor: vendor.AllTick, Symbol: sym, Timeframe: tf})
		}
	}
	return out
}

func (d *deployment) environ(s *simulator, c series) []string {
	tfs := make([]string, len(c.Timeframes))
	for i, tf := range c.Timeframes {
		tfs[i] = string(tf)
	}
	return []string{
		"SYNCD_DATABASE_URL=" + d.dbURL,
		"SYNCD_VENDOR=alltick",
		"SYNCD_VENDOR_URL=" + s.http.URL,
		"SYNCD_VENDOR_TOKEN=" + d.token,
		"SYNCD_PLAN=" + s.plan,
		"SYNCD_SYMBOLS=" + strings.Join(c.Symbols, ","),
		"SYNCD_TIMEFRAMES=" + strings.Join(tfs, ","),
		"SYNCD_BACKFILL_SINCE=" + c.Since,
		"SYNCD_HTTP_ADDR=127.0.0.1:0",
		"SYNCD_LOG_LEVEL=info",
		"SYNCD_LOG_FORMAT=json",
		"SYNCD_SHUTDOWN_TIMEOUT=20s",
		"SYNCD_QUOTA_MARGIN=" + quotaMargin.String(),
		"SYNCD_TEST_CLOCK_OFFSET=" + s.offset.String(),
	}
}

// proc is one running syncd.
type proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{}
	err            error
}

// start runs `syncd <command>` against s with configuration c.
func (d *deployment) start(s *simulator, c series, command ...string) *proc {
	d.t.Helper()
	p := &proc{name: strings.Join(command, " "), done: make(chan struct{})}
	// The test's context ends before its cleanups run, which kills a syncd
	// still running.
	p.cmd = exec.CommandContext(d.t.Context(), binary, command...)
	p.cmd.Env = d.environ(s, c)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	require.NoError(d.t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	d.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if d.t.Failed() {
			d.t.Logf("syncd %s (%v) stdout:\n%s\nstderr (tail):\n%s", p.name, p.err, p.stdout.String(), tail(p.stderr.String(), 6000))
		}
	})
	return p
}

// run runs `syncd <command>` to its end and returns its stdout.
func (d *deployment) run(ctx context.Context, s *simulator, c series, command ...string) string {
	d.t.Helper()
	p := d.start(s, c, command...)
	require.NoError(d.t, p.wait(ctx), "syncd %s", p.name)
	return p.stdout.String()
}

// wait returns the exit error once the process ends; when ctx ends first it
// kills the process and returns ctx's error.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%w; stderr: %s", p.err, tail(p.stderr.String(), 2000))
		}
		return nil
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		return ctx.Err()
	}
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop(ctx context.Context, t *testing.T) {
	t.Helper()
	p.signal(syscall.SIGTERM)
	require.NoError(t, p.wait(ctx), "syncd %s after SIGTERM", p.name)
}

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

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// eventually polls cond until it holds or ctx ends, then fails with cond's
// last word on what is still missing.
func eventually(ctx context.Context, t *testing.T, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		ok, why := cond(ctx)
		if ok {
			return
		}
		last = why
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not reached before the deadline: %s", what, last)
		case <-tick.C:
		}
	}
}

// row is one candles row, numbers as PostgreSQL prints them.
type row struct {
	TS                             time.Time
	Open, High, Low, Close, Volume string
	Turnover                       *string
	Final                          bool
}

func (d *deployment) rows(ctx context.Context, s vendor.Series) []row {
	d.t.Helper()
	rs, err := d.db.Query(ctx, `SELECT ts, open::text, high::text, low::text, close::text, volume::text, turnover::text, is_final
FROM candles WHERE vendor = $1 AND symbol = $2 AND timeframe = $3 ORDER BY ts`, s.Vendor, s.Symbol, string(s.Timeframe))
	require.NoError(d.t, err)
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		require.NoError(d.t, rs.Scan(&r.TS, &r.Open, &r.High, &r.Low, &r.Close, &r.Volume, &r.Turnover, &r.Final))
		r.TS = r.TS.UTC()
		out = append(out, r)
	}
	require.NoError(d.t, rs.Err())
	return out
}

func (d *deployment) count(ctx context.Context, query string) int {
	d.t.Helper()
	var n int
	require.NoError(d.t, d.db.QueryRow(ctx, query).Scan(&n))
	return n
}

// status runs `syncd status -json`.
func (d *deployment) status(ctx context.Context, s *simulator) status.Report {
	d.t.Helper()
	out := d.run(ctx, s, series{Symbols: []string{"X"}, Since: "1d"}, "status", "-json")
	var rep status.Report
	require.NoError(d.t, json.Unmarshal([]byte(out), &rep), out)
	return rep
}

func spec(s vendor.Series) sim.Spec { return sim.AllTickSpec(s.Symbol, s.Timeframe) }

func sameBar(b vendor.Bar, r row) bool {
	tv := (*string)(nil)
	if b.Turnover.Valid {
		v := b.Turnover.Decimal.String()
		tv = &v
	}
	return b.Time.Equal(r.TS) && b.Open.String() == r.Open && b.High.String() == r.High && b.Low.String() == r.Low &&
		b.Close.String() == r.Close && b.Volume.String() == r.Volume && (tv == nil) == (r.Turnover == nil) &&
		(tv == nil || *tv == *r.Turnover)
}

// headCheck says how to judge the newest stored row when it is forming.
type headCheck func(t *testing.T, s vendor.Series, r row)

// requireTruth compares a series' table with the simulator's ground truth:
// every row but the newest must be final and equal the simulator's final bar,
// with none missing in between; the newest equals the truth when final, and
// is otherwise judged by forming (nil: a consistent forming bar: same open, a
// range inside and a volume below the bar's values now). It returns the rows.
func (s *simulator) requireTruth(ctx context.Context, t *testing.T, d *deployment, ser vendor.Series, forming headCheck) []row {
	t.Helper()
	rows := d.rows(ctx, ser)
	require.NotEmpty(t, rows, "%s: no rows", ser)
	sp := spec(ser)
	now := s.core().Now()
	truth, err := s.core().Truth(sp, rows[0].TS, now.Add(time.Nanosecond))
	require.NoError(t, err)
	head := rows[len(rows)-1]
	want := truth[:0:0]
	for _, b := range truth {
		if b.Time.Before(head.TS) {
			want = append(want, b)
		}
	}
	got := rows[:len(rows)-1]
	if len(want) != len(got) {
		t.Fatalf("%s: %d stored bars before the head at %s, the simulator has %d; %s", ser, len(got), head.TS, len(want), diffTimes(want, got))
	}
	for i, b := range want {
		r := got[i]
		require.True(t, sameBar(b, r), "%s at %s: stored %+v, simulator %+v", ser, b.Time, r, b)
		require.True(t, r.Final, "%s at %s: stored as forming, but a newer bar is stored", ser, r.TS)
	}
	if head.Final {
		i := len(want)
		require.Less(t, i, len(truth), "%s: head %s stored as final, but the simulator has not closed it", ser, head.TS)
		require.True(t, sameBar(truth[i], head), "%s head at %s: stored %+v, simulator %+v", ser, head.TS, head, truth[i])
		return rows
	}
	if forming != nil {
		forming(t, ser, head)
		return rows
	}
	cur, ok, err := s.core().Generator().Bar(sp, head.TS, now)
	require.NoError(t, err)
	require.True(t, ok, "%s: forming head %s is not a bar of the simulator", ser, head.TS)
	require.Equal(t, cur.Open.String(), head.Open, "%s forming head: open", ser)
	require.LessOrEqual(t, decimalCmp(t, head.High, cur.High.String()), 0, "%s forming head: high above the bar's", ser)
	require.GreaterOrEqual(t, decimalCmp(t, head.Low, cur.Low.String()), 0, "%s forming head: low below the bar's", ser)
	require.LessOrEqual(t, decimalCmp(t, head.Volume, cur.Volume.String()), 0, "%s forming head: volume above the bar's", ser)
	return rows
}

// formingAsOf accepts a forming head that equals the simulator's bar as
// served to one of the given requests (the bar moves every millisecond; the
// request's arrival was noted just before the simulator read its clock).
func (s *simulator) formingAsOf(reqs []request) headCheck {
	return func(t *testing.T, ser vendor.Series, r row) {
		t.Helper()
		for _, rq := range reqs {
			for ms := range 250 {
				b, ok, err := s.core().Generator().Bar(spec(ser), r.TS, rq.At.Add(time.Duration(ms)*time.Millisecond))
				require.NoError(t, err)
				if ok && sameBar(b, r) {
					return
				}
			}
		}
		t.Fatalf("%s: forming head %+v is not the bar as of any of the last %d requests that returned it", ser, r, len(reqs))
	}
}

func decimalCmp(t *testing.T, a, b string) int {
	t.Helper()
	x, err := decimal.Parse(a)
	require.NoError(t, err)
	y, err := decimal.Parse(b)
	require.NoError(t, err)
	return x.Cmp(y)
}

// diffTimes names the first bars missing from or extra in the table.
func diffTimes(want []vendor.Bar, got []row) string {
	have := map[time.Time]bool{}
	for _, r := range got {
		have[r.TS] = true
	}
	var missing, extra []string
	wantT := map[time.Time]bool{}
	for _, b := range want {
		wantT[b.Time] = true
		if !have[b.Time] && len(missing) < 5 {
			missing = append(missing, b.Time.Format(time.RFC3339))
		}
	}
	for _, r := range got {
		if !wantT[r.TS] && len(extra) < 5 {
			extra = append(extra, r.TS.Format(time.RFC3339))
		}
	}
	return fmt.Sprintf("missing %v, extra %v", missing, extra)
}
