package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is a PostgreSQL connection or pool: *pgx.Conn and *pgxpool.Pool both
// are one.
type DB interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ErrNotMigrated reports that the catalog tables do not exist yet, or lack
// columns of a later migration.
var ErrNotMigrated = errors.New("the catalog tables do not exist or are out of date: run creatorflow migrate first")

// Result says how many rows an import wrote, or a dry run would write.
type Result struct {
	Shops, Suppliers, SKUs, Content Counts
	// LinksAdded and LinksRemoved count the content-to-SKU links that
	// appeared and disappeared.
	LinksAdded, LinksRemoved int
}

// Counts are the rows of one table that an import named.
type Counts struct {
	Inserted  int // new
	Updated   int // existed with other values
	Unchanged int // existed as in the file, and were not touched
}

// Import writes a catalog in one transaction, all of it or nothing: it
// inserts or updates every shop, supplier, SKU and content item of the
// catalog and makes each content item's links exactly the SKUs the catalog
// lists for it. Nothing the catalog does not name is deleted or changed, so
// a file may hold a part of the catalog; remove rows with SQL. Rows that
// already hold the catalog's values are not written, so importing the same
// file again changes nothing, not even updated_at.
//
// The catalog is first checked as by Validate. Two rules span the file and
// the database: a SKU's supplier must be in the catalog or in the
// database, and a SKU that the file moves to another shop must not stay
// promoted by a content item the file does not name, since a content item
// promotes only SKUs of its own shop. An import breaking them fails.
func Import(ctx context.Context, db DB, c Catalog) (Result, error) {
	return write(ctx, db, c, true)
}

// DryRun is Import without the commit: it reports what Import would write,
// checked against the database as Import checks it, and writes nothing.
func DryRun(ctx context.Context, db DB, c Catalog) (Result, error) {
	return write(ctx, db, c, false)
}

func write(ctx context.Context, db DB, in Catalog, commit bool) (Result, error) {
	c, err := Validate(in)
	if err != nil {
		return Result{}, err
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return Result{}, dbError("begin catalog transaction", err)
	}
	// After a commit this does nothing; otherwise it undoes everything,
	// also when ctx is already done.
	defer func() { _ = tx.Rollback(context.Background()) }()

	// The places of problems are those of the caller's catalog, as
	// Validate's are, not those of its merged copy.
	if err := checkSuppliers(ctx, tx, c.Suppliers, in.SKUs); err != nil {
		return Result{}, err
	}
	var res Result
	if res.Shops, err = upsert(ctx, tx, "shops", upsertShops, len(c.Shops), shopColumns(c.Shops)...); err != nil {
		return Result{}, err
	}
	if res.Suppliers, err = upsert(ctx, tx, "suppliers", upsertSuppliers, len(c.Suppliers), supplierColumns(c.Suppliers)...); err != nil {
		return Result{}, err
	}
	if res.SKUs, err = upsert(ctx, tx, "SKUs", upsertSKUs, len(c.SKUs), skuColumns(c.SKUs)...); err != nil {
		return Result{}, err
	}
	contentIDs, shopIDs, active := contentColumns(c.Content)
	if res.Content, err = upsert(ctx, tx, "content", upsertContent, len(c.Content), contentIDs, shopIDs, active); err != nil {
		return Result{}, err
	}
	var linkContent, linkSKUs []string
	for _, ct := range c.Content {
		for _, sku := range ct.SKUIDs {
			linkContent = append(linkContent, ct.ID)
			linkSKUs = append(linkSKUs, sku)
		}
	}
	tag, err := tx.Exec(ctx, deleteLinks, contentIDs, linkContent, linkSKUs)
	if err != nil {
		return Result{}, dbError("remove content links", err)
	}
	res.LinksRemoved = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, insertLinks, linkContent, linkSKUs)
	if err != nil {
		return Result{}, dbError("add content links", err)
	}
	res.LinksAdded = int(tag.RowsAffected())
	if err := checkLinkShops(ctx, tx, c.SKUs); err != nil {
		return Result{}, err
	}
	if !commit {
		return res, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, dbError("commit catalog", err)
	}
	return res, nil
}

