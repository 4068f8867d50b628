package schemas

import (
	"embed"
	"io/fs"
)

//go:embed jsonschema/*.json
var jsonSchemaFiles embed.FS

// JSONSchemas holds the JSON Schema (draft 2020-12) documents of the payloads
// that come from outside, at the root of the file system (named below). Each
// document's $id is its canonical URL; the envelope refers to the order status
// data by a relative $ref, so load both into one compiler. The Go parsers
// accept exactly what the schemas accept (jsonschema_test.go checks it), and
// also reject bodies that are not UTF-8 or repeat a member name.
var JSONSchemas fs.FS = mustSub(jsonSchemaFiles, "jsonschema")

// File names in JSONSchemas.
const (
	// TikTokWebhookSchemaFile describes the TikTok webhook envelope (TikTokWebhook).
	TikTokWebhookSchemaFile = "tiktok-webhook.schema.json"
	// TikTokOrderStatusDataSchemaFile describes the data of a type 1 webhook (OrderStatusData).
	TikTokOrderStatusDataSchemaFile = "tiktok-order-status-data.schema.json"
	// CarrierWebhookSchemaFile describes a carrier tracking webhook (CarrierWebhook).
	CarrierWebhookSchemaFile = "carrier-webhook.schema.json"
)

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // dir is a constant valid path: cannot happen
	}
	return sub
}
