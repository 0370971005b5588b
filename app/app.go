// Package app wires storeline's parts into a running process: the services it needs (real or
// embedded), then the roles the configuration asks for, and a graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/embedded"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway"
	"github.com/storeline/storeline/gateway/api"
	"github.com/storeline/storeline/migrations"
	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/scheduler"
	icebergsink "github.com/storeline/storeline/sinks/iceberg"
	"github.com/storeline/storeline/topics"
	"github.com/storeline/storeline/workflows/bulksync"
)

// Services are the backing services a process talks to, started embedded when not configured.
type Services struct {
	Brokers  []string
	DBURL    string
	Pool     *pgxpool.Pool
	Embedded bool // Kafka or Postgres is embedded
	cleanups []func()
}

// Close stops what StartServices started, in reverse order.
func (s *Services) Close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
}

// StartServices connects to (or starts) Postgres, and Kafka when withKafka, and applies the
// migrations.
func StartServices(ctx context.Context, cfg *config.Config, log *slog.Logger, withKafka bool) (*Services, error) {
	s := &Services{Brokers: cfg.KafkaBrokers, DBURL: cfg.DatabaseURL}
	if s.DBURL == "" {
		pg, err := embedded.StartPostgres(ctx, filepath.Join(cfg.DataDir, "pg"), log)
		if err != nil {
			return nil, err
		}
		s.cleanups = append(s.cleanups, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := pg.Stop(ctx); err != nil {
				log.Error("stop embedded postgres", "err", err)
			}
		})
		s.DBURL, s.Embedded = pg.URL(), true
	}
	if withKafka && len(s.Brokers) == 0 {
		k, err := embedded.StartKafka(filepath.Join(cfg.DataDir, "kafka"), log)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.cleanups = append(s.cleanups, k.Close)
		s.Brokers, s.Embedded = k.Addrs(), true
	}
	pool, err := pgxpool.New(ctx, s.DBURL)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s.cleanups = append(s.cleanups, pool.Close)
	s.Pool = pool
	if err := migrations.Up(ctx, pool); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openCodec registers the event schemas in the configured registry, or in the embedded one
// (then returned as an HTTP handler to serve, with its close), and returns the codec.
func openCodec(ctx context.Context, cfg *config.Config, brokers []string, log *slog.Logger) (*events.Codec, http.Handler, func(), error) {
	var schemaReg events.Registry
	var regHandler http.Handler
	closeRegistry := func() {}
	if cfg.SchemaRegistryURL != "" {
		remote, err := registry.NewRemote(cfg.SchemaRegistryURL)
		if err != nil {
			return nil, nil, nil, err
		}
		schemaReg = remote
	} else {
		store, err := registry.NewStore(registry.StoreConfig{
			Brokers:           brokers,
			Topic:             registry.TopicName(cfg.TopicPrefix),
			ReplicationFactor: int16(cfg.TopicReplication),
			Log:               log,
		})
		if err != nil {
			return nil, nil, nil, err
		}
		if err := store.Start(ctx); err != nil {
			store.Close()
			return nil, nil, nil, fmt.Errorf("schema registry: %w", err)
		}
		schemaReg, regHandler, closeRegistry = store, registry.Handler(store, registry.WithWriteToken(cfg.RegistryToken)), store.Close
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		closeRegistry()
		return nil, nil, nil, err
	}
	codec, err := events.NewCodec(ctx, cat, schemaReg, cfg.TopicPrefix)
	if err != nil {
		closeRegistry()
		return nil, nil, nil, err
	}
	return codec, regHandler, closeRegistry, nil
}

