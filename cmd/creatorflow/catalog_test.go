package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
)

func TestCatalogCommandLine(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{args: []string{"help"}, wantCode: 0, want: "catalog   import the shops"},
		{args: []string{"catalog", "--help"}, wantCode: 0, want: "creatorflow catalog show"},
		{args: []string{"catalog", "import", "--help"}, wantCode: 0, want: "[CREATORFLOW_DRY_RUN]"},
		{args: []string{"catalog", "show", "--help"}, wantCode: 0, want: "[CREATORFLOW_POSTGRES_URL]"},
		{args: []string{"catalog"}, wantCode: 2, want: "expected a subcommand: import or show"},
		{args: []string{"catalog", "import"}, wantCode: 2, want: "--file is required"},
		{args: []string{"catalog", "import", "--file", "shops.xlsx"}, wantCode: 2, want: `cannot tell the format of "shops.xlsx"`},
		{args: []string{"catalog", "import", "--file", "shops.csv", "--format", "xml"}, wantCode: 2, want: `--format must be csv or json, not "xml"`},
		{args: []string{"catalog", "show", "--format", "yaml"}, wantCode: 2, want: `--format must be table or json, not "yaml"`},
		{args: []string{"catalog", "import", "--file", "no-such-catalog.csv"}, wantCode: 1, want: "no such file"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, code := cli(ctx, t, nil, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d; output lacks %q:\n%s", code, tt.wantCode, tt.want, out)
			}
		})
	}
}

