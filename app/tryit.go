package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/webhooksig"
)

// webhookSecret returns the Shopify client secret webhooks are verified with. With the embedded
// defaults and none configured, a random one is generated once and kept in the data directory,
// and generated is true; in any other set-up a missing secret is an error.
func webhookSecret(cfg *config.Config, embedded bool) (secret string, generated bool, err error) {
	if cfg.ShopifyWebhookSecret != "" {
		return cfg.ShopifyWebhookSecret, false, nil
	}
	if !embedded && len(cfg.ShopifyShops) > 0 && everyShopHasSecrets(cfg.ShopifyShops) {
		return "", false, nil // only the listed shops' webhooks are accepted, each with its own secrets
	}
	if !embedded {
		return "", false, errors.New("STORELINE_SHOPIFY_WEBHOOK_SECRET is required when Kafka or Postgres is configured (it is the Shopify app's client secret), unless every shop of STORELINE_SHOPIFY_SHOPS lists its own webhook_secrets")
	}
	path := filepath.Join(cfg.DataDir, "shopify-webhook-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), true, nil
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, err
	}
	secret = "dev_" + hex.EncodeToString(raw[:])
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return "", false, err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("keep the generated webhook secret: %w", err)
	}
	return secret, true, nil
}

func everyShopHasSecrets(shops []config.Shop) bool {
	for _, s := range shops {
		if len(s.WebhookSecrets) == 0 {
			return false
		}
	}
	return true
}

// printTryIt writes a sample orders/create payload and prints a ready-to-paste, correctly signed
// request for it, and the read that shows the result.
func printTryIt(cfg *config.Config, addr, secret string, demo *demoShop) error {
	path, err := filepath.Abs(filepath.Join(cfg.DataDir, "sample-orders-create.json"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, samples.OrdersCreate, 0o644); err != nil {
		return err
	}
	base := "http://" + addr
	fmt.Printf(`
storeline is running on the embedded defaults.
  API:       %[1]s/api/v1   health: %[1]s/readyz   metrics: %[1]s/metrics
  Data:      %[2]s (Kafka log, PostgreSQL cluster, Iceberg warehouse)

Send a signed Shopify orders/create webhook:

  curl -sS -X POST %[1]s/webhooks/shopify \
    -H 'Content-Type: application/json' \
    -H 'X-Shopify-Topic: orders/create' \
    -H 'X-Shopify-Shop-Domain: demo.myshopify.com' \
    -H 'X-Shopify-Event-Id: 98880550-7158-44d4-b7cd-2c97c8a091b5' \
    -H 'X-Shopify-Hmac-Sha256: %[3]s' \
    --data-binary @%[4]s

Then read it back:

  curl -sS %[1]s/api/v1/orders/5801234567890

`, base, cfg.DataDir, webhooksig.Sign(samples.OrdersCreate, secret), path)
	if demo != nil {
		fmt.Printf(`A demo shop, %[2]s (a simulated Shopify, no account needed), is sending storeline
its month of webhooks (%[3]d orders, %[4]d products), then answers one full bulk sync. Look:

  curl -sS %[1]s/api/v1/orders/%[5]d

`, base, demo.Domain(), len(demo.store.Orders()), len(demo.store.Products()), demo.store.Orders()[0].ID)
	}
	return nil
}
