package migrate_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creatorflow/creatorflow/pipeline/migrate"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/schemas/migrations"
)

// runTwiceThenEdit applies the project's real migrations to a real store
// twice (the second run must change nothing) and then checks that an edited
// applied file is refused.
func runTwiceThenEdit(t *testing.T, store migrate.Store, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ms, err := migrate.Load(migrations.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatalf("no migrations in %s", dir)
	}
	res, err := migrate.Run(ctx, store, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != len(ms) {
		t.Fatalf("first run applied %d of %d", len(res.Applied), len(ms))
	}
	res, err = migrate.Run(ctx, store, ms)
	if err != nil || len(res.Applied) != 0 || res.Current != len(ms) {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	edited := append([]migrate.Migration(nil), ms...)
	edited[0].Checksum = "0000"
	if _, err := migrate.Run(ctx, store, edited); !errors.Is(err, migrate.ErrChanged) {
		t.Fatalf("edited file: err = %v, want ErrChanged", err)
	}
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	url := stacktest.Postgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	runTwiceThenEdit(t, migrate.Postgres{Conn: conn}, migrations.Postgres)

	// A file is applied whole or not at all.
	bad := fstest.MapFS{"m/0001_half.sql": {Data: []byte("CREATE TABLE half (x int); SELECT no_such_column FROM half;")}}
	ms, _ := migrate.Load(bad, "m")
	other := stacktest.Postgres(t)
	conn2, err := pgx.Connect(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	if _, err := migrate.Run(ctx, migrate.Postgres{Conn: conn2}, ms); err == nil {
		t.Fatal("a failing migration succeeded")
	}
	var n int
	if err := conn2.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'half'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("failed migration left table behind: n=%d err=%v", n, err)
	}
}

func TestClickHouse(t *testing.T) {
	t.Parallel()
	conn := stacktest.ClickHouseConn(t, stacktest.ClickHouse(t))
	runTwiceThenEdit(t, migrate.ClickHouse{Conn: conn}, migrations.ClickHouse)
}
