package migrate

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// lockKey is the advisory lock all CreatorFlow migrators of one database
// share ("cfmigrat" in ASCII).
const lockKey int64 = 0x63666d6967726174

// Postgres is a Store on a PostgreSQL connection. Each migration runs in one
// transaction together with its bookkeeping row: it is applied whole or not
// at all.
type Postgres struct{ Conn *pgx.Conn }

// Lock takes a session advisory lock, so a second migrator waits.
func (p Postgres) Lock(ctx context.Context) (func(), error) {
	if _, err := p.Conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return nil, err
	}
	return func() {
		// A fresh context: the lock must be released even when ctx is done.
		_, _ = p.Conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey)
	}, nil
}

// Applied implements Store.
func (p Postgres) Applied(ctx context.Context) ([]Applied, error) {
	if _, err := p.Conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		checksum   text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, err
	}
	rows, err := p.Conn.Query(ctx, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Applied, error) {
		var a Applied
		err := r.Scan(&a.Version, &a.Name, &a.Checksum, &a.AppliedAt)
		return a, err
	})
}

// Apply implements Store.
func (p Postgres) Apply(ctx context.Context, m Migration) error {
	return pgx.BeginFunc(ctx, p.Conn, func(tx pgx.Tx) error {
		// No arguments: pgx sends the file with the simple protocol, which
		// accepts several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
			m.Version, m.Name, m.Checksum)
		if err != nil {
			return fmt.Errorf("record migration: %w", err)
		}
		return nil
	})
}
