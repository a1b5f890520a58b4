package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/pgtest"
	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/sim"
)

// TestRunSyncsAndStopsCleanly runs the whole daemon in-process against the
// simulator and a real PostgreSQL: it backfills, polls bars and trades, and a
// SIGTERM stops everything it started (TestMain's leak check fails the
// package otherwise).
func TestRunSyncsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	srv, err := sim.New(sim.Config{Seed: 5, RootVendor: vendor.AllTick})
	require.NoError(t, err)
	require.NoError(t, srv.RegisterVendor(vendor.AllTick, sim.AllTick))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	environ := []string{"SYNCD_DATABASE_URL=" + url, "SYNCD_VENDOR=alltick", "SYNCD_VENDOR_URL=" + hs.URL,
		"SYNCD_VENDOR_TOKEN=" + token, "SYNCD_PLAN=premium", "SYNCD_SYMBOLS=BTCUSDT,ETHUSDT", "SYNCD_TIMEFRAMES=1m",
		"SYNCD_BACKFILL_SINCE=3h", "SYNCD_HTTP_ADDR=127.0.0.1:0", "SYNCD_TRADES=on", "SYNCD_TRADES_INTERVAL=2s"}
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run"}, environ, &stdout, &stderr) }()

	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.WithoutCancel(t.Context())) })
	deadline, stop := context.WithTimeout(t.Context(), 2*time.Minute)
	defer stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var bars, trades int
		err := conn.QueryRow(deadline, `SELECT (SELECT count(*) FROM candles WHERE ts >= now() - interval '3 hours'),
			(SELECT count(DISTINCT symbol) FROM trades)`).Scan(&bars, &trades)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table: not migrated yet
			require.NoError(t, err)
		}
		// Three hours of two 1m series, and a trade of each.
		if bars >= 2*180 && trades == 2 {
			break
		}
		select {
		case <-deadline.Done():
			cancel(nil)
			<-done
			t.Fatalf("no full sync: %d bars, trades of %d symbols; log:\n%s", bars, trades, stderr.String())
		case <-tick.C:
		}
	}
	cancel(signalError{sig: syscall.SIGTERM})
	require.Equal(t, exitOK, <-done, stderr.String())
	require.Contains(t, stderr.String(), "syncd stopped")
	require.NotContains(t, stderr.String(), token)
}