// Run runs the configured roles until ctx ends, then shuts down gracefully: the HTTP server stops
// taking requests and finishes those in flight (each answered only once its event is stored),
// projectors and the sink finish and commit their batch, then the services close.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	svc, err := StartServices(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer svc.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Topics first: the registry keeps its schemas in one of them.
	if err := topics.Ensure(ctx, svc.Brokers, topics.SettingsFrom(cfg), log); err != nil {
		return err
	}
	codec, regHandler, closeRegistry, err := openCodec(ctx, cfg, svc.Brokers, log)
	if err != nil {
		return err
	}
	defer closeRegistry() // before svc.Close stops an embedded broker

	// Roles run until runCtx ends; the HTTP server is shut down first, on ctx's end.
	runCtx, stopRoles := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRoles()
	g, gctx := errgroup.WithContext(runCtx)

	var groupOpts []kgo.Opt
	if cfg.InstanceID != "" {
		groupOpts = append(groupOpts, kgo.InstanceID(cfg.InstanceID))
	}
	// With the embedded defaults and no shop configured, a simulated shop makes data to look at.
	var demo *demoShop
	if svc.Embedded && cfg.DemoShop && len(cfg.ShopifyShops) == 0 {
		if demo, err = startDemoShop(cfg, log); err != nil {
			return err
		}
		defer demo.Close()
	}
	// The personal-data keys: the gateway seals with them, the privacy projection shreds them.
	kek, err := piiKey(cfg, svc.Embedded)
	if err != nil {
		return err
	}
	keystore, err := pii.NewKeystore(svc.Pool, kek)
	if err != nil {
		return err
	}
	if cfg.Has(config.RoleProjector) {
		// One runner (consumer group, checkpoints) per read model version: the live one, and
		// one being rebuilt; privacy carries out redactions.
		sup := &projections.Supervisor{Config: projections.Config{Brokers: svc.Brokers, TopicPrefix: cfg.TopicPrefix, KafkaOpts: groupOpts},
			Projections: allProjections(keystore), Pool: svc.Pool, Codec: codec, Metrics: reg, Log: log}
		g.Go(func() error { return sup.Run(gctx) })
	}
	if cfg.Has(config.RoleRelay) {
		relay := outbox.NewRelay(outbox.RelayConfig{Brokers: svc.Brokers, TopicPrefix: cfg.TopicPrefix, KafkaOpts: groupOpts[:0:0]}, svc.Pool, reg, log)
		g.Go(func() error { return relay.Run(gctx) })
	}
	if cfg.Has(config.RoleSink) {
		lake := IcebergCatalogConfig(cfg, svc.DBURL)
		sink, err := icebergsink.New(icebergsink.Config{
			Warehouse:      lake.Warehouse,
			CatalogName:    lake.CatalogName,
			CatalogURL:     lake.CatalogURL,
			CatalogType:    lake.CatalogType,
			REST:           lake.REST,
			S3:             lake.S3,
			CommitInterval: cfg.SinkCommitInterval,
			Group:          cfg.TopicPrefix + icebergsink.DefaultGroup,
			KafkaOpts:      append([]kgo.Opt{kgo.SeedBrokers(svc.Brokers...)}, groupOpts...),
			TopicPrefix:    cfg.TopicPrefix,
		}, codec, dedup.NewStore(svc.Pool), reg, log)
		if err != nil {
			return err
		}
		g.Go(func() error { return runSink(gctx, sink, log) })
	}

	if cfg.Has(config.RoleScheduler) || cfg.Has(config.RoleWorkflows) {
		steps, err := eventlog.NewProducer(svc.Brokers, codec, reg)
		if err != nil {
			return err
		}
		defer steps.Close()
		deps := bulkSyncDeps{brokers: svc.Brokers, prefix: cfg.TopicPrefix, codec: codec, log: steps, pool: svc.Pool,
			seal: shopify.PersonalData{Sealer: pii.NewSealer(keystore)}, logger: log}
		var syncable []string
		for _, s := range cfg.ShopifyShops {
			if s.AccessToken != "" {
				syncable = append(syncable, s.Domain)
			}
		}
		if cfg.Has(config.RoleScheduler) {
			jobs := []scheduler.Job{{Name: "bulk-sync", Spec: scheduler.DailyBulkSync,
				Fire: func(ctx context.Context, at time.Time) error {
					return requestScheduledSyncs(ctx, cfg, syncable, at, deps)
				}}}
			// The Iceberg tables' compaction, snapshot expiry and orphan-file cleanup.
			jobs = append(jobs, lakeJobs(cfg, svc.DBURL, svc.Pool, log)...)
			sched, err := scheduler.New(jobs, log)
			if err != nil {
				return err
			}
			g.Go(func() error { return sched.Run(gctx) })
		}
		if cfg.Has(config.RoleWorkflows) {
			role := bulksync.Role{Shops: syncable, Log: log,
				Workflow: func(shop string) (*bulksync.Workflow, error) { return bulkSyncFor(cfg, shop, deps) }}
			g.Go(func() error { return role.Run(gctx) })
		}
	}

	var srv *http.Server
	if cfg.Has(config.RoleGateway) {
		secret, generated, err := webhookSecret(cfg, svc.Embedded)
		if err != nil {
			return err
		}
		producer, err := eventlog.NewProducer(svc.Brokers, codec, reg)
		if err != nil {
			return err
		}
		defer producer.Close()
		deadLetters, err := gateway.NewKafkaDeadLetters(svc.Brokers)
		if err != nil {
			return err
		}
		defer deadLetters.Close()
		syncs := syncRequester{cfg: cfg, deps: bulkSyncDeps{brokers: svc.Brokers, prefix: cfg.TopicPrefix, codec: codec,
			log: producer, pool: svc.Pool, seal: shopify.PersonalData{Sealer: pii.NewSealer(keystore)}, logger: log}}
		shops := make([]api.Shop, 0, len(cfg.ShopifyShops)) // the demo shop, when there is one, is among them
		for _, s := range cfg.ShopifyShops {
			shops = append(shops, api.Shop{Domain: s.Domain, Currency: s.Currency})
		}
		dashboard, apiHandler, closeAPI, err := newDashboardAPI(cfg, apiDeps{pool: svc.Pool, brokers: svc.Brokers, codec: codec, kek: kek,
			shops: shops, syncs: syncs, ping: producer.Ping, log: log})
		if err != nil {
			return err
		}
		defer closeAPI()
		handler := gateway.New(gateway.Config{WebhookSecrets: config.CommaList(secret), Shops: cfg.ShopifyShops, TopicPrefix: cfg.TopicPrefix, MaxWebhookBody: cfg.WebhookMaxBody}, gateway.Deps{
			DeadLetters: deadLetters,
			Appender:    producer,
			Sealer:      shopify.PersonalData{Sealer: pii.NewSealer(keystore)},
			API:         apiHandler,
			OpenAPI:     dashboard.ServeOpenAPI,
			Checks: []gateway.Check{
				{Name: "kafka", Ping: producer.Ping},
				{Name: "postgres", Ping: svc.Pool.Ping},
			},
			Registry: regHandler,
			Metrics:  reg,
			Gatherer: reg,
			Log:      log,
		})
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
		}
		srv = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		log.Info("http listening", "addr", ln.Addr().String())
		if generated {
			if err := printTryIt(cfg, ln.Addr().String(), secret, demo); err != nil {
				log.Warn("write sample webhook", "err", err)
			}
		}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http server: %w", err)
			}
			return nil
		})
		if demo != nil {
			g.Go(func() error {
				demo.deliver(gctx, "http://"+ln.Addr().String())
				// Then one full bulk sync, as a real shop's first: the same run at every start.
				if _, err := syncs.RequestSync(gctx, demo.Domain(), "full", "demo-initial-sync", ""); err != nil && gctx.Err() == nil {
					log.Warn("demo shop bulk sync request", "err", err)
				}
				return nil
			})
		}
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down: draining requests, committing batches", "timeout", cfg.ShutdownTimeout)
	case <-gctx.Done():
		log.Error("a role stopped; shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Error("http shutdown", "err", err)
		}
	}
	stopRoles()
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
		log.Info("stopped cleanly")
		return nil
	case <-shutdownCtx.Done():
		return errors.New("shutdown timed out; uncommitted work will be redone on the next start")
	}
}

