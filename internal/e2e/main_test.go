package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/syncd/syncd/internal/pgtest"
)

// binary is the syncd executable under test, built once by TestMain.
var binary string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "syncd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if !testing.Short() {
		if binary, err = build(dir); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
	}
	return pgtest.Run(m)
}

// build compiles ./cmd/syncd without -race (the tests exercise the binary's
// behaviour, and a race build would slow every run several times over).
func build(dir string) (string, error) {
	out := filepath.Join(dir, "syncd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "e2e", "-o", out, "./cmd/syncd")
	cmd.Dir = filepath.Join("..", "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build syncd: %w\n%s", err, b)
	}
	return out, nil
}
