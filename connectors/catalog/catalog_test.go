package catalog_test

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/catalog"
)

const csvHeader = "shop_id,shop_cipher,shop_name,sku_id,product_id,seller_sku,title,starting_stock,unit_price,content_ids\n"

// small is the catalog goodCSV and goodJSON describe.
var small = catalog.Catalog{
	Shops: []catalog.Shop{{ID: "shop-a", Cipher: "CIPHER_A", Name: "Glow Co"}, {ID: "shop-b", Cipher: "shop-b"}},
	Suppliers: []catalog.Supplier{
		{ID: "sup-a", Name: "Glow Lab", LeadTimeHours: 36, Email: "orders@glowlab.example"},
		{ID: "sup-b", LeadTimeHours: 72.5},
	},
	SKUs: []catalog.SKU{
		{ID: "sku-1", ShopID: "shop-a", ProductID: "prod-1", SellerSKU: "GLOW-1", Title: "Serum 30ml", StartingStock: 120, UnitPrice: "24.99",
			SupplierID: "sup-a", LeadTimeHours: 12, ServiceLevel: 0.98, MinOrderQty: 50},
		{ID: "sku-2", ShopID: "shop-a", ProductID: "prod-1", SellerSKU: "GLOW-2", Title: "Serum 50ml, \"big\"", UnitPrice: "3.50", SupplierID: "sup-a"},
		{ID: "sku-3", ShopID: "shop-b", ProductID: "prod-9", StartingStock: 7, UnitPrice: "3.00", SupplierID: "sup-b", ReviewPeriodHours: 48},
	},
	Content: []catalog.Content{
		{ID: "v1", ShopID: "shop-a", Active: true, SKUIDs: []string{"sku-1"}},
		{ID: "v2", ShopID: "shop-a", Active: true, SKUIDs: []string{"sku-1", "sku-2"}},
		{ID: "v3", ShopID: "shop-b", Active: true, SKUIDs: []string{"sku-3"}},
	},
}

// goodCSV has every column. sup-a is described on two rows, which agree;
// sku-3's review period is written 48.0.
const goodCSV = "shop_id,shop_cipher,shop_name,sku_id,product_id,seller_sku,title,starting_stock,unit_price," +
	"supplier_id,lead_time_hours,service_level,review_period_hours,min_order_qty,supplier_name,supplier_lead_time_hours,supplier_email,content_ids\n" +
	"shop-a,CIPHER_A,Glow Co,sku-1,prod-1,GLOW-1,Serum 30ml,120,24.99,sup-a,12,0.98,,50,Glow Lab,36,orders@glowlab.example,v1;v2\n" +
	"shop-a,,,sku-2,prod-1,GLOW-2,\"Serum 50ml, \"\"big\"\"\",,03.5,sup-a,,,,,,36,, v2 ;\n" +
	"shop-b,,,sku-3,prod-9,,,7,3,sup-b,,,48.0,,,72.50,,v3\n"

// goodCSVShuffled is goodCSV as a spreadsheet might save it: a byte-order
// mark, CRLF, upper-case headers in another order, spaces around cells, a
// row of empty cells, a supplier described on one row and only named on
// another.
const goodCSVShuffled = "\uFEFFSKU_ID, Shop_ID ,product_id,content_ids,unit_price,starting_stock,title,seller_sku,shop_name,shop_cipher," +
	"Supplier_Email,supplier_name,SUPPLIER_LEAD_TIME_HOURS,min_order_qty,review_period_hours,service_level,lead_time_hours,supplier_id\r\n" +
	"sku-3,shop-b,prod-9,v3,3.00,7,,,,,,,72.5,,48,,,sup-b\r\n" +
	"sku-1, shop-a ,prod-1,v1;v2,24.99,120,Serum 30ml,GLOW-1,Glow Co,CIPHER_A,,,,50,,.98,12.,sup-a\r\n" +
	",,,,,,,,,,,,,,,,,\r\n" +
	"sku-2,shop-a,prod-1,v2,3.5,0,\"Serum 50ml, \"\"big\"\"\",GLOW-2,,CIPHER_A,orders@glowlab.example,Glow Lab,36,0,0,0,0,sup-a\r\n"

