// Package migrate applies versioned SQL files to a database and records what
// it applied, so running it again changes nothing and a file edited after it
// was applied is refused instead of silently diverging between environments.
//
// Files are named NNNN_description.sql and applied in version order. The
// package knows two stores, PostgreSQL (each file in one transaction) and
// ClickHouse (no transactions: each file's statements run in order and the
// file is recorded only after all of them succeeded, so migrations use
// IF NOT EXISTS and are safe to re-run after a failure half-way).
package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Migration is one versioned SQL file.
type Migration struct {
	Version  int
	Name     string // file name, e.g. 0001_ledger.sql
	SQL      string
	Checksum string // hex SHA-256 of SQL
}

// Applied is a migration as recorded in a store.
type Applied struct {
	Version   int
	Name      string
	Checksum  string
	AppliedAt time.Time
}

// Store is a database that migrations are applied to.
type Store interface {
	// Lock serialises concurrent migrators; the returned func releases it.
	Lock(ctx context.Context) (unlock func(), err error)
	// Applied lists the recorded migrations, creating the bookkeeping
	// table if needed.
	Applied(ctx context.Context) ([]Applied, error)
	// Apply runs one migration and records it.
	Apply(ctx context.Context, m Migration) error
}

// ErrChanged reports a file whose content differs from what was applied.
var ErrChanged = errors.New("migration changed after it was applied")

var fileName = regexp.MustCompile(`^(\d{4,})_[a-z0-9_]+\.sql$`)

// Load reads the migrations of a directory in fsys, sorted by version. Any
// other file, a malformed name or a duplicate version is an error, so a typo
// in a file name cannot make a migration silently skipped.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", dir, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must look like 0001_description.sql", path.Join(dir, e.Name()))
		}
		version, _ := strconv.Atoi(m[1])
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d", prev, e.Name(), version)
		}
		seen[version] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: version, Name: e.Name(), SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Result says what a run did.
type Result struct {
	Applied []Migration // applied by this run, in order
	Current int         // migrations that were already applied
}

// Run applies every migration the store has not recorded yet, in order. It
// first checks every recorded migration against its file and refuses to do
// anything if one changed or disappeared.
func Run(ctx context.Context, store Store, migrations []Migration) (Result, error) {
	unlock, err := store.Lock(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("lock migrations: %w", err)
	}
	defer unlock()

	applied, err := store.Applied(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("read applied migrations: %w", err)
	}
	byVersion := map[int]Migration{}
	for _, m := range migrations {
		byVersion[m.Version] = m
	}
	done := map[int]bool{}
	for _, a := range applied {
		m, ok := byVersion[a.Version]
		switch {
		case !ok:
			return Result{}, fmt.Errorf("migration %s (version %d) is recorded as applied but its file is missing", a.Name, a.Version)
		case m.Checksum != a.Checksum:
			return Result{}, fmt.Errorf("%w: %s was applied %s with checksum %.12s, the file now has %.12s; add a new migration instead of editing an applied one",
				ErrChanged, m.Name, a.AppliedAt.Format(time.RFC3339), a.Checksum, m.Checksum)
		}
		done[a.Version] = true
	}
	res := Result{Current: len(done)}
	for _, m := range migrations {
		if done[m.Version] {
			continue
		}
		if err := store.Apply(ctx, m); err != nil {
			return res, fmt.Errorf("apply %s: %w", m.Name, err)
		}
		res.Applied = append(res.Applied, m)
	}
	return res, nil
}
