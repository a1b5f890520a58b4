// Package pgtest gives integration tests a real PostgreSQL: one container per
// test package, started from TestMain with testcontainers-go, and a schema of
// its own for every test so tests run in parallel and may commit.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		url := pgtest.Schema(t) // a fresh, empty schema; search_path points at it
//		...
//	}
//
// The image comes from SYNCD_TEST_PG_IMAGE (default postgres:15). Machines that
// cannot reach a registry build one with scripts/pg-test-image.sh. Without
// Docker the integration tests fail and say how to get it; `go test -short`
// skips them.
package pgtest

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"go.uber.org/goleak"
)

// DefaultImage is used when SYNCD_TEST_PG_IMAGE is unset.
const DefaultImage = "postgres:15"

var (
	baseURL  string
	errStart error
	seq      atomic.Int64
)

// LeakOptions ignore goroutines that outlive tests by design, each with why.
var LeakOptions = []goleak.Option{
	// pgxpool's health checker stops only when its pool is closed; pools closed
	// in t.Cleanup may still be winding down when TestMain checks.
	goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
	// The Docker client's keep-alive connections belong to testcontainers.
	goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	goleak.IgnoreAnyFunction("github.com/testcontainers/testcontainers-go.(*Reaper).connect.func1"),
}

// Main starts PostgreSQL (unless -short), runs the package's tests, stops the
// container and checks for leaked goroutines.
func Main(m *testing.M, leakOpts ...goleak.Option) { os.Exit(Run(m, leakOpts...)) }

// Run is Main without the exit: it returns the exit code, so a TestMain can
// clean up what it set up before the tests (a built binary) and exit itself.
func Run(m *testing.M, leakOpts ...goleak.Option) int {
	flag.Parse()
	var ctr *postgres.PostgresContainer
	if !testing.Short() {
		ctr, errStart = start()
	}
	code := m.Run()
	if ctr != nil {
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: terminate container:", err)
		}
	}
	if code == 0 {
		if err := goleak.Find(append(LeakOptions, leakOpts...)...); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: goroutines leaked:", err)
			code = 1
		}
	}
	return code
}

func start() (*postgres.PostgresContainer, error) {
	image := os.Getenv("SYNCD_TEST_PG_IMAGE")
	if image == "" {
		image = DefaultImage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctr, err := postgres.Run(ctx, image,
		postgres.WithDatabase("syncd_test"), postgres.WithUsername("syncd"), postgres.WithPassword("syncd"),
		postgres.BasicWaitStrategies())
	if err != nil {
		return ctr, fmt.Errorf("start PostgreSQL container from %s: %w", image, err)
	}
	u, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		return ctr, fmt.Errorf("read container address: %w", err)
	}
	baseURL = u
	return ctr, nil
}

// Require skips the test under -short and fails it, saying how to get Docker,
// when PostgreSQL could not be started.
func Require(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("integration test: needs PostgreSQL in Docker (skipped by -short)")
	}
	if errStart != nil || baseURL == "" {
		tb.Fatalf("integration tests need a PostgreSQL container and could not start one: %v\n"+
			"Install and start Docker (Debian: apt-get install -y docker.io && dockerd &). Without a registry, build\n"+
			"a local image with scripts/pg-test-image.sh and set SYNCD_TEST_PG_IMAGE=syncd-test/postgres:15.\n"+
			"`go test -short` skips integration tests.", errStart)
	}
}

// URL returns the connection string of the test database itself (public schema).
func URL(tb testing.TB) string {
	tb.Helper()
	Require(tb)
	return baseURL
}

// Schema creates an empty schema for this test, drops it when the test ends,
// and returns a connection string whose search_path is that schema only, so
// every unqualified name the code under test uses lands there.
func Schema(tb testing.TB) string {
	tb.Helper()
	Require(tb)
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			tb.Logf("pgtest: drop schema %s: %v", name, err)
			return
		}
		defer func() { _ = c.Close(context.Background()) }()
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Logf("pgtest: drop schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(baseURL)
	if err != nil {
		tb.Fatalf("pgtest: parse URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