const goodJSON = `{
  "shops": [
    {"shop_id": "shop-a", "shop_cipher": "CIPHER_A", "name": "Glow Co"},
    {"shop_id": "shop-b"}
  ],
  "suppliers": [
    {"supplier_id": "sup-a", "name": "Glow Lab", "lead_time_hours": 36, "email": "orders@glowlab.example"},
    {"supplier_id": "sup-b", "lead_time_hours": 72.5}
  ],
  "skus": [
    {"sku_id": "sku-1", "shop_id": "shop-a", "product_id": "prod-1", "seller_sku": "GLOW-1", "title": "Serum 30ml", "starting_stock": 120, "unit_price": "24.99",
     "supplier_id": "sup-a", "lead_time_hours": 12, "service_level": 0.98, "min_order_qty": 50},
    {"sku_id": "sku-2", "shop_id": "shop-a", "product_id": "prod-1", "seller_sku": "GLOW-2", "title": "Serum 50ml, \"big\"", "unit_price": 3.5, "supplier_id": "sup-a"},
    {"sku_id": "sku-3", "shop_id": "shop-b", "product_id": "prod-9", "starting_stock": 7, "unit_price": "3", "supplier_id": "sup-b", "review_period_hours": 48}
  ],
  "content": [
    {"content_id": "v1", "shop_id": "shop-a", "sku_ids": ["sku-1"]},
    {"content_id": "v2", "shop_id": "shop-a", "active": true, "sku_ids": ["sku-2", "sku-1", "sku-2"]},
    {"content_id": "v3", "shop_id": "shop-b", "sku_ids": ["sku-3"]}
  ]
}`

