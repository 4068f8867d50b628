package migrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouse is a Store on a ClickHouse connection whose default database is
// the one to migrate. It works on ClickHouse 18.16 and current releases.
type ClickHouse struct{ Conn driver.Conn }

// Lock implements Store. ClickHouse has no locks: deployments run one
// migrator at a time (the migrate job), which is what operations.md says.
func (ClickHouse) Lock(context.Context) (func(), error) { return func() {}, nil }

// Applied implements Store.
func (c ClickHouse) Applied(ctx context.Context) ([]Applied, error) {
	if err := c.Conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    UInt32,
		name       String,
		checksum   String,
		applied_at DateTime
	) ENGINE = MergeTree ORDER BY version`); err != nil {
		return nil, err
	}
	rows, err := c.Conn.Query(ctx, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var (
			a       Applied
			version uint32
		)
		if err := rows.Scan(&version, &a.Name, &a.Checksum, &a.AppliedAt); err != nil {
			return nil, err
		}
		a.Version = int(version)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Apply runs the file's statements one by one (the native protocol takes one
// per query) and then records the file.
func (c ClickHouse) Apply(ctx context.Context, m Migration) error {
	for i, stmt := range SplitStatements(m.SQL) {
		if err := c.Conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	// Named columns: ClickHouse 18.16 over the native protocol needs them.
	batch, err := c.Conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, checksum, applied_at)")
	if err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	if err := batch.Append(uint32(m.Version), m.Name, m.Checksum, time.Now().UTC().Truncate(time.Second)); err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record migration: %w", err)
	}
	return nil
}

// SplitStatements splits SQL text on semicolons that end a statement,
// ignoring semicolons inside quotes and comments, and drops comments and
// empty statements.
func SplitStatements(sql string) []string {
	var (
		out  []string
		cur  strings.Builder
		quot rune // the open quote character, or 0
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	rs := []rune(sql)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quot != 0:
			cur.WriteRune(r)
			if r == '\\' && i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			} else if r == quot {
				quot = 0
			}
		case r == '\'' || r == '"' || r == '`':
			quot = r
			cur.WriteRune(r)
		case r == '-' && i+1 < len(rs) && rs[i+1] == '-':
			for i < len(rs) && rs[i] != '\n' {
				i++
			}
			cur.WriteRune('\n')
		case r == '/' && i+1 < len(rs) && rs[i+1] == '*':
			for i += 3; i < len(rs) && !(rs[i-1] == '*' && rs[i] == '/'); i++ {
			}
			cur.WriteRune(' ')
		case r == ';':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}
