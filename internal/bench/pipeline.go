package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/plan"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/alltick"
)

// Pipeline is the measured unthrottled backfill and its COPY reference.
type Pipeline struct {
	Series int
	// Bars is the rows the backfill committed (counted in the table).
	Bars     int64
	Requests uint64
	// Took is from the first history request reaching the simulator to the
	// process's exit: page fetch, decode, validation and commit of every bar.
	Took time.Duration
	// Process is the child's whole life, start-up and migration check included.
	Process time.Duration
	// PeakRSS is the child's VmHWM at its last sample; AtMark its VmRSS when
	// the simulator had served Mark bars. KiB.
	PeakRSS, AtMark int64
	Mark            int
	// Summary is syncd's own last line.
	Summary string

	Copy CopyRef
}

// BarsPerSecond is the pipeline's throughput.
func (p *Pipeline) BarsPerSecond() float64 { return rate(p.Bars, p.Took) }

// BarsPerRequest is bars stored per history request: the page size less any
// overlap between pages and any retries.
func (p *Pipeline) BarsPerRequest() float64 {
	if p.Requests == 0 {
		return 0
	}
	return float64(p.Bars) / float64(p.Requests)
}

// Ratio is the pipeline's throughput over the COPY reference's.
func (p *Pipeline) Ratio() float64 {
	if c := p.Copy.RowsPerSecond(); c > 0 {
		return p.BarsPerSecond() / c
	}
	return 0
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// measurePipeline runs `syncd backfill` over many crypto series with no rate
// limit, sampling the child's memory, then loads the same rows with COPY.
func measurePipeline(ctx context.Context, db *database, cfg Config) (*Pipeline, error) {
	if cfg.Syncd == "" {
		return nil, errors.New("no syncd binary given (build one with `make build`)")
	}
	unlimited, err := plan.Lookup(vendor.AllTick, "custom:unlimited")
	if err != nil {
		return nil, err
	}
	simu, err := startSim(ctx, cfg.Seed, unlimited)
	if err != nil {
		return nil, err
	}
	defer simu.stop()
	schema, url, err := db.schema(ctx, "pipe")
	if err != nil {
		return nil, err
	}
	series := cryptoSeries(cfg.PipelineSeries, vendor.TF1m)
	symbols := make([]string, len(series))
	for i, s := range series {
		symbols[i] = s.Symbol
	}
	perSeries := (cfg.PipelineBars + len(series) - 1) / len(series)
	vars := map[string]string{
		"SYNCD_DATABASE_URL": url,
		"SYNCD_VENDOR":       vendor.AllTick,
		"SYNCD_VENDOR_URL":   simu.url,
		"SYNCD_VENDOR_TOKEN": "bench-token",
		"SYNCD_PLAN":         "custom:unlimited",
		"SYNCD_SYMBOLS":      strings.Join(symbols, ","),
		"SYNCD_TIMEFRAMES":   "1m",
		"SYNCD_HTTP_ADDR":    "",
		"SYNCD_LOG_LEVEL":    "warn",
		"SYNCD_LOG_FORMAT":   "json",
	}
	if out, err := runChild(ctx, cfg.Syncd, childEnv(vars), "migrate"); err != nil {
		return nil, fmt.Errorf("syncd migrate: %w: %s", err, lastLines(out, 5))
	}
	// The horizon is set last, after migrating, so the series hold perSeries
	// bars (one or two more if a minute turns while syncd starts).
	horizon := time.Now().UTC().Truncate(time.Minute).Add(-time.Duration(perSeries-1) * time.Minute)
	vars["SYNCD_BACKFILL_SINCE"] = horizon.Format(time.RFC3339)
	env := childEnv(vars)

	p := &Pipeline{Series: len(series), Mark: cfg.MemoryAt}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, cfg.Syncd, "backfill") //nolint:gosec // the binary is the operator's choice
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start syncd backfill: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	var first time.Time
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var waitErr error
sample:
	for {
		select {
		case waitErr = <-exited:
			break sample
		case <-tick.C:
		}
		h := simu.history()
		if first.IsZero() && h.Requests > 0 {
			first = time.Now()
		}
		if m, ok := ReadMemory(pid); ok {
			p.PeakRSS = max(p.PeakRSS, m.HWM)
			if p.AtMark == 0 && h.Accepted*alltick.PageSize >= uint64(cfg.MemoryAt) { //nolint:gosec // MemoryAt > 0
				p.AtMark = m.RSS
			}
		}
	}
	end := time.Now()
	p.Process = end.Sub(start)
	if first.IsZero() {
		first = start
	}
	p.Took = end.Sub(first)
	p.Requests = simu.history().Requests
	p.Summary = lastLines(stdout.String(), 1)
	if waitErr != nil {
		return nil, fmt.Errorf("syncd backfill: %w: %s", waitErr, lastLines(stderr.String()+stdout.String(), 5))
	}
	if n, _ := simu.violations(); n > 0 {
		return nil, fmt.Errorf("the unlimited simulator refused %d requests", n)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect for the COPY reference: %w", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM candles").Scan(&p.Bars); err != nil {
		return nil, fmt.Errorf("count stored bars: %w", err)
	}
	cfg.Logger.Info("pipeline measured", zap.Int64("bars", p.Bars), zap.Duration("took", p.Took), zap.Int64("peak_rss_kib", p.PeakRSS))
	cp, err := copyReference(ctx, conn, schema, cfg)
	if err != nil {
		return nil, err
	}
	p.Copy = cp
	if cp.Rows != p.Bars {
		return nil, fmt.Errorf("the COPY reference loaded %d rows, the backfill stored %d", cp.Rows, p.Bars)
	}
	return p, nil
}

// childEnv is this process's environment without its SYNCD_ variables, plus
// vars.
func childEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SYNCD_") {
			env = append(env, kv)
		}
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

func runChild(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // the binary is the operator's choice
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
