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
	if !migrated {
		return databaseAt(t, 0)
	}
	return databaseAt(t, -1)
}

// databaseAt returns a connection to a fresh database with the first n
// migrations applied, or all of them when n is -1.
func databaseAt(t *testing.T, n int) *pgx.Conn {
	t.Helper()
	url := stacktest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if n != 0 {
		ms, err := migrate.Load(migrations.FS, migrations.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			ms = ms[:n]
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
		SELECT max(updated_at) FROM catalog_suppliers UNION ALL
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

	// changed is a part of small: shop-b renamed, sup-b slower, a new
	// supplier, sku-3 restocked, repriced and moved to the new supplier
	// with its settings back to the defaults, sku-2 naming sup-a, which
	// only the database has, v2 promoting only sku-2, v3 inactive, and a
	// new item.
	changed := catalog.Catalog{
		Shops:     []catalog.Shop{{ID: "shop-a", Cipher: "CIPHER_A", Name: "Glow Co"}, {ID: "shop-b", Cipher: "shop-b", Name: "Bee"}},
		Suppliers: []catalog.Supplier{{ID: "sup-b", LeadTimeHours: 96}, {ID: "sup-c", Name: "Cee", LeadTimeHours: 0.25}},
		SKUs: []catalog.SKU{
			small.SKUs[1],
			{ID: "sku-3", ShopID: "shop-b", ProductID: "prod-9", StartingStock: 70, UnitPrice: "2.50", SupplierID: "sup-c"},
		},
		Content: []catalog.Content{
			{ID: "v2", ShopID: "shop-a", Active: true, SKUIDs: []string{"sku-2"}},
			{ID: "v3", ShopID: "shop-b", SKUIDs: []string{"sku-3"}},
			{ID: "v4", ShopID: "shop-b", Active: true},
		},
	}
	afterChange := catalog.Catalog{
		Shops:     changed.Shops,
		Suppliers: []catalog.Supplier{small.Suppliers[0], changed.Suppliers[0], changed.Suppliers[1]},
		SKUs:      []catalog.SKU{small.SKUs[0], changed.SKUs[0], changed.SKUs[1]},
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
			want: catalog.Result{Shops: catalog.Counts{Inserted: 2}, Suppliers: catalog.Counts{Inserted: 2}, SKUs: catalog.Counts{Inserted: 3},
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
			want: catalog.Result{Shops: catalog.Counts{Unchanged: 2}, Suppliers: catalog.Counts{Unchanged: 2}, SKUs: catalog.Counts{Unchanged: 3},
				Content: catalog.Counts{Unchanged: 3}},
			wantLoad:  small,
			untouched: true,
		},
		{
			name: "a part of the catalog, changed",
			in:   changed,
			want: catalog.Result{Shops: catalog.Counts{Updated: 1, Unchanged: 1}, Suppliers: catalog.Counts{Inserted: 1, Updated: 1},
				SKUs:    catalog.Counts{Updated: 1, Unchanged: 1},
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
		// The inventory processors' read agrees with the catalog's, whose
		// defaults TestCatalogPlans checks.
		plans, err := catalog.Replenishment(ctx, conn)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if want := step.wantLoad.Plans(); !reflect.DeepEqual(plans, want) {
			t.Errorf("%s: replenishment\n%+v\nwant\n%+v", step.name, plans, want)
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

	// sku-3's settings went back to the defaults, stored as NULL, and its
	// lead time is its new supplier's.
	plans, err := catalog.Replenishment(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	want := catalog.Plan{SKU: "sku-3", ShopID: "shop-b", StartingStock: 70, UnitPrice: "2.50", SupplierID: "sup-c",
		LeadTime: 15 * time.Minute, ServiceLevel: catalog.DefaultServiceLevel, ReviewPeriod: 24 * time.Hour, MinOrderQty: 1}
	if len(plans) != 3 || plans[2] != want {
		t.Errorf("replenishment %+v, want sku-3's %+v", plans, want)
	}
	var nulls int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM catalog_skus WHERE sku_id = 'sku-3'
		AND lead_time_hours IS NULL AND service_level IS NULL AND review_period_hours IS NULL AND min_order_qty = 0`).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("sku-3's defaults are not stored as NULL: %d, %v", nulls, err)
	}
}

// TestCatalogNumbers checks that settings Go holds as float64s read back
// exactly, so that importing them again finds them unchanged.
func TestCatalogNumbers(t *testing.T) {
	t.Parallel()
	conn := database(t, true)
	ctx := context.Background()
	c := catalog.Catalog{
		Shops:     []catalog.Shop{{ID: "s", Cipher: "s"}},
		Suppliers: []catalog.Supplier{{ID: "a", LeadTimeHours: 0.1 + 0.2}, {ID: "b", LeadTimeHours: 1e-7}, {ID: "c", LeadTimeHours: catalog.MaxHours}},
		SKUs: []catalog.SKU{{ID: "k", ShopID: "s", ProductID: "p", SupplierID: "a", LeadTimeHours: 8759.999999999998,
			ServiceLevel: 2.0 / 3, ReviewPeriodHours: 1.0 / 3, MinOrderQty: catalog.MaxMinOrderQty, StartingStock: catalog.MaxStartingStock}},
	}
	if _, err := catalog.Import(ctx, conn, c); err != nil {
		t.Fatal(err)
	}
	loaded, err := catalog.Load(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, c) {
		t.Errorf("loaded\n%+v\nwant\n%+v", loaded, c)
	}
	res, err := catalog.Import(ctx, conn, loaded)
	if want := (catalog.Result{Shops: catalog.Counts{Unchanged: 1}, Suppliers: catalog.Counts{Unchanged: 3}, SKUs: catalog.Counts{Unchanged: 1}}); err != nil || res != want {
		t.Errorf("import of what was loaded: %+v, %v; want %+v", res, err, want)
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
		// sup-a is only in the database, sup-new only in the file: both
		// are fine. The places are those of the catalog given, in which
		// sku-1 is named twice.
		{"unknown suppliers", func() (catalog.Result, error) {
			bad := small
			bad.Suppliers = []catalog.Supplier{{ID: "sup-new", LeadTimeHours: 1}}
			bad.SKUs = []catalog.SKU{
				{ID: "sku-1", ShopID: "shop-a", ProductID: "prod-1", SupplierID: "sup-x"},
				{ID: "sku-1", ShopID: "shop-a", ProductID: "prod-1", SupplierID: "sup-x"},
				{ID: "sku-2", ShopID: "shop-a", ProductID: "prod-1", SupplierID: "sup-a"},
				{ID: "sku-3", ShopID: "shop-b", ProductID: "prod-9", SupplierID: "sup-new"},
				{ID: "sku-4", ShopID: "shop-b", ProductID: "prod-9", SupplierID: "sup-y"},
			}
			return catalog.DryRun(ctx, conn, bad)
		}, `skus[0]: SKU "sku-1": supplier "sup-x" is neither in the file nor in the database
skus[1]: SKU "sku-1": supplier "sup-x" is neither in the file nor in the database
skus[4]: SKU "sku-4": supplier "sup-y" is neither in the file nor in the database`},
	} {
		res, err := tt.try()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			if err != nil {
				t.Logf("%s: error:\n%v", tt.name, err)
			}
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
// creates the tables has not run, or a later one that adds columns (a
// binary newer than its database).
func TestCatalogNotMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name       string
		migrations int
	}{{"none", 0}, {"up to 0002_catalog.sql", 2}} {
		conn := databaseAt(t, tt.migrations)
		_, errImport := catalog.Import(ctx, conn, small)
		_, errLoad := catalog.Load(ctx, conn)
		_, errPlans := catalog.Replenishment(ctx, conn)
		errs := []error{errImport, errLoad, errPlans}
		if tt.migrations == 0 { // the poller's read needs only 0002
			_, errActive := catalog.ActiveContent(ctx, conn)
			errs = append(errs, errActive)
		}
		for _, err := range errs {
			if !errors.Is(err, catalog.ErrNotMigrated) || !strings.Contains(err.Error(), "run creatorflow migrate first") {
				t.Errorf("%s: error %v, want ErrNotMigrated", tt.name, err)
			}
		}
	}
}
