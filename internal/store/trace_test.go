package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/tracelog"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestPgxTracesOmitArguments(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	l := pgxLogger(zap.New(core))
	l.Log(context.Background(), tracelog.LogLevelInfo, "Query", map[string]any{
		"sql": "SELECT $1", "args": []any{"s3cr3t-value"}, "time": 3, "connString": "postgres://u:pw@h/db",
	})
	require.Equal(t, 1, logs.Len())
	for _, e := range logs.All() {
		for _, f := range e.Context {
			require.NotContains(t, fmt.Sprint(f.Interface, f.String), "s3cr3t-value")
			require.NotContains(t, fmt.Sprint(f.Interface, f.String), "pw@")
		}
		require.Contains(t, e.ContextMap(), "sql")
	}

	// Above debug level the tracer logs nothing at all.
	core, logs = observer.New(zapcore.InfoLevel)
	pgxLogger(zap.New(core)).Log(context.Background(), tracelog.LogLevelInfo, "Query", map[string]any{"sql": "SELECT 1"})
	require.Zero(t, logs.Len())
}
