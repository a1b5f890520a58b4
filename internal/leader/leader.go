// Package leader makes sure only one syncd process fetches with a given API
// key at a time. The active process holds a PostgreSQL session-level advisory
// lock on a dedicated connection; when it dies, even by kill -9, the server
// drops the connection and with it the lock, and a waiting process takes over
// within one poll interval, continuing from the stored state.
package leader

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// Key derives the advisory-lock key for a vendor and key fingerprint. The
// fingerprint, never the key itself, goes into the hash.
func Key(vendor, keyFingerprint string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("syncd/fetcher/" + vendor + "/" + keyFingerprint))
	return int64(h.Sum64()) //nolint:gosec // a lock key: wrapping is intended
}

// Config sets up an Elector.
type Config struct {
	// ConnConfig connects the dedicated lock connection (required). It must not
	// go through a transaction-pooling proxy, which would break session locks.
	ConnConfig *pgx.ConnConfig
	// Key is the advisory-lock key (see Key).
	Key int64
	// Poll is how often a waiting process retries the lock and the leader checks
	// its connection; default 2 s, so takeover happens within 6 s (one poll to
	// see the lock free, two to let the old leader step down).
	Poll   time.Duration
	Logger *zap.Logger
}

// Elector runs work only while holding the lock.
type Elector struct {
	cfg Config
	log *zap.Logger
}

// New returns an Elector.
func New(cfg Config) (*Elector, error) {
	if cfg.ConnConfig == nil {
		return nil, errors.New("new elector: ConnConfig is required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Elector{cfg: cfg, log: log.Named("leader")}, nil
}

// Run waits for the lock, then calls lead with a context that is cancelled as
// soon as leadership is in doubt (the lock connection fails a check). When
// lead returns, the lock is released. Run loops — waiting, leading — until ctx
// ends or lead returns an error other than the cancellation Run caused, which
// Run then returns.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context) error) error {
	waiting := false
	for {
		conn, err := e.acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !waiting {
				e.log.Info("another process holds the fetch lock for this key; waiting", zap.Error(err))
				waiting = true
			}
			if !sleep(ctx, e.cfg.Poll) {
				return ctx.Err()
			}
			continue
		}
		waiting = false
		// A leader whose lock connection died notices within two polls (one
		// ping interval plus one ping timeout) and stops fetching. Waiting that
		// long before fetching means two processes never fetch at once; with
		// the default 2 s poll, takeover still happens within 6 s.
		if !sleep(ctx, 2*e.cfg.Poll) {
			e.release(conn)
			return ctx.Err()
		}
		e.log.Info("fetch lock acquired; this process is the active fetcher")
		err = e.lead(ctx, conn, lead)
		e.release(conn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		e.log.Warn("fetch lock lost; waiting to reacquire")
	}
}

var errNotAcquired = errors.New("lock held elsewhere")

func (e *Elector) acquire(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, e.cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("connect for fetch lock: %w", err)
	}
	// A lock connection that goes half-open (this side gave up on it, the
	// server never heard) keeps its session, and so the lock, alive on the
	// server until TCP keepalive ends it, hours later: the process that
	// stepped down could not take its own lock back. The leader pings every
	// Poll, so the server may end a session silent for five polls. Servers
	// older than PostgreSQL 14 reject the setting and keep the old behaviour.
	_, _ = conn.Exec(cctx, fmt.Sprintf("SET idle_session_timeout = %d", (5*e.cfg.Poll).Milliseconds()))
	var ok bool
	if err := conn.QueryRow(cctx, "SELECT pg_try_advisory_lock($1)", e.cfg.Key).Scan(&ok); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("try fetch lock: %w", err)
	}
	if !ok {
		_ = conn.Close(context.Background())
		return nil, errNotAcquired
	}
	return conn, nil
}

// lead runs the work while checking every Poll that the lock connection is alive.
func (e *Elector) lead(ctx context.Context, conn *pgx.Conn, lead func(context.Context) error) error {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- lead(lctx) }()
	t := time.NewTicker(e.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case err := <-errc:
			if errors.Is(err, context.Canceled) && ctx.Err() == nil && lctx.Err() != nil {
				return nil
			}
			return err
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, e.cfg.Poll)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil && ctx.Err() == nil {
				// The server may already have released the lock: stop fetching at
				// once, before another process can start.
				e.log.Warn("fetch lock connection failed; stepping down", zap.Error(err))
				cancel()
				err := <-errc
				if err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
				return nil
			}
		}
	}
}

func (e *Elector) release(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", e.cfg.Key)
	_ = conn.Close(ctx)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
