package store

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotMigrated is returned when the schema is older than this binary needs.
var ErrNotMigrated = errors.New("database schema is not migrated: run `syncd migrate`")

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeDuplicateTable       = "42P07"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	classConnection          = "08"
	classOperatorIntervened  = "57" // admin shutdown, crash shutdown, cannot connect now
)

// retryable reports whether a failed transaction may be run again whole: the
// server never saw it (pgconn.SafeToRetry), the connection broke, or the server
// asked for a retry (serialisation failure, deadlock, shutdown).
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeSerializationFailure, pgErr.Code == codeDeadlockDetected:
			return true
		case len(pgErr.Code) == 5 && (pgErr.Code[:2] == classConnection || pgErr.Code[:2] == classOperatorIntervened):
			return true
		}
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, net.ErrClosed) ||
		pgconn.Timeout(err)
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