// TestCatalogCommand runs catalog import and show against a fresh
// database the way an operator would: before and after migrate, with a
// bad file, a dry run, the same file twice, and the demo catalog.
func TestCatalogCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vars := map[string]string{"CREATORFLOW_POSTGRES_URL": stacktest.Postgres(t)}
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := file("shops.csv", "shop_id,shop_cipher,shop_name,sku_id,product_id,title,starting_stock,unit_price,"+
		"supplier_id,supplier_lead_time_hours,supplier_email,service_level,min_order_qty,content_ids\n"+
		"shop-a,CIPHER_A,Glow Co,sku-1,prod-1,Serum,120,24.99,sup-a,36,orders@a.example,0.98,50,v1;v2\n"+
		"shop-a,CIPHER_A,Glow Co,sku-2,prod-1,Serum XL,5,,sup-a,,,,,v2\n"+
		"shop-b,,,sku-3,prod-9,,7,3,,,,,,v3\n")
	// sup-a is in the database once good is imported; sup-x never is.
	elsewhere := file("elsewhere.csv", "shop_id,sku_id,product_id,supplier_id\n"+
		"shop-a,sku-8,prod-1,sup-a\n"+
		"shop-a,sku-9,prod-1,sup-x\n")
	bad := file("bad.csv", "shop_id,sku_id,product_id,starting_stock\n"+
		"shop-a,sku-1,prod-1,-3\n"+
		"shop-a,sku-2,,1\n")
	demo, err := filepath.Abs("../../deploy/local/catalog.json")
	if err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		args     []string
		wantCode int
		want     []string
	}{
		{[]string{"catalog", "import", "--file", good}, 1, []string{"run creatorflow migrate first"}},
		{[]string{"migrate", "--only", "postgres"}, 0, []string{"postgres: applied 0002_catalog.sql", "postgres: applied 0003_replenishment.sql"}},
		{[]string{"catalog", "show"}, 0, []string{"the catalog is empty"}},
		{[]string{"catalog", "import", "--file", bad}, 1, []string{
			"creatorflow catalog: " + bad + " has problems; nothing was written:\n" +
				"line 2: starting_stock: \"-3\" is not a whole number >= 0\n" +
				"line 3: product_id is required\n",
		}},
		{[]string{"catalog", "import", "--file", good, "--dry-run"}, 0, []string{
			"catalog: 2 shops, 1 suppliers, 3 SKUs, 3 content items (4 links) checked; dry run, nothing written\n" +
				"  shops:     2 new, 0 changed, 0 unchanged\n" +
				"  suppliers: 1 new, 0 changed, 0 unchanged\n" +
				"  SKUs:      3 new, 0 changed, 0 unchanged\n" +
				"  content:   3 new, 0 changed, 0 unchanged\n" +
				"  links:     4 added, 0 removed\n",
		}},
		{[]string{"catalog", "show"}, 0, []string{"the catalog is empty"}},
		{[]string{"catalog", "import", "--file", good}, 0, []string{
			"catalog: 2 shops, 1 suppliers, 3 SKUs, 3 content items (4 links) imported\n",
			"  SKUs:      3 new, 0 changed, 0 unchanged\n",
		}},
		{[]string{"catalog", "import", "--file", good}, 0, []string{
			"  shops:     0 new, 0 changed, 2 unchanged\n",
			"  suppliers: 0 new, 0 changed, 1 unchanged\n",
			"  SKUs:      0 new, 0 changed, 3 unchanged\n",
			"  content:   0 new, 0 changed, 3 unchanged\n",
			"  links:     0 added, 0 removed\n",
		}},
		{[]string{"catalog", "import", "--file", elsewhere, "--dry-run"}, 1, []string{
			"creatorflow catalog: " + elsewhere + ": nothing was written:\n" +
				`skus[1]: SKU "sku-9": supplier "sup-x" is neither in the file nor in the database` + "\n",
		}},
		{[]string{"catalog", "show"}, 0, []string{
			"SHOP    CIPHER    NAME\nshop-a  CIPHER_A  Glow Co\nshop-b  shop-b    -\n",
			"SUPPLIER  LEAD H  EMAIL             NAME\nsup-a     36      orders@a.example  -\n",
			"sku-1  shop-a  prod-1   -           120    24.99  sup-a     -       0.98     -         50       Serum\n",
			"sku-2  shop-a  prod-1   -           5      -      sup-a     -       -        -         -        Serum XL\n",
			"sku-3  shop-b  prod-9   -           7      3.00   -         -       -        -         -        -\n",
			"v2       shop-a  yes     sku-1,sku-2\n",
			"2 shops, 1 suppliers, 3 SKUs, 3 content items (4 links)\n",
		}},
		{[]string{"catalog", "import", "--file", demo}, 0, []string{"catalog: 3 shops, 3 suppliers, 12 SKUs, 10 content items (18 links) imported\n"}},
	} {
		out, code := cli(ctx, t, vars, step.args...)
		if code != step.wantCode {
			t.Fatalf("%v: exit %d, want %d:\n%s", step.args, code, step.wantCode, out)
		}
		for _, w := range step.want {
			if !strings.Contains(out, w) {
				t.Fatalf("%v: output lacks %q:\n%s", step.args, w, out)
			}
		}
	}

	// show --format json prints what import reads: all of both files.
	out, code := cli(ctx, t, vars, "catalog", "show", "--format", "json")
	if code != 0 {
		t.Fatalf("show --format json: exit %d:\n%s", code, out)
	}
	shown, err := catalog.Parse(strings.NewReader(out), catalog.FormatJSON)
	if err != nil {
		t.Fatalf("show --format json printed a file import refuses: %v\n%s", err, out)
	}
	var want catalog.Catalog
	for _, path := range []string{good, demo} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		format, _ := catalog.Format(path)
		c, err := catalog.Parse(f, format)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		want.Shops = append(want.Shops, c.Shops...)
		want.Suppliers = append(want.Suppliers, c.Suppliers...)
		want.SKUs = append(want.SKUs, c.SKUs...)
		want.Content = append(want.Content, c.Content...)
	}
	if want, err = catalog.Validate(want); err != nil {
		t.Fatal(err)
	}
	if len(shown.Shops) != 5 || len(shown.Suppliers) != 4 || len(shown.SKUs) != 15 || len(shown.Content) != 13 || !sameCatalog(shown, want) {
		t.Fatalf("shown:\n%+v\nimported:\n%+v", shown, want)
	}
}

// sameCatalog compares catalogs whatever the order of their lists.
func sameCatalog(a, b catalog.Catalog) bool {
	index := func(c catalog.Catalog) map[string]any {
		m := map[string]any{}
		for _, s := range c.Shops {
			m["shop "+s.ID] = s
		}
		for _, s := range c.Suppliers {
			m["supplier "+s.ID] = s
		}
		for _, s := range c.SKUs {
			m["sku "+s.ID] = s
		}
		for _, ct := range c.Content {
			m["content "+ct.ID] = ct
		}
		return m
	}
	return reflect.DeepEqual(index(a), index(b))
}