// The upserts update only rows whose values differ (so a repeated import
// leaves updated_at alone) and return, for each row written, whether it was
// inserted: a tuple the statement inserted has xmax 0, while ON CONFLICT
// locks an existing row before updating it, which sets xmax.
const (
	upsertShops = `
INSERT INTO catalog_shops AS t (shop_id, shop_cipher, name)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
ON CONFLICT (shop_id) DO UPDATE
SET shop_cipher = excluded.shop_cipher, name = excluded.name, updated_at = now()
WHERE (t.shop_cipher, t.name) IS DISTINCT FROM (excluded.shop_cipher, excluded.name)
RETURNING xmax = 0`

	// Numbers travel as text written by strconv (see decimal), so the
	// numeric columns hold exactly what Go holds and read back the same
	// float64s.
	upsertSuppliers = `
INSERT INTO catalog_suppliers AS t (supplier_id, name, lead_time_hours, email)
SELECT id, name, lead::numeric, email FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, name, lead, email)
ON CONFLICT (supplier_id) DO UPDATE
SET name = excluded.name, lead_time_hours = excluded.lead_time_hours, email = excluded.email, updated_at = now()
WHERE (t.name, t.lead_time_hours, t.email) IS DISTINCT FROM (excluded.name, excluded.lead_time_hours, excluded.email)
RETURNING xmax = 0`

	// A SKU's unset settings are NULL (min_order_qty: 0), which Load and
	// Replenishment read as Go's 0.
	upsertSKUs = `
INSERT INTO catalog_skus AS t (sku_id, shop_id, product_id, seller_sku, title, starting_stock, unit_price,
	supplier_id, lead_time_hours, service_level, review_period_hours, min_order_qty)
SELECT id, shop, product, seller, title, stock, nullif(price, '')::numeric,
	nullif(supplier, ''), nullif(lead, '')::numeric, nullif(level, '')::numeric, nullif(review, '')::numeric, moq
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[],
	$8::text[], $9::text[], $10::text[], $11::text[], $12::integer[])
	AS u(id, shop, product, seller, title, stock, price, supplier, lead, level, review, moq)
ON CONFLICT (sku_id) DO UPDATE
SET shop_id = excluded.shop_id, product_id = excluded.product_id, seller_sku = excluded.seller_sku,
	title = excluded.title, starting_stock = excluded.starting_stock, unit_price = excluded.unit_price,
	supplier_id = excluded.supplier_id, lead_time_hours = excluded.lead_time_hours, service_level = excluded.service_level,
	review_period_hours = excluded.review_period_hours, min_order_qty = excluded.min_order_qty,
	updated_at = now()
WHERE (t.shop_id, t.product_id, t.seller_sku, t.title, t.starting_stock, t.unit_price,
		t.supplier_id, t.lead_time_hours, t.service_level, t.review_period_hours, t.min_order_qty)
	IS DISTINCT FROM (excluded.shop_id, excluded.product_id, excluded.seller_sku, excluded.title, excluded.starting_stock, excluded.unit_price,
		excluded.supplier_id, excluded.lead_time_hours, excluded.service_level, excluded.review_period_hours, excluded.min_order_qty)
RETURNING xmax = 0`

	// The suppliers the file's SKUs name but the file does not have. FOR
	// KEY SHARE keeps them from being deleted before the import commits.
	knownSuppliers = `
SELECT supplier_id FROM catalog_suppliers WHERE supplier_id = ANY($1::text[]) FOR KEY SHARE`

	upsertContent = `
INSERT INTO catalog_content AS t (content_id, shop_id, active)
SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[])
ON CONFLICT (content_id) DO UPDATE
SET shop_id = excluded.shop_id, active = excluded.active, updated_at = now()
WHERE (t.shop_id, t.active) IS DISTINCT FROM (excluded.shop_id, excluded.active)
RETURNING xmax = 0`

	// NOT IN over a subquery is planned as a hashed subplan: linear in
	// the links, where NOT EXISTS over unnest would be quadratic.
	deleteLinks = `
DELETE FROM catalog_content_skus l
WHERE l.content_id = ANY($1::text[])
	AND (l.content_id, l.sku_id) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))`

	insertLinks = `
INSERT INTO catalog_content_skus (content_id, sku_id)
SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT DO NOTHING`

	// Links of the file's content are checked before the import; links of
	// other content to the file's SKUs can only be checked here.
	crossShopLinks = `
SELECT l.content_id, c.shop_id, l.sku_id, s.shop_id
FROM catalog_content_skus l
JOIN catalog_content c ON c.content_id = l.content_id
JOIN catalog_skus s ON s.sku_id = l.sku_id
WHERE l.sku_id = ANY($1::text[]) AND c.shop_id <> s.shop_id
ORDER BY l.content_id COLLATE "C", l.sku_id COLLATE "C"
LIMIT $2`
)

