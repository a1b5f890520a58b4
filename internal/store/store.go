// Package store is syncd's PostgreSQL layer: the connection pool, migrations,
// time partitions of `candles`, the write path (bars committed together with
// the sync state, ledger and quarantine they imply), sync state reads, and the
// persisted daily quota count.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/pgx/v5/tracelog"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"go.uber.org/zap"

	"github.com/syncd/syncd/internal/decimal"
	"github.com/syncd/syncd/migrations"
)

// Config sets up a Store. Zero values take the documented defaults.
type Config struct {
	// URL is the PostgreSQL connection string (pgx syntax; pool_max_conns and
	// friends allowed). Required. It is never logged.
	URL string
	// StatementTimeout bounds every statement on the server; default 60 s.
	StatementTimeout time.Duration
	// OpTimeout bounds each store call from the client side, so a half-open
	// connection cannot hang the daemon; default 2 min.
	OpTimeout time.Duration
	// Retries is how many times a transaction that failed on a lost connection
	// is run again; default 3.
	Retries int
	// Logger receives pgx traces at debug level, without query arguments.
	Logger *zap.Logger
}

// Store is syncd's database.
type Store struct {
	pool      *pgxpool.Pool
	log       *zap.Logger
	opTimeout time.Duration
	retries   int
	connCfg   *pgx.ConnConfig

	partMu      sync.Mutex
	partitioned *bool               // candles is natively partitioned (nil: not checked yet)
	parts       map[string]struct{} // partitions known to exist

	// failAfterBars, when set by tests, fails a write after its bars are sent
	// and before it commits.
	failAfterBars func() error
}

// Open connects and checks the database answers. It does not migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("open store: URL is required")
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's parse errors can quote the URL; say what failed without it.
		return nil, errors.New("open store: the database URL cannot be parsed")
	}
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 60 * time.Second
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = 2 * time.Minute
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	if _, ok := pcfg.ConnConfig.RuntimeParams["statement_timeout"]; !ok {
		pcfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(cfg.StatementTimeout.Milliseconds())
	}
	if _, ok := pcfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		pcfg.ConnConfig.RuntimeParams["application_name"] = "syncd"
	}
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pcfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		decimal.Register(conn.TypeMap()) // prices to numeric without big.Int arithmetic
		return nil
	}
	if pcfg.PingTimeout == 0 {
		// The pool pings a connection idle for over a second before handing it
		// out, by default bounded only by the caller's deadline (OpTimeout): a
		// half-open connection would stall its caller for minutes.
		pcfg.PingTimeout = 5 * time.Second
	}
	pcfg.ConnConfig.Tracer = &tracelog.TraceLog{Logger: pgxLogger(log.Named("pgx")), LogLevel: tracelog.LogLevelDebug}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{pool: pool, log: log, opTimeout: cfg.OpTimeout, retries: cfg.Retries,
		connCfg: pcfg.ConnConfig.Copy(), parts: map[string]struct{}{}}
	s.connCfg.Tracer = nil
	return s, nil
}

// pgxLogger forwards pgx traces to zap, dropping query arguments: they may
// hold values users consider secret, and bar values would flood the log.
func pgxLogger(log *zap.Logger) tracelog.Logger {
	return tracelog.LoggerFunc(func(_ context.Context, level tracelog.LogLevel, msg string, data map[string]any) {
		if !log.Core().Enabled(zap.DebugLevel) {
			return
		}
		fields := make([]zap.Field, 0, len(data))
		for k, v := range data {
			switch k {
			case "args", "password", "connString":
				continue
			}
			fields = append(fields, zap.Any(k, v))
		}
		fields = append(fields, zap.Stringer("pgx_level", level))
		log.Debug(msg, fields...)
	})
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the connection pool, for readiness checks and tests.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// ConnConfig returns a copy of the connection settings, for a dedicated
// connection such as the fetch lock's.
func (s *Store) ConnConfig() *pgx.ConnConfig { return s.connCfg.Copy() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// provider builds a goose provider on the pool, locked with a session-level
// advisory lock so two processes migrating at once apply each migration once.
func (s *Store) provider() (*goose.Provider, func() error, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(5, 120))
	if err != nil {
		return nil, nil, fmt.Errorf("create migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("create migration provider: %w", err)
	}
	return p, db.Close, nil
}

// Migrate applies pending migrations and returns how many it applied.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	p, closeDB, err := s.provider()
	if err != nil {
		return 0, err
	}
	defer func() { _ = closeDB() }()
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range res {
		s.log.Info("migration applied", zap.Int64("version", r.Source.Version), zap.String("file", r.Source.Path),
			zap.Duration("took", r.Duration))
	}
	return len(res), nil
}

// Migrated reports whether every migration embedded in this binary is applied.
func (s *Store) Migrated(ctx context.Context) (bool, error) {
	p, closeDB, err := s.provider()
	if err != nil {
		return false, err
	}
	defer func() { _ = closeDB() }()
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", err)
	}
	return !pending, nil
}

// migrationFiles lists the embedded migrations, for tests.
func migrationFiles() ([]string, error) {
	return fs.Glob(migrations.FS, "*.sql")
}

// tx runs fn in a transaction bounded by the store's timeout, running it again
// whole when it failed on a lost connection or the server asked for a retry.
// fn must be safe to run again (all syncd writes are idempotent).
func (s *Store) tx(ctx context.Context, what string, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt <= s.retries; attempt++ {
		if attempt > 0 {
			d := time.Duration(attempt*attempt) * 200 * time.Millisecond
			d += rand.N(d/2 + 1) //nolint:gosec // jitter, not a secret
			s.log.Warn("database transaction failed, retrying", zap.String("what", what), zap.Int("attempt", attempt),
				zap.Duration("backoff", d), zap.Error(err))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		err = s.txOnce(ctx, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (s *Store) txOnce(ctx context.Context, fn func(pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
