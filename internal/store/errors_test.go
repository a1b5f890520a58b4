package store

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

func TestRetryable(t *testing.T) {
	t.Parallel()
	require.True(t, retryable(&pgconn.PgError{Code: "40001"}))
	require.True(t, retryable(&pgconn.PgError{Code: "08006"}))
	require.True(t, retryable(&pgconn.PgError{Code: "57P01"}))
	require.False(t, retryable(&pgconn.PgError{Code: "23505"}))
	require.False(t, retryable(context.Canceled))
	require.True(t, retryable(&net.OpError{Op: "read", Err: errors.New("connection reset")}))
	require.False(t, retryable(errors.New("plain")))
}
