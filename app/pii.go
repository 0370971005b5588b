package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/pii"
)

// piiKey returns the key-encryption key of the personal-data keys: the configured one, or with
// embedded defaults one generated and kept in the data directory. A deployment with its own
// Kafka or PostgreSQL must configure it: replicas with different keys could not read each
// other's keys.
func piiKey(cfg *config.Config, embedded bool) ([]byte, error) {
	if cfg.PIIKey != "" {
		return pii.ParseKEK(cfg.PIIKey)
	}
	if !embedded {
		return nil, errors.New("STORELINE_PII_KEY is required when Kafka or Postgres is configured (32 random bytes, base64; e.g. openssl rand -base64 32)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	return pii.LoadOrCreateKEK(filepath.Join(cfg.DataDir, "pii-key"))
}

// Shred destroys the personal-data keys of subjects (customer/<id>, order/<id>) of shop, or
// every key of the shop, and returns how many it destroyed. Shredding needs no key-encryption
// key: it deletes wrapped keys, it does not unwrap them.
func Shred(ctx context.Context, cfg *config.Config, log *slog.Logger, shop string, subjects []string, wholeShop bool) (int, error) {
	svc, err := StartServices(ctx, cfg, log, false)
	if err != nil {
		return 0, err
	}
	defer svc.Close()
	ks, err := pii.NewKeystore(svc.Pool, make([]byte, pii.KEKSize))
	if err != nil {
		return 0, err
	}
	if wholeShop {
		return ks.ShredShop(ctx, shop)
	}
	total := 0
	for _, s := range subjects {
		n, err := ks.Shred(ctx, shop, s)
		if err != nil {
			return total, err
		}
		total += n
	}
	log.Info("personal data shredded", "shop", shop, "subjects", subjects, "keys", total)
	return total, nil
}
