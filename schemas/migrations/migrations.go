// Package migrations embeds the versioned SQL of CreatorFlow's stores, so the
// binary carries the schema it was built for. `creatorflow migrate` applies
// them; see pipeline/migrate for the rules (never edit an applied file: add a
// new one).
package migrations

import "embed"

// FS holds the directories Postgres and ClickHouse.
//
//go:embed postgres/*.sql clickhouse/*.sql
var FS embed.FS

// Directories of FS, one per store.
const (
	Postgres   = "postgres"
	ClickHouse = "clickhouse"
)
