package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionLockKey serialises partition DDL across processes.
const partitionLockKey = 0x73796e6364706172 // "syncdpar"

// monthStart returns the first instant of t's UTC month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(month time.Time) string {
	return fmt.Sprintf("candles_p%04d%02d", month.Year(), int(month.Month()))
}

// isPartitioned reports (and caches) whether candles is a natively partitioned
// table; a TimescaleDB hypertable makes its own chunks.
func (s *Store) isPartitioned(ctx context.Context) (bool, error) {
	s.partMu.Lock()
	defer s.partMu.Unlock()
	if s.partitioned != nil {
		return *s.partitioned, nil
	}
	var partitioned bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'candles'::regclass)`).Scan(&partitioned)
	if err != nil {
		return false, fmt.Errorf("inspect candles: %w", err)
	}
	s.partitioned = &partitioned
	if partitioned {
		rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'candles'::regclass`)
		if err != nil {
			return false, fmt.Errorf("list partitions: %w", err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return false, fmt.Errorf("list partitions: %w", err)
		}
		for _, n := range names {
			s.parts[n] = struct{}{}
		}
	}
	return partitioned, nil
}

// EnsurePartitions makes sure a partition exists for every month between from
// and to, both included. It is cheap when they are known to exist.
func (s *Store) EnsurePartitions(ctx context.Context, from, to time.Time) error {
	partitioned, err := s.isPartitioned(ctx)
	if err != nil || !partitioned {
		return err
	}
	var missing []time.Time
	s.partMu.Lock()
	for m := monthStart(from); !m.After(to); m = m.AddDate(0, 1, 0) {
		if _, ok := s.parts[partitionName(m)]; !ok {
			missing = append(missing, m)
		}
	}
	s.partMu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	err = s.tx(ctx, "create partitions", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockKey)); err != nil {
			return fmt.Errorf("lock partitions: %w", err)
		}
		var schema string
		if err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'candles'::regclass`).Scan(&schema); err != nil {
			return fmt.Errorf("find candles schema: %w", err)
		}
		for _, m := range missing {
			sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s.%s PARTITION OF %s.candles FOR VALUES FROM ('%s') TO ('%s')`,
				quoteIdent(schema), quoteIdent(partitionName(m)), quoteIdent(schema),
				m.Format(time.RFC3339), m.AddDate(0, 1, 0).Format(time.RFC3339))
			if _, err := tx.Exec(ctx, sql); err != nil && !isCode(err, codeDuplicateTable) {
				return fmt.Errorf("create partition %s: %w", partitionName(m), err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.partMu.Lock()
	for _, m := range missing {
		s.parts[partitionName(m)] = struct{}{}
	}
	s.partMu.Unlock()
	return nil
}
