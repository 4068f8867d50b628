package catalog_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/pipeline/migrate"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/schemas/migrations"
)

// database returns a connection to a fresh database, with the migrations
// applied when migrated is set.
func database(t *testing.T, migrated bool) *pgx.Conn {
	t.Helper()
	url := stacktest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if migrated {
		ms, err := migrate.Load(migrations.FS, migrations.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := migrate.Run(ctx, migrate.Postgres{Conn: conn}, ms); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// lastUpdate is the latest updated_at of the catalog's tables.
func lastUpdate(t *testing.T, conn *pgx.Conn) time.Time {
	t.Helper()
	var at time.Time
	err := conn.QueryRow(context.Background(), `SELECT max(u) FROM (
		SELECT max(updated_at) FROM catalog_shops UNION ALL
		SELECT max(updated_at) FROM catalog_skus UNION ALL
		SELECT max(updated_at) FROM catalog_content) AS t(u)`).Scan(&at)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestCatalogImport imports files one after the other into one database
// and checks after each what it reported, what the database holds and
// what the poller is given.
func TestCatalogImport(t *testing.T) {
	t.Parallel()
	conn := database(t, true)
	ctx := context.Background()

	// changed is a part of small: shop-b renamed, sku-3 restocked and
	// repriced, v2 promoting only sku-2, v3 inactive, and a new item.
	changed := catalog.Catalog{
		Shops: []catalog.Shop{{ID: "shop-a", Cipher: "CIPHER_A", Name: "Glow Co"}, {ID: "shop-b", Cipher: "shop-b", Name: "Bee"}},
		SKUs: []catalog.SKU{
			small.SKUs[1],
			{ID: "sku-3", ShopID: "shop-b", ProductID: "prod-9", StartingStock: 70, UnitPrice: "2.50"},
		},
		Content: []catalog.Content{
			{ID: "v2", ShopID: "shop-a", Active: true, SKUIDs: []string{"sku-2"}},
			{ID: "v3", ShopID: "shop-b", SKUIDs: []string{"sku-3"}},
			{ID: "v4", ShopID: "shop-b", Active: true},
		},
	}
	afterChange := catalog.Catalog{
		Shops: changed.Shops,
		SKUs:  []catalog.SKU{small.SKUs[0], changed.SKUs[0], changed.SKUs[1]},
		Content: []catalog.Content{small.Content[0], changed.Content[0], changed.Content[1],
			{ID: "v4", ShopID: "shop-b", Active: true}},
	}

	for _, step := range []struct {
		name       string
		in         catalog.Catalog
		want       catalog.Result
		wantLoad   catalog.Catalog
		wantActive []catalog.Item
		untouched  bool // no row may be written, not even updated_at
	}{
		{
			name: "first import",
			in:   small,
			want: catalog.Result{Shops: catalog.Counts{Inserted: 2}, SKUs: catalog.Counts{Inserted: 3},
				Content: catalog.Counts{Inserted: 3}, LinksAdded: 4},
			wantLoad: small,
			wantActive: []catalog.Item{
				{ContentID: "v1", ShopID: "shop-a", ShopCipher: "CIPHER_A", SKUIDs: []string{"sku-1"}},
				{ContentID: "v2", ShopID: "shop-a", ShopCipher: "CIPHER_A", SKUIDs: []string{"sku-1", "sku-2"}},
				{ContentID: "v3", ShopID: "shop-b", ShopCipher: "shop-b", SKUIDs: []string{"sku-3"}},
			},
		},
		{
			name: "same file again",
			in:   small,
			want: catalog.Result{Shops: catalog.Counts{Unchanged: 2}, SKUs: catalog.Counts{Unchanged: 3},
				Content: catalog.Counts{Unchanged: 3}},
			wantLoad:  small,
			untouched: true,
		},
		{
			name: "a part of the catalog, changed",
			in:   changed,
			want: catalog.Result{Shops: catalog.Counts{Updated: 1, Unchanged: 1}, SKUs: catalog.Counts{Updated: 1, Unchanged: 1},
				Content: catalog.Counts{Inserted: 1, Updated: 1, Unchanged: 1}, LinksRemoved: 1},
			wantLoad: afterChange,
			wantActive: []catalog.Item{
				{ContentID: "v1", ShopID: "shop-a", ShopCipher: "CIPHER_A", SKUIDs: []string{"sku-1"}},
				{ContentID: "v2", ShopID: "shop-a", ShopCipher: "CIPHER_A", SKUIDs: []string{"sku-2"}},
				{ContentID: "v4", ShopID: "shop-b", ShopCipher: "shop-b"},
			},
		},
	} {
		var before time.Time
		if step.untouched {
			before = lastUpdate(t, conn)
		}
		got, err := catalog.Import(ctx, conn, step.in)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got != step.want {
			t.Errorf("%s: result %+v, want %+v", step.name, got, step.want)
		}
		loaded, err := catalog.Load(ctx, conn)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !reflect.DeepEqual(loaded, step.wantLoad) {
			t.Errorf("%s: loaded\n%+v\nwant\n%+v", step.name, loaded, step.wantLoad)
		}
		if step.untouched {
			if after := lastUpdate(t, conn); !after.Equal(before) {
				t.Errorf("%s: updated_at moved from %v to %v", step.name, before, after)
			}
		}
		if step.wantActive == nil {
			continue
		}
		active, err := catalog.ActiveContent(ctx, conn)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !reflect.DeepEqual(active, step.wantActive) {
			t.Errorf("%s: active content\n%+v\nwant\n%+v", step.name, active, step.wantActive)
		}
	}
}

// TestCatalogImportAllOrNothing fails imports, one at its last statement,
// and checks that nothing of them stays, and that a dry run writes nothing.
func TestCatalogImportAllOrNothing(t *testing.T) {
	t.Parallel()
	conn := database(t, true)
	ctx := context.Background()
	if _, err := catalog.Import(ctx, conn, small); err != nil {
		t.Fatal(err)
	}

	// The file is consistent in itself, but moves sku-1 to shop-b while
	// content v1 of shop-a, which the file does not name, promotes it.
	// Every table is written before the check finds that.
	moved := catalog.Catalog{
		Shops: []catalog.Shop{{ID: "shop-a", Cipher: "NEW_CIPHER"}, {ID: "shop-b", Cipher: "shop-b"}, {ID: "shop-c", Cipher: "shop-c"}},
		SKUs: []catalog.SKU{
			{ID: "sku-1", ShopID: "shop-b", ProductID: "prod-1", StartingStock: 1},
			{ID: "sku-9", ShopID: "shop-c", ProductID: "prod-9"},
		},
		Content: []catalog.Content{{ID: "v2", ShopID: "shop-a", Active: true}, {ID: "v9", ShopID: "shop-c", Active: true, SKUIDs: []string{"sku-9"}}},
	}
	want := `content item "v1" of shop "shop-a", which the file does not name, promotes SKU "sku-1", which the file puts in shop "shop-b": add the content item to the file with the SKUs it promotes now`

	for _, tt := range []struct {
		name string
		try  func() (catalog.Result, error)
		want string
	}{
		{"import", func() (catalog.Result, error) { return catalog.Import(ctx, conn, moved) }, want},
		{"dry run", func() (catalog.Result, error) { return catalog.DryRun(ctx, conn, moved) }, want},
		{"invalid catalog", func() (catalog.Result, error) {
			bad := moved
			bad.SKUs = append([]catalog.SKU{{ID: "sku-0", ShopID: "shop-x", ProductID: "p"}}, moved.SKUs...)
			return catalog.Import(ctx, conn, bad)
		}, `skus[0]: shop "shop-x" is not in the catalog`},
	} {
		res, err := tt.try()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %+v, error %v; want an error with %q", tt.name, res, err, tt.want)
		}
		loaded, err := catalog.Load(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(loaded, small) {
			t.Errorf("%s left a trace:\n%+v", tt.name, loaded)
		}
	}

	// A dry run of an import that would succeed reports what it would write.
	moved.Content = append(moved.Content, catalog.Content{ID: "v1", ShopID: "shop-a", Active: true})
	res, err := catalog.DryRun(ctx, conn, moved)
	if err != nil {
		t.Fatal(err)
	}
	want2 := catalog.Result{Shops: catalog.Counts{Inserted: 1, Updated: 1, Unchanged: 1}, SKUs: catalog.Counts{Inserted: 1, Updated: 1},
		Content: catalog.Counts{Inserted: 1, Unchanged: 2}, LinksAdded: 1, LinksRemoved: 3}
	if res != want2 {
		t.Errorf("dry run: %+v, want %+v", res, want2)
	}
	if loaded, err := catalog.Load(ctx, conn); err != nil || !reflect.DeepEqual(loaded, small) {
		t.Errorf("dry run wrote: %+v, %v", loaded, err)
	}
}

// TestCatalogNotMigrated checks the advice given when the migration that
// creates the tables has not run.
func TestCatalogNotMigrated(t *testing.T) {
	t.Parallel()
	conn := database(t, false)
	ctx := context.Background()
	_, errImport := catalog.Import(ctx, conn, small)
	_, errLoad := catalog.Load(ctx, conn)
	_, errActive := catalog.ActiveContent(ctx, conn)
	for _, err := range []error{errImport, errLoad, errActive} {
		if !errors.Is(err, catalog.ErrNotMigrated) || !strings.Contains(err.Error(), "run creatorflow migrate first") {
			t.Errorf("error %v, want ErrNotMigrated", err)
		}
	}
}
