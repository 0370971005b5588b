package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway/api"
	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/objectives"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/plans"
	"github.com/storeline/storeline/projections/products"
	"github.com/storeline/storeline/projections/tags"
	icebergsink "github.com/storeline/storeline/sinks/iceberg"
)

// devPrincipal is who every request is in dev mode (no identity provider configured).
var devPrincipal = auth.Principal{Subject: "dev", Email: "dev@localhost", Name: "Developer (authentication off)", Role: auth.RoleAdmin}

// authenticator returns the API's authentication: JWTs of the configured identity-aware proxy, or
// dev mode when none is configured (refused in production).
func authenticator(cfg *config.Config, log *slog.Logger) (func(http.Handler) http.Handler, error) {
	if cfg.AuthIssuer == "" {
		// Dev mode serves an admin to anyone who can connect: only to this machine.
		if !loopback(cfg.HTTPAddr) {
			return nil, fmt.Errorf("no identity provider (STORELINE_AUTH_ISSUER) and the API listens on %s: dev mode, with authentication off, only listens on loopback (127.0.0.1, ::1, localhost)", cfg.HTTPAddr)
		}
		return auth.NewDev(cfg.Production, devPrincipal, log)
	}
	v, err := auth.NewVerifier(auth.Config{
		Issuer: cfg.AuthIssuer, Audiences: cfg.AuthAudiences, JWKSURL: cfg.AuthJWKSURL,
		Algorithms: cfg.AuthAlgorithms, GroupsClaim: cfg.AuthGroupsClaim,
		Roles: auth.RoleMapping{Admins: cfg.AuthAdmins, Editors: cfg.AuthEditors, Viewers: cfg.AuthViewers},
	})
	if err != nil {
		return nil, err
	}
	return auth.Middleware(v, log), nil
}

// loopback reports whether addr (host:port) only takes connections from this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cursorKey derives the key that signs pagination cursors from the personal-data KEK, which
// every replica already shares, so a cursor from one replica is good on another.
func cursorKey(kek []byte) []byte {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("storeline pagination cursors v1"))
	return m.Sum(nil)
}

// dashboardProjections are the read models the API serves, by checkpoint name.
func dashboardProjections() []projections.Projection {
	return []projections.Projection{orders.Projection{}, products.Projection{}, objectives.Projection{}, plans.Projection{}, tags.Projection{}}
}

// apiDeps is what the dashboard API is built from.
type apiDeps struct {
	pool    *pgxpool.Pool
	brokers []string
	codec   *events.Codec
	kek     []byte
	shops   []api.Shop
	syncs   api.SyncRequester
	ping    func(context.Context) error // Kafka
	log     *slog.Logger
}

// newDashboardAPI builds the dashboard API.
func newDashboardAPI(cfg *config.Config, d apiDeps) (*api.API, http.Handler, func(), error) {
	authn, err := authenticator(cfg, d.log)
	if err != nil {
		return nil, nil, nil, err
	}
	topicsOf := map[string][]string{}
	for _, p := range dashboardProjections() {
		topicsOf[p.Name()] = p.Topics()
	}
	adminClient, err := kgo.NewClient(kgo.SeedBrokers(d.brokers...))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kafka admin client: %w", err)
	}
	adm := kadm.NewClient(adminClient)
	checks := []api.Check{
		{Name: "kafka", Probe: func(ctx context.Context) (any, error) { return nil, d.ping(ctx) }},
		{Name: "postgres", Probe: func(ctx context.Context) (any, error) { return nil, d.pool.Ping(ctx) }},
		{Name: "outbox", Probe: func(ctx context.Context) (any, error) {
			n, oldest, err := outbox.Backlog(ctx, d.pool)
			if err != nil {
				return nil, err
			}
			detail := map[string]any{"unpublished": n, "oldest_seconds": oldest.Seconds()}
			if oldest > 30*time.Second {
				return detail, fmt.Errorf("%d commands' events have waited up to %s for the relay: is a relay role running?", n, oldest.Round(time.Second))
			}
			return detail, nil
		}},
		{Name: "sink:iceberg", Probe: func(ctx context.Context) (any, error) {
			lags, err := adm.Lag(ctx, cfg.TopicPrefix+icebergsink.DefaultGroup)
			if err != nil {
				return nil, err
			}
			var total int64
			for _, l := range lags {
				if l.Error() != nil {
					return nil, l.Error()
				}
				total += l.Lag.Total()
			}
			return map[string]int64{"lag": total}, nil
		}},
	}
	for _, p := range dashboardProjections() {
		checks = append(checks, api.Check{Name: "projection:" + p.Name(), Probe: func(ctx context.Context) (any, error) {
			cp, err := projections.LiveCheckpoint(ctx, d.pool, p.Name())
			if err != nil {
				return nil, err
			}
			parts, err := projections.Lag(ctx, adm, d.pool, cfg.TopicPrefix, cp, p.Topics())
			if err != nil {
				return nil, err
			}
			var total int64
			for _, l := range parts {
				total += l.Lag
			}
			var stalledSince *time.Time
			var last time.Time
			if err := d.pool.QueryRow(ctx, `SELECT coalesce(max(updated_at), 'epoch') FROM projection_checkpoints WHERE projection = $1`, cp).Scan(&last); err != nil {
				return nil, err
			}
			// Behind and not moving for a minute: stalled.
			if total > 10 && time.Since(last) > time.Minute {
				stalledSince = &last
				return map[string]any{"lag": total, "partitions": parts, "stalled_since": stalledSince}, fmt.Errorf("projection %s is %d records behind and has not moved since %s", p.Name(), total, last.Format(time.RFC3339))
			}
			return map[string]any{"lag": total, "partitions": parts}, nil
		}})
	}
	a, h := api.New(api.Config{Shops: d.shops, ConsistencyTimeout: cfg.ConsistencyTimeout, CursorKey: cursorKey(d.kek), Version: "1.0.0"}, api.Deps{
		Authenticate: authn,
		Decisions:    decision.NewStore(d.pool, d.codec, cfg.TopicPrefix),
		Waiter:       outbox.NewWaiter(d.pool, topicsOf),
		Orders:       orders.NewReader(d.pool),
		Products:     products.NewReader(d.pool),
		Tags:         tags.NewReader(d.pool),
		Objectives:   objectives.NewReader(d.pool),
		Plans:        plans.NewReader(d.pool),
		Syncs:        d.syncs,
		Health:       checks,
		Log:          d.log,
	})
	return a, h, adminClient.Close, nil
}
