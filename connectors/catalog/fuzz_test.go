package catalog_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/creatorflow/creatorflow/connectors/catalog"
)

// checkAccepted holds for every catalog Parse accepts: it is already as
// Validate leaves it, and written as JSON it reads back the same.
func checkAccepted(t *testing.T, c catalog.Catalog) {
	t.Helper()
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
