// Package tiktok is CreatorFlow's client of the TikTok Shop Open API
// (version 202309): signed requests, OAuth access-token refresh, rate
// limits, retries, a circuit breaker, a product cache and batched reads.
// The wire types here are shared with the sandbox, which serves the same
// shapes, so the real API is a base URL away.
package tiktok

import "encoding/json"

// API paths, as TikTok Shop names them.
const (
	PathTokenRefresh   = "/api/v2/token/refresh"
	PathOrders         = "/order/202309/orders"           // GET ?ids=a,b (at most 50)
	PathOrderSearch    = "/order/202309/orders/search"    // POST, paged
	PathVideoQuery     = "/analytics/202309/videos/query" // POST {"video_ids":[...]} (at most 50)
	pathProductPrefix  = "/product/202309/products/"      // {product_id}, {product_id}/inventory/update
	pathShippingPrefix = "/fulfillment/202309/orders/"    // {order_id}/shipping_info/update
)

// ProductPath is the path of one product's details.
func ProductPath(productID string) string { return pathProductPrefix + productID }

// InventoryPath is the path that updates a product's stock.
func InventoryPath(productID string) string {
	return pathProductPrefix + productID + "/inventory/update"
}

// ShippingInfoPath is the path that sets an order's tracking number.
func ShippingInfoPath(orderID string) string {
	return pathShippingPrefix + orderID + "/shipping_info/update"
}

// MaxBatch is the most ids one read carries (orders, videos).
const MaxBatch = 50

// Response codes in the envelope. Zero is success; the others are the ones
// the client acts on.
const (
	CodeOK            = 0
	CodeTokenInvalid  = 105001 // the access token is unknown or revoked
	CodeTokenExpired  = 105002 // the access token has expired
	CodeSignInvalid   = 106001 // the signature does not match
	CodeBadRequest    = 36009001
	CodeNotFound      = 36009002
	CodeRateLimited   = 36009003 // too many requests: back off
	CodeInternalError = 36009004
)

// Envelope is every API answer.
type Envelope struct {
	Code      int             `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// Token is the data of a token answer. Expiry times are Unix seconds.
type Token struct {
	AccessToken          string `json:"access_token"`
	AccessTokenExpireIn  int64  `json:"access_token_expire_in"`
	RefreshToken         string `json:"refresh_token"`
	RefreshTokenExpireIn int64  `json:"refresh_token_expire_in"`
	OpenID               string `json:"open_id,omitempty"`
	SellerName           string `json:"seller_name,omitempty"`
}

// Order is an order as the Order API returns it (the fields CreatorFlow
// uses). Times are Unix seconds.
type Order struct {
	ID               string     `json:"id"`
	Status           string     `json:"status"`
	CreateTime       int64      `json:"create_time"`
	UpdateTime       int64      `json:"update_time"`
	RTSSLATime       int64      `json:"rts_sla_time,omitempty"`
	ShippingDueTime  int64      `json:"shipping_due_time,omitempty"`
	UserID           string     `json:"user_id"`
	LineItems        []LineItem `json:"line_items"`
	RecipientAddress Address    `json:"recipient_address"`
	Payment          Payment    `json:"payment"`
	Packages         []Package  `json:"packages,omitempty"`
}

// LineItem is one unit line of an order.
type LineItem struct {
	ID          string `json:"id"`
	SKUID       string `json:"sku_id"`
	SellerSKU   string `json:"seller_sku"`
	ProductID   string `json:"product_id"`
	ProductName string `json:"product_name"`
	SalePrice   string `json:"sale_price"`
	Currency    string `json:"currency,omitempty"`
}

// Address is an order's recipient address.
type Address struct {
	Name          string     `json:"name"`
	PhoneNumber   string     `json:"phone_number,omitempty"`
	PostalCode    string     `json:"postal_code"`
	RegionCode    string     `json:"region_code"`
	AddressDetail string     `json:"address_detail"`
	DistrictInfo  []District `json:"district_info,omitempty"`
}

// District is one level of an address (state, city...).
type District struct {
	AddressLevelName string `json:"address_level_name"`
	AddressName      string `json:"address_name"`
}

// Payment is an order's amounts, as decimal strings.
type Payment struct {
	Currency    string `json:"currency"`
	TotalAmount string `json:"total_amount"`
}

// Package is a shipment of an order.
type Package struct {
	ID string `json:"id"`
}

// OrdersData is the data of an order detail or search answer.
type OrdersData struct {
	Orders        []Order `json:"orders"`
	NextPageToken string  `json:"next_page_token,omitempty"`
	TotalCount    int     `json:"total_count,omitempty"`
}

// OrderSearch is the body of an order search.
type OrderSearch struct {
	OrderStatus  string `json:"order_status,omitempty"`
	UpdateTimeGE int64  `json:"update_time_ge,omitempty"`
	UpdateTimeLT int64  `json:"update_time_lt,omitempty"`
}

// Product is a product's details (the fields CreatorFlow uses).
type Product struct {
	ID    string       `json:"id"`
	Title string       `json:"title"`
	SKUs  []ProductSKU `json:"skus"`
}

// ProductSKU is one SKU of a product with its stock per warehouse.
type ProductSKU struct {
	ID        string      `json:"id"`
	SellerSKU string      `json:"seller_sku"`
	Inventory []Inventory `json:"inventory"`
}

// Inventory is a quantity in a warehouse.
type Inventory struct {
	WarehouseID string `json:"warehouse_id,omitempty"`
	Quantity    int    `json:"quantity"`
}

// InventoryUpdate is the body of a stock update.
type InventoryUpdate struct {
	SKUs []ProductSKU `json:"skus"`
}

// ShippingInfo is the body of a shipping-info update.
type ShippingInfo struct {
	TrackingNumber     string `json:"tracking_number"`
	ShippingProviderID string `json:"shipping_provider_id"`
}

// VideoQuery is the body of a video metrics read.
type VideoQuery struct {
	VideoIDs []string `json:"video_ids"`
}

// Video is a content item's cumulative engagement counters.
type Video struct {
	ID           string `json:"id"`
	CreateTime   int64  `json:"create_time"`
	ViewCount    int64  `json:"view_count"`
	LikeCount    int64  `json:"like_count"`
	CommentCount int64  `json:"comment_count"`
	ShareCount   int64  `json:"share_count"`
}

// VideosData is the data of a video metrics answer.
type VideosData struct {
	Videos []Video `json:"videos"`
}
