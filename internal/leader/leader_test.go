package leader

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestKeyDependsOnVendorAndFingerprint(t *testing.T) {
	t.Parallel()
	first, again := Key("alltick", "abc"), Key("alltick", "abc")
	require.Equal(t, first, again, "stable across calls and processes")
	require.NotEqual(t, Key("alltick", "abc"), Key("alltick", "abd"))
	require.NotEqual(t, Key("alltick", "abc"), Key("qos", "abc"))
}

// TestOnlyOneLeadsAndTheOtherTakesOver runs two electors on one key: only one
// leads at a time, and when the leader's lock connection dies (as when its
// process is killed) the other takes over.
func TestOnlyOneLeadsAndTheOtherTakesOver(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	key := Key("test", t.Name())

	var leading atomic.Int32
	var maxLeading atomic.Int32
	started := make(chan string, 4)
	lead := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			n := leading.Add(1)
			for {
				m := maxLeading.Load()
				if n <= m || maxLeading.CompareAndSwap(m, n) {
					break
				}
			}
			started <- name
			<-ctx.Done()
			leading.Add(-1)
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := New(Config{ConnConfig: cfg, Key: key, Poll: 200 * time.Millisecond})
	require.NoError(t, err)
	b, err := New(Config{ConnConfig: cfg, Key: key, Poll: 200 * time.Millisecond})
	require.NoError(t, err)
	ctxA, stopA := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = a.Run(ctxA, lead("a")) })
	require.Equal(t, "a", waitFor(t, started))
	wg.Go(func() { _ = b.Run(ctx, lead("b")) })

	// Kill a's lock connection from the server side, as a kill -9 of its
	// process would drop it.
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer func() { _ = admin.Close(context.Background()) }()
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = ($1::bigint & x'ffffffff'::bigint) AND granted`, key)
	require.NoError(t, err)
	// Either elector may win the race for the released lock; one must.
	waitFor(t, started)
	stopA()
	cancel()
	wg.Wait()
	require.EqualValues(t, 1, maxLeading.Load(), "never two leaders at once")
}

func waitFor(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("no elector took the lead")
		return ""
	}
}

// TestSilentLockSessionEndsOnTheServer: a lock session that stops hearing
// from its process (a half-open connection) is ended by the server after
// five polls, so the lock does not outlive its holder for hours.
func TestSilentLockSessionEndsOnTheServer(t *testing.T) {
	t.Parallel()
	cfg, err := pgx.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	e, err := New(Config{ConnConfig: cfg, Key: Key("test", t.Name()), Poll: 300 * time.Millisecond})
	require.NoError(t, err)
	conn, err := e.acquire(t.Context())
	require.NoError(t, err)
	defer e.release(conn)
	var timeout string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW idle_session_timeout").Scan(&timeout))
	require.Equal(t, "1500ms", timeout)
}
