package catalog_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/catalog"
)

// checkAccepted holds for every catalog Parse accepts: it is already as
// Validate leaves it, written as JSON it reads back the same, and its
// plans have every default applied.
func checkAccepted(t *testing.T, c catalog.Catalog) {
	t.Helper()
	plans := c.Plans()
	if len(plans) != len(c.SKUs) {
		t.Fatalf("%d plans for %d SKUs", len(plans), len(c.SKUs))
	}
	for _, p := range plans {
		if p.LeadTime < 0 || p.LeadTime > catalog.MaxHours*time.Hour || p.ReviewPeriod <= 0 || p.ReviewPeriod > catalog.MaxHours*time.Hour ||
			p.ServiceLevel < catalog.MinServiceLevel || p.ServiceLevel > catalog.MaxServiceLevel || p.MinOrderQty < 1 {
			t.Fatalf("plan without its defaults: %+v", p)
		}
	}
	again, err := catalog.Validate(c)
	if err != nil {
		t.Fatalf("accepted catalog fails Validate: %v\n%+v", err, c)
	}
	if !reflect.DeepEqual(again, c) {
		t.Fatalf("Validate changed an accepted catalog:\n%+v\n%+v", c, again)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := catalog.Parse(strings.NewReader(string(b)), catalog.FormatJSON)
	if err != nil {
		t.Fatalf("its JSON %s is refused: %v", b, err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("JSON round trip changed the catalog:\n%+v\n%+v", c, back)
	}
}

// checkRefused holds for every error: at most MaxErrors problems and the
// line counting the rest, one a line.
func checkRefused(t *testing.T, err error) {
	t.Helper()
	if n := strings.Count(err.Error(), "\n") + 1; n > catalog.MaxErrors+1 {
		t.Fatalf("%d lines of problems:\n%v", n, err)
	}
}

func FuzzParseCSV(f *testing.F) {
	for _, seed := range []string{
		goodCSV,
		goodCSVShuffled,
		csvHeader,
		csvHeader + "s,,,k,p,,,-3,1.234,v\n",
		csvHeader + "a,C1,,k1,p,,,,,v\na,C2,,k2,p,,,,,v\nb,,,k3,p,,,,,v\n",
		"sku_id,shop_id,product_id\nk,s,p\nk,s,q\n",
		csvHeader + "s,,,\"k\x01\",p,,\"a\"b,,,\n",
		"shop_id,sku_id,product_id,supplier_id,lead_time_hours,service_level,review_period_hours,min_order_qty,supplier_name,supplier_lead_time_hours,supplier_email\n" +
			"s,k1,p,sup,12.5,0.98,,50,Lab,36,a@lab.example\ns,k2,p,sup,,,48,,,,\ns,k3,p,sup2,-1,1,9000,x,,0,a@\ns,k4,p,sup,,,,,,48,\n",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := catalog.Parse(strings.NewReader(in), catalog.FormatCSV)
		if err != nil {
			checkRefused(t, err)
			return
		}
		checkAccepted(t, c)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		goodJSON,
		`{"shops":[{"shop_id":"s"}],"content":[{"content_id":"c","shop_id":"s","active":false}]}`,
		`{"shops":[{"shop_id":"a","shop_cipher":"x"},{"shop_id":"a","name":"y"}],"skus":[{"sku_id":"k","shop_id":"a","product_id":"p","unit_price":1e2}]}`,
		`{"skus":[{"starting_stock":1.5,"colour":1}],"content":[5]}`,
		`{"shops":[{"shop_id":"\u0000"}]}`,
		`{"suppliers":[{"supplier_id":"a","lead_time_hours":36,"email":"a@x.example"},{"supplier_id":"a","name":"A"}]}`,
		`{"shops":[{"shop_id":"s"}],"suppliers":[{"supplier_id":"a","lead_time_hours":1e-7}],"skus":[{"sku_id":"k","shop_id":"s","product_id":"p",` +
			`"supplier_id":"b","lead_time_hours":8760,"service_level":0.9999,"review_period_hours":-0,"min_order_qty":2147483647}]}`,
		`{"suppliers":[{"supplier_id":"a","lead_time_hours":0}],"skus":[{"service_level":0.3,"min_order_qty":-1}]}`,
		`[]`,
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := catalog.Parse(strings.NewReader(in), catalog.FormatJSON)
		if err != nil {
			checkRefused(t, err)
			return
		}
		checkAccepted(t, c)
	})
}
