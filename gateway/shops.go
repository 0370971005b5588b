package gateway

import (
	"strings"
	"sync"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/events"
)

// webhookSecrets picks the secrets a shop's webhooks are verified with: the shop's own when the
// configuration lists any (a custom app per shop), else the default ones (the app's client
// secret). Each list may hold several secrets during a rotation; any of them verifies.
type webhookSecrets struct {
	defaults [][]byte
	byShop   map[string][][]byte // lower-cased shop domain → its own secrets
}

func newWebhookSecrets(defaults []string, shops []config.Shop) webhookSecrets {
	s := webhookSecrets{defaults: secretBytes(defaults), byShop: map[string][][]byte{}}
	for _, shop := range shops {
		if own := secretBytes(shop.WebhookSecrets); len(own) > 0 {
			s.byShop[strings.ToLower(shop.Domain)] = own
		}
	}
	return s
}

// of returns the secrets of shop (as X-Shopify-Shop-Domain names it). The header is the
// sender's word, but it only chooses which secrets must verify the body: naming another shop
// helps a forger only if that shop's secrets are the ones they hold.
func (s webhookSecrets) of(shop string) [][]byte {
	if own, ok := s.byShop[strings.ToLower(shop)]; ok {
		return own
	}
	return s.defaults
}

func secretBytes(in []string) [][]byte {
	out := make([][]byte, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}

// currencyBook knows each shop's currency, which product payloads (and some refunds) do not
// carry: the configured one, else the one the shop's latest order or app/uninstalled payload in
// this process named (an order's currency is its shop's), else none (the translators then write
// ISO 4217's XXX, "no currency"). What is learned lives in memory only: after a restart, a
// product webhook that comes before any order of an unconfigured shop gets XXX. Configure the
// currency of every shop whose products matter.
type currencyBook struct {
	configured map[string]string
	mu         sync.RWMutex
	learned    map[string]string
}

// maxLearnedCurrencies bounds the memory the book may take; past it, new shops learn nothing
// (their configured currency, or XXX).
const maxLearnedCurrencies = 100_000

func newCurrencyBook(shops []config.Shop) *currencyBook {
	b := &currencyBook{configured: map[string]string{}, learned: map[string]string{}}
	for _, s := range shops {
		if s.Currency != "" {
			b.configured[strings.ToLower(s.Domain)] = s.Currency
		}
	}
	return b
}

func (b *currencyBook) of(shop string) string {
	shop = strings.ToLower(shop)
	if c, ok := b.configured[shop]; ok {
		return c
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.learned[shop]
}

// learn records the shop currency an event states, if it states one.
func (b *currencyBook) learn(shop string, ev events.Event) {
	var currency string
	switch e := ev.(type) {
	case *events.OrderCreated:
		currency = e.Order.Currency
	case *events.OrderUpdated:
		currency = e.Order.Currency
	case *events.OrderCancelled:
		currency = e.Order.Currency
	case *events.OrderFulfilled:
		currency = e.Order.Currency
	case *events.OrderPaid:
		currency = e.Order.Currency
	case *events.ShopUninstalled:
		if e.Currency != nil {
			currency = *e.Currency
		}
	}
	if currency == "" {
		return
	}
	shop = strings.ToLower(shop)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.learned[shop]; ok || len(b.learned) < maxLearnedCurrencies {
		b.learned[shop] = currency
	}
}
