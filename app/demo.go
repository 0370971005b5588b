package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/shopifysim"
)

// demoShop is the embedded defaults' simulated Shopify shop: its Admin API on a loopback port,
// configured as a shop of this storeline, and its history sent once as signed webhooks.
type demoShop struct {
	store  *shopifysim.Store
	admin  *shopifysim.AdminServer
	srv    *http.Server
	secret string
	marker string // present once the history was delivered
	log    *slog.Logger
}

// demoSize is the demo shop: a month of a small shop.
var demoSize = shopifysim.Size{Products: 40, Orders: 300}

// startDemoShop starts the demo shop's Admin API and adds the shop to cfg.ShopifyShops.
func startDemoShop(cfg *config.Config, log *slog.Logger) (*demoShop, error) {
	dir := filepath.Join(cfg.DataDir, "demo-shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	secret, err := demoSecret(filepath.Join(dir, "webhook-secret"))
	if err != nil {
		return nil, err
	}
	store := shopifysim.Generate(1, demoSize)
	admin := shopifysim.NewAdminServer(store, shopifysim.AdminOptions{
		Bulk: shopifysim.BulkOptions{StartAfter: 200 * time.Millisecond, RunFor: time.Second},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo shop: %w", err)
	}
	d := &demoShop{store: store, admin: admin, srv: &http.Server{Handler: admin, ReadHeaderTimeout: 10 * time.Second},
		secret: secret, marker: filepath.Join(dir, "webhooks-delivered"), log: log.With("component", "demo-shop")}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("demo shop admin API", "err", err)
		}
	}()
	shop := store.Shop()
	cfg.ShopifyShops = append(cfg.ShopifyShops, config.Shop{
		Domain: shop.MyshopifyDomain, WebhookSecrets: []string{secret}, AccessToken: shopifysim.DefaultAccessToken,
		AdminURL: "http://" + ln.Addr().String(), Currency: shop.Currency,
	})
	d.log.Info("demo shop (simulated Shopify) started", "shop", shop.MyshopifyDomain, "admin_api", "http://"+ln.Addr().String(),
		"products", len(store.Products()), "orders", len(store.Orders()))
	return d, nil
}

// Domain is the demo shop's myshopify domain.
func (d *demoShop) Domain() string { return d.store.Shop().MyshopifyDomain }

// deliver sends the shop's history to the gateway as Shopify would, once per data directory
// (a later start finds the marker): a redelivery would change nothing, but there is no need.
func (d *demoShop) deliver(ctx context.Context, gatewayURL string) {
	if _, err := os.Stat(d.marker); err == nil {
		return
	}
	sender := shopifysim.NewWebhookSender(d.store, shopifysim.SenderOptions{URL: gatewayURL + "/webhooks/shopify", Secret: d.secret, Concurrency: 4})
	defer sender.Close()
	report, err := sender.Send(ctx, d.store.History())
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("demo shop webhooks", "err", err)
		}
		return
	}
	d.log.Info("demo shop webhooks delivered", "delivered", len(report.Delivered), "failed", len(report.Failed))
	if len(report.Failed) == 0 && len(report.Undelivered) == 0 {
		if err := os.WriteFile(d.marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
			d.log.Warn("demo shop marker", "err", err)
		}
	}
}

// Close stops the demo shop's Admin API.
func (d *demoShop) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = d.srv.Shutdown(ctx)
	_ = d.admin.Close()
}

func demoSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return string(b), nil
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	secret := "demo_" + hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(secret), 0o600); err != nil {
		return "", err
	}
	return secret, nil
}
