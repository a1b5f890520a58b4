//go:build chaos

package chaos

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/modules/postgres"
	"go.uber.org/goleak"

	"github.com/syncd/syncd/internal/pgtest"
)

var (
	flagSeed        = flag.Uint64("chaos.seed", 1, "seed of the kill moments, failpoint counts and simulator paths; a failure replays with the same seed")
	flagKills       = flag.Int("chaos.kills", 24, "SIGKILLs in the kill scenario (at least 20, a third of them while polling)")
	flagFaultsFor   = flag.Duration("chaos.faults-for", time.Minute, "how long syncd runs against 10 % simulator faults (the issue's full figure: 5m)")
	flagQuotaMargin = flag.String("chaos.quota-margin", "", "SYNCD_QUOTA_MARGIN for syncd (the governor's padding on every spacing); empty: syncd's default")
)

// Set by TestMain for every test.
var (
	syncdBin string // the chaos build of syncd
	sharedPG *pgServer
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "syncd-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	syncdBin = filepath.Join(dir, "syncd")
	if err := buildSyncd(syncdBin); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	sharedPG, err = startPostgres(ctx)
	cancel()
	if sharedPG != nil {
		defer sharedPG.terminate()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\nThe suite needs Docker and a PostgreSQL image; without a registry build one with\n"+
			"scripts/pg-test-image.sh and set SYNCD_TEST_PG_IMAGE=syncd-test/postgres:15.\n", err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(pgtest.LeakOptions...); err != nil {
			fmt.Fprintln(os.Stderr, "chaos: goroutines leaked:", err)
			code = 1
		}
	}
	return code
}

// buildSyncd builds the chaos variant of the binary: release code plus the
// failpoints.
func buildSyncd(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "chaos", "-o", out, "github.com/syncd/syncd/cmd/syncd")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build syncd with -tags chaos: %w", err)
	}
	return nil
}

// pgServer is one PostgreSQL container. A scenario that restarts its
// database gets its own; the others share one, a database each.
type pgServer struct {
	ctr *postgres.PostgresContainer
}

const pgUser, pgPassword = "chaos", "chaos"

func startPostgres(ctx context.Context) (*pgServer, error) {
	image := cmp.Or(os.Getenv("SYNCD_TEST_PG_IMAGE"), pgtest.DefaultImage)
	ctr, err := postgres.Run(ctx, image, postgres.WithDatabase("chaos"), postgres.WithUsername(pgUser),
		postgres.WithPassword(pgPassword), postgres.BasicWaitStrategies())
	if ctr == nil {
		return nil, fmt.Errorf("start PostgreSQL from %s: %w", image, err)
	}
	s := &pgServer{ctr: ctr}
	if err != nil {
		return s, fmt.Errorf("start PostgreSQL from %s: %w", image, err)
	}
	return s, nil
}

// addr is the container's current host:port; it changes when the container
// restarts.
func (s *pgServer) addr(ctx context.Context) (string, error) {
	host, err := s.ctr.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("read container host: %w", err)
	}
	port, err := s.ctr.MappedPort(ctx, "5432/tcp")
	if err != nil {
		return "", fmt.Errorf("read container port: %w", err)
	}
	return host + ":" + port.Port(), nil
}

func (s *pgServer) terminate() {
	if err := testcontainers.TerminateContainer(s.ctr); err != nil {
		fmt.Fprintln(os.Stderr, "chaos: terminate container:", err)
	}
}

// url is the connection string of database db at addr.
func pgURL(addr, db string) string {
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", pgUser, pgPassword, addr, db)
}
