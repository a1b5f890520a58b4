package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/bench"
)

func TestRedactArgsHidesConnectionStrings(t *testing.T) {
	t.Parallel()
	got := redactArgs([]string{"-db", "postgres://u:pw@h/db", "-quick", "-psql=psql -d postgres://u:pw@h/db", "--db=x", "-out", "f.md"})
	require.Equal(t, []string{"-db", "…", "-quick", "-psql=…", "-db=…", "-out", "f.md"}, got)
}

func TestQuickKeepsSizesGivenOnTheCommandLine(t *testing.T) {
	t.Parallel()
	cfg := bench.Config{PipelineBars: 42}
	quick(&cfg)
	require.Equal(t, 42, cfg.PipelineBars)
	require.Equal(t, 20, cfg.PipelineSeries)
	require.Equal(t, 50, cfg.PollTicks)
	require.Positive(t, cfg.EfficiencyFor)
}

func TestRunWithoutADatabaseIsAUsageError(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	require.Equal(t, 2, run(context.Background(), []string{"-db", ""}, &stderr))
	require.Contains(t, stderr.String(), "-db is required")
	stderr.Reset()
	require.Equal(t, 2, run(context.Background(), []string{"-no-such-flag"}, &stderr))
	require.Equal(t, 0, run(context.Background(), []string{"-help"}, &stderr))
}