func TestCatalogParseGood(t *testing.T) {
	shuffled := small
	shuffled.Shops = []catalog.Shop{small.Shops[1], small.Shops[0]}
	shuffled.Suppliers = []catalog.Supplier{small.Suppliers[1], small.Suppliers[0]}
	shuffled.SKUs = []catalog.SKU{small.SKUs[2], small.SKUs[0], small.SKUs[1]}
	shuffled.Content = []catalog.Content{small.Content[2], small.Content[0], small.Content[1]}
	for _, tt := range []struct {
		name, format, in string
		want             catalog.Catalog
	}{
		{"csv", "csv", goodCSV, small},
		{"csv as saved by a spreadsheet", "csv", goodCSVShuffled, shuffled},
		{"json", "json", goodJSON, small},
		{"json with a byte-order mark", "json", "\uFEFF" + goodJSON, small},
		{"inactive content without SKUs", "json", `{"shops":[{"shop_id":"s"}],"content":[{"content_id":"c","shop_id":"s","active":false,"sku_ids":[]}]}`,
			catalog.Catalog{Shops: []catalog.Shop{{ID: "s", Cipher: "s"}}, Content: []catalog.Content{{ID: "c", ShopID: "s"}}}},
		{"repeated entries that agree", "json", `{"shops":[{"shop_id":"s","name":"S"},{"shop_id":"s","shop_cipher":"C"}],
			"skus":[{"sku_id":"k","shop_id":"s","product_id":"p","unit_price":"1.5"},{"sku_id":"k","shop_id":"s","product_id":"p","unit_price":"1.50"}]}`,
			catalog.Catalog{Shops: []catalog.Shop{{ID: "s", Cipher: "C", Name: "S"}}, SKUs: []catalog.SKU{{ID: "k", ShopID: "s", ProductID: "p", UnitPrice: "1.50"}}}},
		{"repeated suppliers that agree", "json", `{"suppliers":[{"supplier_id":"a","name":"A","lead_time_hours":36},
			{"supplier_id":"a","lead_time_hours":36.0,"email":"a@x.example"},{"supplier_id":"a","name":"A"}]}`,
			catalog.Catalog{Suppliers: []catalog.Supplier{{ID: "a", Name: "A", LeadTimeHours: 36, Email: "a@x.example"}}}},
		// The SKU's supplier may be in the database already: only Import
		// can tell.
		{"a supplier from elsewhere", "csv", "shop_id,sku_id,product_id,supplier_id\ns,k,p,sup-db\n",
			catalog.Catalog{Shops: []catalog.Shop{{ID: "s", Cipher: "s"}}, SKUs: []catalog.SKU{{ID: "k", ShopID: "s", ProductID: "p", SupplierID: "sup-db"}}}},
		{"old columns only", "csv", csvHeader + "s,,,k,p,,,,,\n",
			catalog.Catalog{Shops: []catalog.Shop{{ID: "s", Cipher: "s"}}, SKUs: []catalog.SKU{{ID: "k", ShopID: "s", ProductID: "p"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := catalog.Parse(strings.NewReader(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if n := small.Links(); n != 4 {
		t.Errorf("Links() = %d, want 4", n)
	}
}

func TestCatalogParseErrors(t *testing.T) {
	row := func(cells string) string { return csvHeader + cells + "\n" }
	// supplierRow has the SKU's replenishment columns, then the supplier's.
	supplierRow := func(cells string) string {
		return "shop_id,sku_id,product_id,supplier_id,lead_time_hours,service_level,review_period_hours,min_order_qty," +
			"supplier_name,supplier_lead_time_hours,supplier_email\n" + cells + "\n"
	}
	catalogOf := func(suppliers, skus string) string {
		return `{"shops": [{"shop_id": "s"}], "suppliers": [` + suppliers + `], "skus": [` + skus + `]}`
	}
	long := strings.Repeat("x", 129)
	for _, tt := range []struct {
		name, format, in string
		want             []string // the error's lines, exactly
	}{
		{"csv empty file", "csv", "", []string{"the file is empty: a CSV catalog starts with a header row naming its columns"}},
		{"csv header only", "csv", csvHeader, []string{"the catalog is empty: it has no shops and no suppliers"}},
		{"csv header", "csv", "shop_id,sku_id,colour,,sku_id\n", []string{
			`line 1: unknown column "colour" (the columns are shop_id, shop_cipher, shop_name, sku_id, product_id, seller_sku, title, starting_stock, unit_price, ` +
				`supplier_id, lead_time_hours, service_level, review_period_hours, min_order_qty, supplier_name, supplier_lead_time_hours, supplier_email, content_ids)`,
			"line 1: column 4 has no name",
			`line 1: column "sku_id" appears twice`,
			"line 1: column product_id is missing",
		}},
		{"csv negative stock", "csv", row("s,,,k,p,,,-3,,"), []string{`line 2: starting_stock: "-3" is not a whole number >= 0`}},
		{"csv fractional stock", "csv", row("s,,,k,p,,,1.5,,"), []string{`line 2: starting_stock: "1.5" is not a whole number >= 0`}},
		{"csv stock too large", "csv", row("s,,,k,p,,,2147483648,,"), []string{`line 2: starting_stock: "2147483648" is more than 2147483647`}},
		{"csv stock beyond int64", "csv", row("s,,,k,p,,,99999999999999999999,,"), []string{`line 2: starting_stock: "99999999999999999999" is more than 2147483647`}},
		{"csv price with 3 decimals", "csv", row("s,,,k,p,,,,1.234,"), []string{`line 2: unit_price: "1.234" is not an amount >= 0 with at most 2 decimals`}},
		{"csv negative price", "csv", row("s,,,k,p,,,,-1,"), []string{`line 2: unit_price: "-1" is not an amount >= 0 with at most 2 decimals`}},
		{"csv price too large", "csv", row("s,,,k,p,,,,10000000000,"), []string{`line 2: unit_price: "10000000000" is more than 9999999999.99`}},
		{"csv missing ids", "csv", row(",,,,,,,,,v1"), []string{"line 2: shop_id is required", "line 2: sku_id is required"}},
		{"csv missing product", "csv", row("s,,,k,,,,,,"), []string{"line 2: product_id is required"}},
		{"csv control character", "csv", row("s,,,\"k\x01\",p,,,,,"), []string{`line 2: sku_id: "k\x01" contains a control character`}},
		{"csv id too long", "csv", row("s,,,k,p," + long + ",,,,"), []string{`line 2: seller_sku: "xxxxxxxxxxxxxxxxxxxx"... has 129 characters, more than 128`}},
		{"csv invalid UTF-8", "csv", row("s,\xff,,k,p,,,,,"), []string{`line 2: shop_cipher: "\xff" is not valid UTF-8`}},
		{"csv shop cipher differs", "csv", row("s,C1,,k1,p,,,,,\ns,C2,,k2,p,,,,,"), []string{`line 3: shop "s" has shop_cipher "C2" here but "C1" at line 2`}},
		{"csv shop name differs", "csv", row("s,,A,k1,p,,,,,\ns,,B,k2,p,,,,,"), []string{`line 3: shop "s" has shop_name "B" here but "A" at line 2`}},
		{"csv SKU repeated with other data", "csv", row("s,,,k,p,,A,,,\ns,,,k,p,,B,,,"), []string{`line 3: SKU "k" has title "B" here but "A" at line 2`}},
		{"csv bad content id", "csv", row("s,,,k,p,,,,,v1;v\x02;" + long), []string{
			`line 2: content_ids: "v\x02" contains a control character`,
			`line 2: content_ids: "xxxxxxxxxxxxxxxxxxxx"... has 129 characters, more than 128`,
		}},
		{"csv content across shops", "csv", row("a,,,k1,p,,,,,v\nb,,,k2,p,,,,,v"), []string{`line 3: content item "v" has shop_id "b" here but "a" at line 2`}},
		{"csv row width", "csv", row("s,,,k1,p,,,,,\ns,k2,p"), []string{"line 3: 3 fields, but the header has 10"}},
		{"csv broken quote", "csv", row("s,,,k1,p,,\"a\"b,,,"), []string{`line 2: extraneous or missing " in quoted-field`}},
		{"csv replenishment values", "csv", supplierRow("s,k,p,sup,8761,1,9000,-2,,36,"), []string{
			"line 2: min_order_qty: \"-2\" is not a whole number >= 0",
			"line 2: lead_time_hours: 8761 is not a number of hours from 0 to 8760",
			"line 2: review_period_hours: 9000 is not a number of hours from 0 to 8760",
			"line 2: service_level: 1 is not from 0.5 to 0.9999 (or 0 for the default, 0.95)",
		}},
		{"csv service level too low", "csv", supplierRow("s,k,p,,,0.4999,,,,,"), []string{
			"line 2: service_level: 0.4999 is not from 0.5 to 0.9999 (or 0 for the default, 0.95)",
		}},
		// An unreadable supplier lead time is not reported again as missing.
		{"csv numbers as spreadsheets do not write them", "csv", supplierRow("s,k,p,sup,-1,\"0,95\",NaN,1e3,,36h,"), []string{
			`line 2: lead_time_hours: "-1" is not a number >= 0`,
			`line 2: service_level: "0,95" is not a number >= 0`,
			`line 2: review_period_hours: "NaN" is not a number >= 0`,
			`line 2: min_order_qty: "1e3" is not a whole number >= 0`,
			`line 2: supplier_lead_time_hours: "36h" is not a number >= 0`,
		}},
		{"csv min order too large", "csv", supplierRow("s,k,p,,,,,2147483648,,,"), []string{`line 2: min_order_qty: "2147483648" is more than 2147483647`}},
		{"csv supplier lead time out of range", "csv", supplierRow("s,k,p,sup,,,,,,8760.5,"), []string{
			"line 2: supplier_lead_time_hours: 8760.5 is not a number of hours more than 0 and at most 8760",
		}},
		{"csv supplier without lead time", "csv", supplierRow("s,k1,p,sup,,,,,Lab,,\ns,k2,p,sup,,,,,,,"), []string{
			`line 2: supplier_lead_time_hours is required for supplier "sup": hours, more than 0 and at most 8760`,
		}},
		{"csv supplier lead time 0", "csv", supplierRow("s,k,p,sup,,,,,,0,"), []string{
			`line 2: supplier_lead_time_hours is required for supplier "sup": hours, more than 0 and at most 8760`,
		}},
		{"csv supplier differs", "csv", supplierRow("s,k1,p,sup,,,,,Lab,36,a@lab.example\ns,k2,p,sup,,,,,Lab,48,\ns,k3,p,sup,,,,,,,b@lab.example"), []string{
			`line 3: supplier "sup" has supplier_lead_time_hours "48" here but "36" at line 2`,
			`line 4: supplier "sup" has supplier_email "b@lab.example" here but "a@lab.example" at line 2`,
		}},
		{"csv supplier email", "csv", supplierRow("s,k1,p,sup,,,,,,36,not-an-email\ns,k2,p,sup2,,,,,,36,Ann <ann@lab.example>\ns,k3,p,sup3,,,,,,36,a@x.example;b@x.example"), []string{
			`line 2: supplier_email: "not-an-email" is not an email address such as orders@supplier.example`,
			`line 3: supplier_email: "Ann <ann@lab.example>" is not an email address such as orders@supplier.example`,
			`line 4: supplier_email: "a@x.example;b@x.example" is not an email address such as orders@supplier.example`,
		}},
		{"csv supplier columns without supplier_id", "csv", supplierRow("s,k,p,,,,,,Lab,36,"), []string{"line 2: supplier_id is required"}},
		{"csv bad supplier id reported once", "csv", supplierRow("s,k,p,\"sup\x01\",,,,,Lab,36,\ns,k2,,\"sup\x01\",,,,,Lab,36,"), []string{
			`line 2: supplier_id: "sup\x01" contains a control character`,
			`line 3: supplier_id: "sup\x01" contains a control character`,
			"line 3: product_id is required",
		}},
		{"csv SKU repeated with another supplier", "csv", supplierRow("s,k,p,a,,,,,,,\ns,k,p,b,,,,,,,"), []string{`line 3: SKU "k" has supplier_id "b" here but "a" at line 2`}},
		{"csv SKU repeated with another service level", "csv", supplierRow("s,k,p,,,0.9,,,,,\ns,k,p,,,0.90,,,,,\ns,k,p,,,,,,,,"), []string{`line 4: SKU "k" has service_level "0" here but "0.9" at line 2`}},
		{"csv problems in file order", "csv", row("s,,,k1,p,,,-1,,\ns,,,k2,p,,,,x,\ns,,,,p,,,,,"), []string{
			`line 2: starting_stock: "-1" is not a whole number >= 0`,
			`line 3: unit_price: "x" is not an amount >= 0 with at most 2 decimals`,
			"line 4: sku_id is required",
		}},

		{"json empty file", "json", " ", []string{`the file is empty: a JSON catalog is an object {"shops": [...], "suppliers": [...], "skus": [...], "content": [...]}`}},
		{"json empty catalog", "json", `{}`, []string{"the catalog is empty: it has no shops and no suppliers"}},
		{"json syntax", "json", "{\n\"shops\": [}", []string{"line 2: invalid character '}' looking for beginning of value"}},
		{"json unknown field", "json", "{\"shops\": [\n{\"shop_id\": \"s\", \"colour\": \"red\"}]}", []string{`shops[0]: unknown field "colour"`}},
		{"json unknown list", "json", `{"shop": []}`, []string{`unknown field "shop": a catalog has shops, suppliers, skus and content`}},
		{"json not an object", "json", `[]`, []string{"line 1: the catalog: expected an object {...}, found array"}},
		{"json not a list", "json", "{\n\"shops\": {}}", []string{"line 2: shops: expected a list [...], found object"}},
		{"json entry not an object", "json", `{"shops": [{"shop_id": "s"}, 5]}`, []string{"shops[1]: expected an object {...}, found number"}},
		{"json fields of the wrong type", "json", `{"shops":[{"shop_id":"s"}],"skus":[{"sku_id":"k","shop_id":"s","product_id":"p","starting_stock":1.5}],
			"content":[{"content_id":"v","shop_id":"s","active":"yes","sku_ids":["k",7]}]}`, []string{
			"skus[0]: starting_stock: expected a whole number, found number 1.5",
			"content[0]: active: expected true or false, found string",
		}},
		{"json price of the wrong type", "json", `{"shops":[{"shop_id":"s"}],"skus":[{"sku_id":"k","shop_id":"s","product_id":"p","unit_price":true}]}`,
			[]string{`skus[0]: unit_price: "true" is not an amount >= 0 with at most 2 decimals`}},
		{"json more after the catalog", "json", "{\"shops\": [{\"shop_id\": \"s\"}]}\n{}", []string{"line 2: more after the catalog's closing brace"}},
		{"json negative stock", "json", `{"shops":[{"shop_id":"s"}],"skus":[{"sku_id":"k","shop_id":"s","product_id":"p","starting_stock":-3}]}`,
			[]string{"skus[0]: starting_stock: -3 is not a whole number >= 0"}},
		{"json stock too large", "json", `{"shops":[{"shop_id":"s"}],"skus":[{"sku_id":"k","shop_id":"s","product_id":"p","starting_stock":4294967296}]}`,
			[]string{"skus[0]: starting_stock: 4294967296 is more than 2147483647"}},
		{"json suppliers", "json", catalogOf(`{"supplier_id": "a", "lead_time_hours": 0}, {"supplier_id": "b"},
			{"supplier_id": "c", "lead_time_hours": -1, "email": "c@", "name": "C\u0007"},
			{"supplier_id": "d", "lead_time_hours": "36", "email": "nope"}, {"name": "x", "lead_time_hours": 1}, {"supplier_id": "e", "lead_time_hours": 1, "colour": 1}`, ``), []string{
			`suppliers[0]: lead_time_hours is required for supplier "a": hours, more than 0 and at most 8760`,
			`suppliers[1]: lead_time_hours is required for supplier "b": hours, more than 0 and at most 8760`,
			`suppliers[2]: name: "C\a" contains a control character`,
			`suppliers[2]: email: "c@" is not an email address such as orders@supplier.example`,
			"suppliers[2]: lead_time_hours: -1 is not a number of hours more than 0 and at most 8760",
			"suppliers[3]: lead_time_hours: expected a number, found string",
			"suppliers[4]: supplier_id is required",
			`suppliers[5]: unknown field "colour"`,
		}},
		{"json conflicting supplier repeats", "json", catalogOf(`{"supplier_id": "a", "lead_time_hours": 36, "email": "a@x.example"},
			{"supplier_id": "a", "lead_time_hours": 48}, {"supplier_id": "a", "name": "A", "email": "b@x.example"}`, ``), []string{
			`suppliers[1]: supplier "a" has lead_time_hours "48" here but "36" at suppliers[0]`,
			`suppliers[2]: supplier "a" has email "b@x.example" here but "a@x.example" at suppliers[0]`,
		}},
		{"json SKU replenishment", "json", catalogOf(``, `{"sku_id": "k1", "shop_id": "s", "product_id": "p", "supplier_id": " a", "lead_time_hours": -1,
			"service_level": 0.99999, "review_period_hours": 8761, "min_order_qty": -1},
			{"sku_id": "k2", "shop_id": "s", "product_id": "p", "min_order_qty": 2147483648, "service_level": 0.3},
			{"sku_id": "k3", "shop_id": "s", "product_id": "p", "min_order_qty": 1.5}`), []string{
			`skus[0]: supplier_id: " a" starts or ends with white space`,
			"skus[0]: lead_time_hours: -1 is not a number of hours from 0 to 8760",
			"skus[0]: review_period_hours: 8761 is not a number of hours from 0 to 8760",
			"skus[0]: service_level: 0.99999 is not from 0.5 to 0.9999 (or 0 for the default, 0.95)",
			"skus[0]: min_order_qty: -1 is not a whole number >= 0",
			"skus[1]: service_level: 0.3 is not from 0.5 to 0.9999 (or 0 for the default, 0.95)",
			"skus[1]: min_order_qty: 2147483648 is more than 2147483647",
			"skus[2]: min_order_qty: expected a whole number, found number 1.5",
		}},
		{"json space around an id", "json", `{"shops":[{"shop_id":"s "}]}`, []string{`shops[0]: shop_id: "s " starts or ends with white space`}},
		{"json references", "json", `{"shops": [{"shop_id": "a"}, {"shop_id": "b"}],
			"skus": [{"sku_id": "ka", "shop_id": "a", "product_id": "p"}, {"sku_id": "kb", "shop_id": "b", "product_id": "p"}, {"sku_id": "kx", "shop_id": "x", "product_id": "p"}],
			"content": [{"content_id": "v1", "shop_id": "a", "sku_ids": ["ka", "kb", "nope", ""]}, {"content_id": "v2", "shop_id": "y"}]}`, []string{
			`skus[2]: shop "x" is not in the catalog`,
			`content[0]: SKU "kb" belongs to shop "b", not to the content item's shop "a"`,
			`content[0]: SKU "nope" is not in the catalog`,
			"content[0]: sku_ids: an id is empty",
			`content[1]: shop "y" is not in the catalog`,
		}},
		{"json conflicting repeats", "json", `{"shops": [{"shop_id": "a", "shop_cipher": "x"}, {"shop_id": "a", "shop_cipher": "y"}],
			"skus": [{"sku_id": "k", "shop_id": "a", "product_id": "p", "unit_price": "1"}, {"sku_id": "k", "shop_id": "a", "product_id": "p", "unit_price": 2}],
			"content": [{"content_id": "v", "shop_id": "a"}, {"content_id": "v", "shop_id": "a", "active": false}]}`, []string{
			`shops[1]: shop "a" has shop_cipher "y" here but "x" at shops[0]`,
			`skus[1]: SKU "k" has unit_price "2.00" here but "1.00" at skus[0]`,
			`content[1]: content item "v" has active false here but true at content[0]`,
		}},

		{"unknown format", "xml", "<catalog/>", []string{`unknown catalog format "xml": want csv or json`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := catalog.Parse(strings.NewReader(tt.in), tt.format)
			if err == nil {
				t.Fatalf("accepted, as %+v", got)
			}
			if lines := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(lines, tt.want) {
				t.Fatalf("error:\n%s\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestCatalogErrorCap checks that a file wrong on every row yields the
// first MaxErrors problems and a count of the rest.
func TestCatalogErrorCap(t *testing.T) {
	in := csvHeader + strings.Repeat("s,,,k,p,,,-1,,\n", catalog.MaxErrors+10)
	_, err := catalog.Parse(strings.NewReader(in), "csv")
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != catalog.MaxErrors+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), catalog.MaxErrors+1, err)
	}
	if lines[0] != `line 2: starting_stock: "-1" is not a whole number >= 0` || lines[catalog.MaxErrors-1] != `line 21: starting_stock: "-1" is not a whole number >= 0` {
		t.Errorf("not the first problems in file order:\n%s", err)
	}
	if want := "... and 10 more problems (only the first 20 are shown)"; lines[catalog.MaxErrors] != want {
		t.Errorf("last line %q, want %q", lines[catalog.MaxErrors], want)
	}
}

func TestCatalogFormat(t *testing.T) {
	for path, want := range map[string]string{"shop.csv": "csv", "dir.v2/Catalog.JSON": "json", "catalog.txt": "", "catalog": ""} {
		got, err := catalog.Format(path)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("Format(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
}

// TestCatalogValidate checks what Validate makes of a catalog built in Go,
// and that its result passes unchanged.
func TestCatalogValidate(t *testing.T) {
	negZero := math.Copysign(0, -1)
	in := catalog.Catalog{
		Shops:     []catalog.Shop{{ID: "s"}},
		Suppliers: []catalog.Supplier{{ID: "sup", LeadTimeHours: 36}, {ID: "sup", Name: "Lab"}},
		SKUs: []catalog.SKU{
			{ID: "k2", ShopID: "s", ProductID: "p", UnitPrice: "007", SupplierID: "sup", ServiceLevel: negZero},
			{ID: "k1", ShopID: "s", ProductID: "p", SupplierID: "sup-in-the-database", LeadTimeHours: negZero},
		},
		Content: []catalog.Content{{ID: "v", ShopID: "s", Active: true, SKUIDs: []string{"k2", "k1", "k2"}}},
	}
	want := catalog.Catalog{
		Shops:     []catalog.Shop{{ID: "s", Cipher: "s"}},
		Suppliers: []catalog.Supplier{{ID: "sup", Name: "Lab", LeadTimeHours: 36}},
		SKUs: []catalog.SKU{
			{ID: "k2", ShopID: "s", ProductID: "p", UnitPrice: "7.00", SupplierID: "sup"},
			{ID: "k1", ShopID: "s", ProductID: "p", SupplierID: "sup-in-the-database"},
		},
		Content: []catalog.Content{{ID: "v", ShopID: "s", Active: true, SKUIDs: []string{"k1", "k2"}}},
	}
	got, err := catalog.Validate(in)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Validate = %+v, %v\nwant %+v", got, err, want)
	}
	// -0 is 0 to DeepEqual: check that the sign is gone too.
	if math.Signbit(got.SKUs[0].ServiceLevel) || math.Signbit(got.SKUs[1].LeadTimeHours) {
		t.Errorf("-0 kept: %+v", got.SKUs)
	}
	again, err := catalog.Validate(got)
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Fatalf("second Validate = %+v, %v", again, err)
	}

	// Values Go can hold and a file cannot.
	bad := catalog.Catalog{
		Suppliers: []catalog.Supplier{{ID: "a", LeadTimeHours: math.NaN()}, {ID: "b", LeadTimeHours: math.Inf(1)}},
		SKUs:      []catalog.SKU{{ID: "k", ShopID: "s", ProductID: "p", ServiceLevel: math.NaN(), ReviewPeriodHours: math.Inf(-1)}},
	}
	wantErr := []string{
		"suppliers[0]: lead_time_hours: NaN is not a number of hours more than 0 and at most 8760",
		"suppliers[1]: lead_time_hours: +Inf is not a number of hours more than 0 and at most 8760",
		"skus[0]: review_period_hours: -Inf is not a number of hours from 0 to 8760",
		"skus[0]: service_level: NaN is not from 0.5 to 0.9999 (or 0 for the default, 0.95)",
		`skus[0]: shop "s" is not in the catalog`,
	}
	if _, err := catalog.Validate(bad); err == nil || err.Error() != strings.Join(wantErr, "\n") {
		t.Errorf("Validate(bad) = %v\nwant:\n%s", err, strings.Join(wantErr, "\n"))
	}
}

// TestCatalogPlans checks the defaults Plans applies, and that Plans and
// Replenishment agree (TestCatalogImport compares them on a database).
func TestCatalogPlans(t *testing.T) {
	c := small
	c.SKUs = append(slices.Clone(small.SKUs),
		catalog.SKU{ID: "sku-4", ShopID: "shop-b", ProductID: "p"},
		catalog.SKU{ID: "sku-5", ShopID: "shop-b", ProductID: "p", SupplierID: "sup-elsewhere"},
		catalog.SKU{ID: "sku-6", ShopID: "shop-b", ProductID: "p", SupplierID: "sup-elsewhere", LeadTimeHours: 0.5},
	)
	want := []catalog.Plan{
		{SKU: "sku-1", ShopID: "shop-a", StartingStock: 120, UnitPrice: "24.99", SupplierID: "sup-a",
			LeadTime: 12 * time.Hour, ServiceLevel: 0.98, ReviewPeriod: 24 * time.Hour, MinOrderQty: 50},
		{SKU: "sku-2", ShopID: "shop-a", UnitPrice: "3.50", SupplierID: "sup-a",
			LeadTime: 36 * time.Hour, ServiceLevel: 0.95, ReviewPeriod: 24 * time.Hour, MinOrderQty: 1},
		{SKU: "sku-3", ShopID: "shop-b", StartingStock: 7, UnitPrice: "3.00", SupplierID: "sup-b",
			LeadTime: 72*time.Hour + 30*time.Minute, ServiceLevel: 0.95, ReviewPeriod: 48 * time.Hour, MinOrderQty: 1},
		{SKU: "sku-4", ShopID: "shop-b", ServiceLevel: 0.95, ReviewPeriod: 24 * time.Hour, MinOrderQty: 1},
		{SKU: "sku-5", ShopID: "shop-b", SupplierID: "sup-elsewhere", ServiceLevel: 0.95, ReviewPeriod: 24 * time.Hour, MinOrderQty: 1},
		{SKU: "sku-6", ShopID: "shop-b", SupplierID: "sup-elsewhere", LeadTime: 30 * time.Minute, ServiceLevel: 0.95, ReviewPeriod: 24 * time.Hour, MinOrderQty: 1},
	}
	if got := c.Plans(); !reflect.DeepEqual(got, want) {
		t.Errorf("Plans:\n%+v\nwant\n%+v", got, want)
	}
	if got := (catalog.Catalog{}).Plans(); got != nil {
		t.Errorf("Plans of an empty catalog = %+v, want nil", got)
	}
}
