package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// lookupProduct returns a registered product, else one of the synthetic
// catalog. The caller holds s.store.mu.
func (s *Server) lookupProduct(id string) (tiktok.Product, bool) {
	if p, ok := s.store.products[id]; ok {
		return p, true
	}
	if s.cfg.Synthesize {
		if i := slices.IndexFunc(s.catalog, func(p tiktok.Product) bool { return p.ID == id }); i >= 0 {
			return s.catalog[i], true
		}
	}
	return tiktok.Product{}, false
}

// getProduct serves GET ProductPath(id).
func (s *Server) getProduct(c *call) answer {
	id := c.r.PathValue("id")
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	p, ok := s.lookupProduct(id)
	if !ok {
		return notFound("product %s not found", id)
	}
	return success(p)
}

// updateInventory serves POST InventoryPath(id): each SKU of the body sets
// its quantity in the warehouses it names (the SKU's first warehouse when
// it names none); later reads return the new stock.
func (s *Server) updateInventory(c *call) answer {
	var up tiktok.InventoryUpdate
	if err := json.Unmarshal(c.body, &up); err != nil {
		return badRequest("body is not an inventory update: %v", err)
	}
	if len(up.SKUs) == 0 {
		return badRequest("skus is empty")
	}
	id := c.r.PathValue("id")
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	p, ok := s.lookupProduct(id)
	if !ok {
		return notFound("product %s not found", id)
	}
	skus := slices.Clone(p.SKUs)
	for _, u := range up.SKUs {
		j := slices.IndexFunc(skus, func(k tiktok.ProductSKU) bool { return k.ID == u.ID })
		if j < 0 {
			return badRequest("sku %q is not a SKU of product %s", u.ID, id)
		}
		if len(u.Inventory) == 0 {
			return badRequest("sku %s: inventory is empty", u.ID)
		}
		inv := slices.Clone(skus[j].Inventory)
		for _, q := range u.Inventory {
			if q.Quantity < 0 {
				return badRequest("sku %s: quantity %d is negative", u.ID, q.Quantity)
			}
			wh := q.WarehouseID
			if wh == "" && len(inv) > 0 {
				wh = inv[0].WarehouseID
			}
			if k := slices.IndexFunc(inv, func(i tiktok.Inventory) bool { return i.WarehouseID == wh }); k >= 0 {
				inv[k].Quantity = q.Quantity
			} else {
				inv = append(inv, tiktok.Inventory{WarehouseID: wh, Quantity: q.Quantity})
			}
		}
		skus[j].Inventory = inv
	}
	p.SKUs = skus
	s.store.products[id] = p
	return success(nil)
}

// AddProducts registers products (the admin route POST /sandbox/products),
// replacing those with the same id, including catalog ones.
func (s *Server) AddProducts(products []tiktok.Product) error {
	for i, p := range products {
		if p.ID == "" {
			return fmt.Errorf("product %d has no id", i)
		}
		for _, sku := range p.SKUs {
			if sku.ID == "" {
				return fmt.Errorf("product %s: a SKU has no id", p.ID)
			}
		}
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, p := range products {
		s.store.products[p.ID] = cloneProduct(p)
	}
	s.log.Info("sandbox products registered", "products", len(products))
	return nil
}

// Catalog returns the synthetic catalog with its current stock (the admin
// route GET /sandbox/catalog), for scripts that need product and SKU ids.
func (s *Server) Catalog() []tiktok.Product {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	out := make([]tiktok.Product, len(s.catalog))
	for i, p := range s.catalog {
		if stored, ok := s.store.products[p.ID]; ok {
			p = stored
		}
		out[i] = p
	}
	return out
}

// cloneProduct copies a product deeply, so the caller's slices are not
// shared with the store.
func cloneProduct(p tiktok.Product) tiktok.Product {
	p.SKUs = slices.Clone(p.SKUs)
	for i := range p.SKUs {
		p.SKUs[i].Inventory = slices.Clone(p.SKUs[i].Inventory)
	}
	return p
}
