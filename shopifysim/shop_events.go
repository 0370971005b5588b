package shopifysim

import (
	"fmt"
	"time"
)

// Webhooks about the shop rather than its objects: the app's uninstallation and the mandatory
// privacy (compliance) topics. Generate never sends them on its own, since each makes storeline
// forget something; tests call these when they want one. Each records a Change (and so reaches
// subscribers) stamped by the store's clock.

// SetClock gives the store the time source of writes made after generation (through the
// AdminServer or the methods below); NewAdminServer sets its own clock when none is set.
// Without one, each write is one second after the previous.
func (s *Store) SetClock(c Clock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = c
}

// now is the wanted time of a write after generation. s.mu is held.
func (s *Store) now() time.Time {
	if s.clock == nil {
		return time.Time{}
	}
	return s.clock.Now()
}

// AppUninstalled records app/uninstalled: the Shop object.
func (s *Store) AppUninstalled() Change {
	s.mu.Lock()
	at := s.tick(s.now())
	sh := s.shop
	c := s.record("app/uninstalled", at, sh.GID(), func() []byte { return renderShop(sh) })
	s.unlockAndNotify()
	return c
}

// ShopRedact records shop/redact (sent 48 h after an uninstall): {shop_id, shop_domain}.
func (s *Store) ShopRedact() Change {
	s.mu.Lock()
	at := s.tick(s.now())
	sh := s.shop
	c := s.record("shop/redact", at, sh.GID(), func() []byte {
		return mustJSON(struct {
			ShopID     int64  `json:"shop_id"`
			ShopDomain string `json:"shop_domain"`
		}{sh.ID, sh.MyshopifyDomain})
	})
	s.unlockAndNotify()
	return c
}

type complianceCustomer struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// CustomerDataRequest records customers/data_request for a customer: their id, email and phone,
// and the ids of their orders (orders_requested).
func (s *Store) CustomerDataRequest(customerID int64) (Change, error) {
	return s.complianceRequest("customers/data_request", customerID)
}

// CustomerRedact records customers/redact for a customer: their id, email and phone, and the ids
// of their orders (orders_to_redact).
func (s *Store) CustomerRedact(customerID int64) (Change, error) {
	return s.complianceRequest("customers/redact", customerID)
}

func (s *Store) complianceRequest(topic string, customerID int64) (Change, error) {
	s.mu.Lock()
	cust, ok := s.customers[customerID]
	if !ok {
		s.mu.Unlock()
		return Change{}, fmt.Errorf("shopifysim: %s: no customer %d", topic, customerID)
	}
	orders := []int64{}
	for _, id := range s.orderIDs {
		if s.orders[id].CustomerID == customerID {
			orders = append(orders, id)
		}
	}
	at := s.tick(s.now())
	sh := s.shop
	who := complianceCustomer{cust.ID, cust.Email, cust.Phone}
	var render func() []byte
	if topic == "customers/redact" {
		render = func() []byte {
			return mustJSON(struct {
				ShopID         int64              `json:"shop_id"`
				ShopDomain     string             `json:"shop_domain"`
				Customer       complianceCustomer `json:"customer"`
				OrdersToRedact []int64            `json:"orders_to_redact"`
			}{sh.ID, sh.MyshopifyDomain, who, orders})
		}
	} else {
		reqID := s.newID(idEvent)
		render = func() []byte {
			return mustJSON(struct {
				ShopID          int64              `json:"shop_id"`
				ShopDomain      string             `json:"shop_domain"`
				OrdersRequested []int64            `json:"orders_requested"`
				Customer        complianceCustomer `json:"customer"`
				DataRequest     struct {
					ID int64 `json:"id"`
				} `json:"data_request"`
			}{ShopID: sh.ID, ShopDomain: sh.MyshopifyDomain, OrdersRequested: orders, Customer: who, DataRequest: struct {
				ID int64 `json:"id"`
			}{reqID}})
		}
	}
	c := s.record(topic, at, cust.GID(), render)
	s.unlockAndNotify()
	return c, nil
}