// IcebergCatalogConfig is the part of the Iceberg sink's configuration that opens its catalog
// (icebergsink.OpenCatalog): catalog type, name and database, warehouse, REST catalog and S3
// settings. The sink uses it, and so should every command that reads or maintains the tables.
// dbURL is the PostgreSQL URL of the SQL catalog (the read models' database).
func IcebergCatalogConfig(cfg *config.Config, dbURL string) icebergsink.Config {
	warehouse := cfg.Warehouse
	if warehouse == "" && cfg.IcebergCatalogType != icebergsink.CatalogREST {
		warehouse = filepath.Join(cfg.DataDir, "warehouse")
	}
	return icebergsink.Config{
		Warehouse:   warehouse,
		CatalogName: cfg.IcebergCatalog,
		CatalogURL:  dbURL,
		CatalogType: cfg.IcebergCatalogType,
		REST: icebergsink.RESTCatalog{
			URI:             cfg.IcebergCatalogURI,
			Token:           cfg.IcebergCatalogToken,
			Credential:      cfg.IcebergCatalogCredential,
			OAuth2ServerURI: cfg.IcebergCatalogOAuth2ServerURI,
			Scope:           cfg.IcebergCatalogScope,
			SigV4Region:     cfg.IcebergCatalogSigV4Region,
			SigV4Service:    cfg.IcebergCatalogSigV4Service,
		},
		S3: icebergsink.S3Storage{
			Endpoint:        cfg.S3Endpoint,
			Region:          cfg.S3Region,
			AccessKeyID:     cfg.S3AccessKeyID,
			SecretAccessKey: cfg.S3SecretAccessKey,
			SessionToken:    cfg.S3SessionToken,
			PathStyle:       cfg.S3PathStyle,
			CompatMode:      cfg.S3CompatMode,
		},
	}
}

// runSink runs the Iceberg sink until ctx ends, starting it again after a failure (the catalog
// or the object store unreachable, a commit failing time after time) with a growing pause: it
// resumes from the tables' offsets, and the other roles of the process go on meanwhile.
func runSink(ctx context.Context, sink *icebergsink.Sink, log *slog.Logger) error {
	pause := time.Second
	for {
		err := sink.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		log.Error("iceberg sink failed; starting it again", "err", err, "in", pause)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Minute)
	}
}