func upsert(ctx context.Context, tx pgx.Tx, table, sql string, n int, columns ...any) (Counts, error) {
	rows, err := tx.Query(ctx, sql, columns...)
	if err != nil {
		return Counts{}, dbError("write catalog "+table, err)
	}
	inserted, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return Counts{}, dbError("write catalog "+table, err)
	}
	var cnt Counts
	for _, ins := range inserted {
		if ins {
			cnt.Inserted++
		} else {
			cnt.Updated++
		}
	}
	cnt.Unchanged = n - len(inserted)
	return cnt, nil
}

func shopColumns(shops []Shop) []any {
	ids, ciphers, names := make([]string, len(shops)), make([]string, len(shops)), make([]string, len(shops))
	for i, s := range shops {
		ids[i], ciphers[i], names[i] = s.ID, s.Cipher, s.Name
	}
	return []any{ids, ciphers, names}
}

func supplierColumns(suppliers []Supplier) []any {
	n := len(suppliers)
	ids, names, leads, emails := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, s := range suppliers {
		ids[i], names[i], leads[i], emails[i] = s.ID, s.Name, decimal(s.LeadTimeHours), s.Email
	}
	return []any{ids, names, leads, emails}
}

func skuColumns(skus []SKU) []any {
	n := len(skus)
	ids, shops, products, sellers, titles, prices := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	suppliers, leads, levels, reviews := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	stocks, moqs := make([]int32, n), make([]int32, n)
	for i, s := range skus {
		ids[i], shops[i], products[i], sellers[i], titles[i], prices[i] = s.ID, s.ShopID, s.ProductID, s.SellerSKU, s.Title, s.UnitPrice
		suppliers[i], leads[i], levels[i], reviews[i] = s.SupplierID, decimal(s.LeadTimeHours), decimal(s.ServiceLevel), decimal(s.ReviewPeriodHours)
		// Validate bounds both by MaxStartingStock and MaxMinOrderQty.
		stocks[i], moqs[i] = int32(s.StartingStock), int32(s.MinOrderQty)
	}
	return []any{ids, shops, products, sellers, titles, stocks, prices, suppliers, leads, levels, reviews, moqs}
}

// decimal writes a setting for a numeric column: the shortest text that
// reads back as the same float64, or "" for 0, which is stored as NULL
// (the default).
func decimal(v float64) string {
	if v == 0 {
		return ""
	}
	return number(v)
}

// checkSuppliers checks that every supplier the SKUs name is in the
// catalog's suppliers or in the database, and reports each SKU naming
// one that is in neither with its place in skus.
func checkSuppliers(ctx context.Context, tx pgx.Tx, suppliers []Supplier, skus []SKU) error {
	known := map[string]bool{"": true} // no supplier
	for _, s := range suppliers {
		known[s.ID] = true
	}
	var elsewhere []string
	asked := map[string]bool{}
	for _, s := range skus {
		if !known[s.SupplierID] && !asked[s.SupplierID] {
			asked[s.SupplierID] = true
			elsewhere = append(elsewhere, s.SupplierID)
		}
	}
	if len(elsewhere) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, knownSuppliers, elsewhere)
	if err != nil {
		return dbError("check suppliers", err)
	}
	inDB, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return dbError("check suppliers", err)
	}
	for _, id := range inDB {
		known[id] = true
	}
	var p problems
	for i, s := range skus {
		if !known[s.SupplierID] {
			p.add(entry("skus", i, i), "SKU %q: supplier %q is neither in the file nor in the database", s.ID, s.SupplierID)
		}
	}
	return p.err()
}

func contentColumns(content []Content) (ids, shops []string, active []bool) {
	ids, shops, active = make([]string, len(content)), make([]string, len(content)), make([]bool, len(content))
	for i, c := range content {
		ids[i], shops[i], active[i] = c.ID, c.ShopID, c.Active
	}
	return ids, shops, active
}

