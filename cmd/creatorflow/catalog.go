package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creatorflow/creatorflow/connectors/catalog"
)

var catalogCommand = command{
	name:    "catalog",
	summary: "import the shops, suppliers, SKUs and content from CSV or JSON (catalog import), or print them (catalog show)",
	run:     runCatalog,
}

const catalogUsage = `usage: creatorflow catalog import --file PATH [--format csv|json] [--dry-run] [flags]
       creatorflow catalog show [--format table|json] [flags]

import checks a catalog file as a whole and writes it to PostgreSQL in one
transaction: the shops, suppliers, SKUs and content items it names are
inserted or updated, and each content item's SKUs become exactly those the
file lists.
Nothing the file does not name is changed or deleted. A file with problems
is refused with every problem listed (exit status 1) and nothing is
written. --dry-run checks the file against the database and prints what
would be written, writing nothing.

show prints the catalog; with --format json it prints a file that import
accepts.

The file formats are described in docs/catalog.md. The tables are created
by creatorflow migrate.`

func runCatalog(ctx context.Context, e *env, args []string) error {
	if err := subcommand(e, args, catalogUsage, "import", "show"); err != nil {
		return err
	}
	var (
		pg     postgresFlags
		logs   logFlags
		format string
	)
	fs := flag.NewFlagSet("catalog "+args[0], flag.ContinueOnError)
	pg.register(fs)
	logs.register(fs)
	if args[0] == "show" {
		fs.StringVar(&format, "format", "table", "output: table or json")
		if err := parse(fs, catalogUsage, e, args[1:]); err != nil {
			return err
		}
		if format != "table" && format != "json" {
			return usageError{fmt.Errorf("--format must be table or json, not %q", format)}
		}
		return showCatalog(ctx, e, pg.url, format)
	}

	var (
		file   string
		dryRun bool
	)
	fs.StringVar(&file, "file", "", "the catalog file")
	fs.StringVar(&format, "format", "", "format of the file: csv or json (default: from its extension)")
	fs.BoolVar(&dryRun, "dry-run", false, "check the file against the database and print what would be written; write nothing")
	if err := parse(fs, catalogUsage, e, args[1:]); err != nil {
		return err
	}
	log, err := logs.logger(e)
	if err != nil {
		return err
	}
	switch {
	case file == "":
		return usageError{errors.New("--file is required")}
	case format == "":
		if format, err = catalog.Format(file); err != nil {
			return usageError{fmt.Errorf("%w (--format)", err)}
		}
	case format != catalog.FormatCSV && format != catalog.FormatJSON:
		return usageError{fmt.Errorf("--format must be csv or json, not %q", format)}
	}

	start := time.Now()
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	c, err := catalog.Parse(f, format)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s has problems; nothing was written:\n%w", file, err)
	}
	log.Debug("catalog file read", "file", file, "format", format, "took", time.Since(start))

	conn, err := connectPostgres(ctx, pg.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	write, done := catalog.Import, "imported"
	if dryRun {
		write, done = catalog.DryRun, "checked; dry run, nothing written"
	}
	start = time.Now()
	res, err := write(ctx, conn, c)
	if err != nil {
		return fmt.Errorf("%s: nothing was written:\n%w", file, err)
	}
	log.Debug("catalog written", "dry_run", dryRun, "took", time.Since(start))
	fmt.Fprintf(e.stdout, "catalog: %s %s\n", summary(c), done)
	for _, t := range []struct {
		name string
		c    catalog.Counts
	}{{"shops", res.Shops}, {"suppliers", res.Suppliers}, {"SKUs", res.SKUs}, {"content", res.Content}} {
		fmt.Fprintf(e.stdout, "  %-10s %d new, %d changed, %d unchanged\n", t.name+":", t.c.Inserted, t.c.Updated, t.c.Unchanged)
	}
	fmt.Fprintf(e.stdout, "  %-10s %d added, %d removed\n", "links:", res.LinksAdded, res.LinksRemoved)
	return nil
}

func summary(c catalog.Catalog) string {
	return fmt.Sprintf("%d shops, %d suppliers, %d SKUs, %d content items (%d links)",
		len(c.Shops), len(c.Suppliers), len(c.SKUs), len(c.Content), c.Links())
}

func connectPostgres(ctx context.Context, url string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", redact(url), err)
	}
	return conn, nil
}

func showCatalog(ctx context.Context, e *env, url, format string) error {
	conn, err := connectPostgres(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	c, err := catalog.Load(ctx, conn)
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(c)
	}
	if len(c.Shops) == 0 && len(c.Suppliers) == 0 {
		fmt.Fprintln(e.stdout, "the catalog is empty: fill it with creatorflow catalog import")
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	row := func(cells ...string) {
		for i, v := range cells {
			if v == "" {
				cells[i] = "-"
			}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	// A SKU's replenishment settings are "-" when unset (0): the defaults
	// apply, which docs/catalog.md gives.
	setting := func(v float64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	row("SHOP", "CIPHER", "NAME")
	for _, s := range c.Shops {
		row(s.ID, s.Cipher, s.Name)
	}
	row()
	row("SUPPLIER", "LEAD H", "EMAIL", "NAME")
	for _, s := range c.Suppliers {
		row(s.ID, setting(s.LeadTimeHours), s.Email, s.Name)
	}
	row()
	row("SKU", "SHOP", "PRODUCT", "SELLER SKU", "STOCK", "PRICE", "SUPPLIER", "LEAD H", "SERVICE", "REVIEW H", "MIN QTY", "TITLE")
	for _, s := range c.SKUs {
		minQty := ""
		if s.MinOrderQty != 0 {
			minQty = strconv.Itoa(s.MinOrderQty)
		}
		row(s.ID, s.ShopID, s.ProductID, s.SellerSKU, fmt.Sprint(s.StartingStock), s.UnitPrice,
			s.SupplierID, setting(s.LeadTimeHours), setting(s.ServiceLevel), setting(s.ReviewPeriodHours), minQty, s.Title)
	}
	row()
	row("CONTENT", "SHOP", "ACTIVE", "SKUS")
	for _, ct := range c.Content {
		active := "no"
		if ct.Active {
			active = "yes"
		}
		row(ct.ID, ct.ShopID, active, strings.Join(ct.SKUIDs, ","))
	}
	row()
	fmt.Fprintf(w, "%s\n", summary(c))
	return w.Flush()
}
