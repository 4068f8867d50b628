package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/creatorflow/creatorflow/pipeline/migrate"
	"github.com/creatorflow/creatorflow/schemas/migrations"
)

var migrateCommand = command{
	name:    "migrate",
	summary: "apply the SQL migrations of PostgreSQL and ClickHouse",
	run:     runMigrate,
}

const migrateUsage = `usage: creatorflow migrate [flags]

Applies the versioned SQL files built into the binary (schemas/migrations) that
a database has not recorded yet, and records them. Running it again changes
nothing. A file edited after it was applied is refused: add a new migration.
The ClickHouse database is created if it does not exist.`

func runMigrate(ctx context.Context, e *env, args []string) error {
	var (
		pg   postgresFlags
		ch   clickhouseFlags
		only string
	)
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	pg.register(fs)
	ch.register(fs)
	fs.StringVar(&only, "only", "", "migrate only this store: postgres or clickhouse")
	if err := parse(fs, migrateUsage, e, args); err != nil {
		return err
	}
	if only != "" && only != "postgres" && only != "clickhouse" {
		return usageError{fmt.Errorf("--only must be postgres or clickhouse, not %q", only)}
	}
	if only != "clickhouse" {
		if err := migratePostgres(ctx, e, pg.url); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	if only != "postgres" {
		if err := migrateClickHouse(ctx, e, ch); err != nil {
			return fmt.Errorf("clickhouse: %w", err)
		}
	}
	return nil
}

func migratePostgres(ctx context.Context, e *env, u string) error {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return fmt.Errorf("connect %s: %w", redact(u), err)
	}
	defer conn.Close(context.Background())
	return runMigrations(ctx, e, "postgres", migrate.Postgres{Conn: conn}, migrations.Postgres)
}

func migrateClickHouse(ctx context.Context, e *env, f clickhouseFlags) error {
	opts, err := clickhouse.ParseDSN(f.url)
	if err != nil {
		return usageError{fmt.Errorf("--clickhouse-url: %w", err)}
	}
	if err := createClickHouseDatabase(ctx, f.url, opts.Auth.Database); err != nil {
		return err
	}
	conn, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return runMigrations(ctx, e, "clickhouse", migrate.ClickHouse{Conn: conn}, migrations.ClickHouse)
}

// createClickHouseDatabase creates the URL's database through the server's
// always-present "default" database.
func createClickHouseDatabase(ctx context.Context, dsn, database string) error {
	if database == "" || database == "default" {
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return usageError{fmt.Errorf("--clickhouse-url: %w", err)}
	}
	u.Path = "/default"
	admin := clickhouseFlags{url: u.String()}
	conn, err := admin.open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(database)); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	return nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func runMigrations(ctx context.Context, e *env, store string, s migrate.Store, dir string) error {
	ms, err := migrate.Load(migrations.FS, dir)
	if err != nil {
		return err
	}
	res, err := migrate.Run(ctx, s, ms)
	for _, m := range res.Applied {
		fmt.Fprintf(e.stdout, "%s: applied %s\n", store, m.Name)
	}
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(e.stdout, "%s: up to date (%d migrations)\n", store, res.Current)
	}
	return nil
}
