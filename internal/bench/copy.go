package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// candleColumns are every column of candles, in the order the CSV carries them.
const candleColumns = "vendor, symbol, timeframe, ts, open, high, low, close, volume, turnover, is_final, updated_at"

// CopyRef is the database's own limit for one stream: the backfill's rows
// loaded by a single COPY into an empty table identical to candles.
type CopyRef struct {
	// Method says how the rows were sent: "psql \copy" or pgx's COPY FROM STDIN.
	Method string
	Rows   int64
	Took   time.Duration
	// CSVBytes is the size of the file loaded.
	CSVBytes int64
}

// RowsPerSecond is the reference throughput.
func (c CopyRef) RowsPerSecond() float64 { return rate(c.Rows, c.Took) }

// copyReference exports candles to a CSV file (not timed), builds an empty
// candles_copy with the same columns, constraints, primary key and
// partitions, and times loading the file into it.
func copyReference(ctx context.Context, conn *pgx.Conn, schema string, cfg Config) (CopyRef, error) {
	if err := createTwin(ctx, conn); err != nil {
		return CopyRef{}, err
	}
	f, err := os.CreateTemp("", "syncbench-*.csv")
	if err != nil {
		return CopyRef{}, fmt.Errorf("create CSV file: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	defer func() { _ = f.Close() }()
	tag, err := conn.PgConn().CopyTo(ctx, f, "COPY (SELECT "+candleColumns+" FROM candles) TO STDOUT WITH (FORMAT csv)")
	if err != nil {
		return CopyRef{}, fmt.Errorf("export candles: %w", err)
	}
	ref := CopyRef{}
	if st, err := f.Stat(); err == nil {
		ref.CSVBytes = st.Size()
	}
	if _, err := f.Seek(0, 0); err != nil {
		return CopyRef{}, fmt.Errorf("rewind CSV file: %w", err)
	}
	table := pgx.Identifier{schema, "candles_copy"}.Sanitize()
	start := time.Now()
	if len(cfg.PSQL) > 0 {
		ref.Method = "psql \\copy"
		args := slices.Concat(cfg.PSQL[1:], []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
			`\copy ` + table + ` (` + candleColumns + `) FROM STDIN WITH (FORMAT csv)`})
		cmd := exec.CommandContext(ctx, cfg.PSQL[0], args...) //nolint:gosec // the command is the operator's choice
		var out bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = f, &out, &out
		if err := cmd.Run(); err != nil {
			return CopyRef{}, fmt.Errorf("psql \\copy: %w: %s", err, strings.TrimSpace(out.String()))
		}
	} else {
		ref.Method = "COPY FROM STDIN (CSV) through pgx"
		if _, err := conn.PgConn().CopyFrom(ctx, f, "COPY "+table+" ("+candleColumns+") FROM STDIN WITH (FORMAT csv)"); err != nil {
			return CopyRef{}, fmt.Errorf("copy CSV: %w", err)
		}
	}
	ref.Took = time.Since(start)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM candles_copy").Scan(&ref.Rows); err != nil {
		return CopyRef{}, fmt.Errorf("count copied rows: %w", err)
	}
	if ref.Rows != tag.RowsAffected() {
		return ref, fmt.Errorf("exported %d rows, loaded %d", tag.RowsAffected(), ref.Rows)
	}
	return ref, nil
}

// createTwin creates candles_copy like candles: columns, defaults, CHECKs,
// primary key and, when candles is partitioned, the same partitions.
func createTwin(ctx context.Context, conn *pgx.Conn) error {
	var kind string
	if err := conn.QueryRow(ctx, "SELECT relkind::text FROM pg_class WHERE oid = 'candles'::regclass").Scan(&kind); err != nil {
		return fmt.Errorf("inspect candles: %w", err)
	}
	if kind != "p" {
		if _, err := conn.Exec(ctx, "CREATE TABLE candles_copy (LIKE candles INCLUDING ALL)"); err != nil {
			return fmt.Errorf("create candles_copy: %w", err)
		}
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE candles_copy (LIKE candles INCLUDING ALL) PARTITION BY RANGE (ts)"); err != nil {
		return fmt.Errorf("create candles_copy: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'candles'::regclass ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}
	type part struct{ name, bound string }
	var parts []part
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.name, &p.bound); err != nil {
			rows.Close()
			return fmt.Errorf("list partitions: %w", err)
		}
		parts = append(parts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}
	for _, p := range parts {
		q := "CREATE TABLE " + pgx.Identifier{p.name + "_copy"}.Sanitize() + " PARTITION OF candles_copy " + p.bound
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create partition %s_copy: %w", p.name, err)
		}
	}
	return nil
}