func checkLinkShops(ctx context.Context, tx pgx.Tx, skus []SKU) error {
	ids := make([]string, len(skus))
	for i, s := range skus {
		ids[i] = s.ID
	}
	rows, err := tx.Query(ctx, crossShopLinks, ids, MaxErrors)
	if err != nil {
		return dbError("check content links", err)
	}
	var errs []error
	var content, contentShop, sku, skuShop string
	_, err = pgx.ForEachRow(rows, []any{&content, &contentShop, &sku, &skuShop}, func() error {
		errs = append(errs, fmt.Errorf("content item %q of shop %q, which the file does not name, promotes SKU %q, which the file puts in shop %q: add the content item to the file with the SKUs it promotes now",
			content, contentShop, sku, skuShop))
		return nil
	})
	if err != nil {
		return dbError("check content links", err)
	}
	return errors.Join(errs...)
}

// Load reads the whole catalog, each list ordered by id (bytewise, whatever
// the database's collation), from one snapshot.
func Load(ctx context.Context, db DB) (Catalog, error) {
	tx, err := db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Catalog{}, dbError("begin catalog transaction", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	var c Catalog
	if c.Shops, err = Shops(ctx, tx); err != nil {
		return Catalog{}, err
	}
	// numeric to float8 goes through the number's text, so it reads back
	// the float64 Import wrote.
	if c.Suppliers, err = collect[Supplier](ctx, tx, "suppliers", `
SELECT supplier_id, name, lead_time_hours::float8, email FROM catalog_suppliers ORDER BY supplier_id COLLATE "C"`); err != nil {
		return Catalog{}, err
	}
	if c.SKUs, err = collect[SKU](ctx, tx, "SKUs", `
SELECT sku_id, shop_id, product_id, seller_sku, title, starting_stock, coalesce(unit_price::text, ''),
	coalesce(supplier_id, ''), coalesce(lead_time_hours, 0)::float8, coalesce(service_level, 0)::float8,
	coalesce(review_period_hours, 0)::float8, min_order_qty
FROM catalog_skus ORDER BY sku_id COLLATE "C"`); err != nil {
		return Catalog{}, err
	}
	if c.Content, err = collect[Content](ctx, tx, "content", `
SELECT c.content_id, c.shop_id, c.active,
	array_agg(l.sku_id ORDER BY l.sku_id COLLATE "C") FILTER (WHERE l.sku_id IS NOT NULL)
FROM catalog_content c LEFT JOIN catalog_content_skus l ON l.content_id = c.content_id
GROUP BY c.content_id ORDER BY c.content_id COLLATE "C"`); err != nil {
		return Catalog{}, err
	}
	return c, nil
}

// Shops lists the shops, ordered by id bytewise: what the roles calling
// the TikTok API read every minute for the shops' ciphers.
func Shops(ctx context.Context, q Querier) ([]Shop, error) {
	return collect[Shop](ctx, q, "shops", `SELECT shop_id, shop_cipher, name FROM catalog_shops ORDER BY shop_id COLLATE "C"`)
}

// Item is an active content item as the content-metric poller needs it.
type Item struct {
	ContentID, ShopID, ShopCipher string
	SKUIDs                        []string
}

// ActiveContent lists the active content items with their shop's cipher
// and their SKUs (nil when none), ordered by content id bytewise. It is one
// query, cheap enough to run every minute.
func ActiveContent(ctx context.Context, db DB) ([]Item, error) {
	return collect[Item](ctx, db, "active content", `
SELECT c.content_id, c.shop_id, s.shop_cipher,
	array_agg(l.sku_id ORDER BY l.sku_id COLLATE "C") FILTER (WHERE l.sku_id IS NOT NULL)
FROM catalog_content c
JOIN catalog_shops s ON s.shop_id = c.shop_id
LEFT JOIN catalog_content_skus l ON l.content_id = c.content_id
WHERE c.active
GROUP BY c.content_id, s.shop_cipher ORDER BY c.content_id COLLATE "C"`)
}

// Querier is what a read needs: a connection, a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// collect scans each row into a T by column position; no rows is nil.
func collect[T any](ctx context.Context, q Querier, what, sql string) ([]T, error) {
	rows, err := q.Query(ctx, sql)
	if err != nil {
		return nil, dbError("read catalog "+what, err)
	}
	out, err := pgx.AppendRows([]T(nil), rows, pgx.RowToStructByPos[T])
	if err != nil {
		return nil, dbError("read catalog "+what, err)
	}
	return out, nil
}

// dbError names the step that failed, and says what to do when a
// migration that creates the tables or their columns has not run (a binary
// newer than the database).
func dbError(step string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42703") { // undefined_table, undefined_column
		return fmt.Errorf("%s: %w (%s)", step, ErrNotMigrated, pe.Message)
	}
	return fmt.Errorf("%s: %w", step, err)
}
