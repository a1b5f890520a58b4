package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/syncd/syncd/internal/store"
)

// database is the PostgreSQL under measurement. Each phase gets a schema of its
// own, so every phase starts from empty tables and leaves nothing behind.
type database struct {
	url     string
	conn    *pgx.Conn
	version string
	schemas []string
}

var schemaSeq atomic.Int64

func openDB(ctx context.Context, rawURL string) (*database, error) {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		// pgx errors can quote the URL, which may hold a password.
		return nil, fmt.Errorf("connect to the benchmark database: %w", redact(err, rawURL))
	}
	db := &database{url: rawURL, conn: conn}
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&db.version); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("read server version: %w", err)
	}
	return db, nil
}

func redact(err error, secret string) error {
	if u, perr := url.Parse(secret); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
		}
	}
	return err
}

// schema creates an empty schema for a phase and returns its name and a URL
// whose search_path is that schema only.
func (db *database) schema(ctx context.Context, phase string) (string, string, error) {
	name := fmt.Sprintf("bench_%s_%d_%d", phase, os.Getpid(), schemaSeq.Add(1))
	if _, err := db.conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", "", fmt.Errorf("create schema: %w", err)
	}
	db.schemas = append(db.schemas, name)
	u, err := url.Parse(db.url)
	if err != nil {
		return "", "", fmt.Errorf("parse database URL: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return name, u.String(), nil
}

// store opens a migrated Store in a fresh schema.
func (db *database) store(ctx context.Context, phase string) (*store.Store, error) {
	_, u, err := db.schema(ctx, phase)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Config{URL: u})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (db *database) close() {
	ctx := context.Background()
	for _, s := range db.schemas {
		_, _ = db.conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE")
	}
	_ = db.conn.Close(ctx)
}
