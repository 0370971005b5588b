package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway/api"
	"github.com/storeline/storeline/shopifyapi"
	"github.com/storeline/storeline/workflows/bulksync"
)

// bulkSyncDeps is what every shop's bulk sync workflow shares.
type bulkSyncDeps struct {
	brokers  []string
	prefix   string
	codec    *events.Codec
	log      *eventlog.Producer
	pool     *pgxpool.Pool
	seal     shopify.SubjectSealer
	logger   *slog.Logger
	progress func(bulksync.Progress)
}

// bulkSyncFor returns the bulk sync workflow of a configured shop.
func bulkSyncFor(cfg *config.Config, domain string, d bulkSyncDeps) (*bulksync.Workflow, error) {
	shop, ok := findShop(cfg, domain)
	if !ok {
		return nil, fmt.Errorf("shop %s is not in STORELINE_SHOPIFY_SHOPS", domain)
	}
	if shop.AccessToken == "" {
		return nil, fmt.Errorf("shop %s has no access_token in STORELINE_SHOPIFY_SHOPS: the bulk sync needs one", domain)
	}
	client, err := shopifyapi.New(shopifyapi.Config{Shop: shop.Domain, AccessToken: shop.AccessToken, APIVersion: shop.APIVersion,
		BaseURL: shop.AdminURL, Log: d.logger})
	if err != nil {
		return nil, err
	}
	hist := bulksync.SyncTopic{Brokers: d.brokers, Topic: d.codec.Topic(events.TopicSync), Codec: d.codec, Log: d.logger}
	return bulksync.New(bulksync.Config{Shop: shop.Domain, Progress: d.progress, Log: d.logger},
		shopifyPort{client}, exportsPort{seal: d.seal, currency: shop.Currency, apiVersion: client.APIVersion(), client: client},
		d.log, hist, bulksync.PGLock{Pool: d.pool}), nil
}

func findShop(cfg *config.Config, domain string) (config.Shop, bool) {
	for _, s := range cfg.ShopifyShops {
		if s.Domain == domain {
			return s, true
		}
	}
	return config.Shop{}, false
}

// shopifyPort is the Admin API client as the workflow uses it.
type shopifyPort struct{ c *shopifyapi.Client }

func (p shopifyPort) RunBulkQuery(ctx context.Context, query string) (bulksync.BulkOperation, error) {
	op, err := p.c.RunBulkQuery(ctx, query, false)
	if errors.Is(err, shopifyapi.ErrBulkOperationInProgress) {
		return bulksync.BulkOperation{}, fmt.Errorf("%w: %v", bulksync.ErrBulkInProgress, err)
	}
	return bulkOp(op), err
}

func (p shopifyPort) BulkOperation(ctx context.Context, gid string) (bulksync.BulkOperation, error) {
	op, err := p.c.BulkOperation(ctx, gid)
	return bulkOp(op), err
}

func (p shopifyPort) CurrentBulkOperation(ctx context.Context) (bulksync.BulkOperation, error) {
	op, err := p.c.CurrentBulkOperation(ctx)
	if errors.Is(err, shopifyapi.ErrBulkOperationNotFound) {
		return bulksync.BulkOperation{}, nil
	}
	return bulkOp(op), err
}

func (p shopifyPort) OpenResult(ctx context.Context, url string, from bulksync.Position) (bulksync.Result, error) {
	r, err := p.c.OpenResultAt(ctx, url, shopifyapi.Position{Offset: from.Offset, Line: from.Line})
	if err != nil {
		return nil, err
	}
	return resultPort{r}, nil
}

type resultPort struct{ r *shopifyapi.ResultReader }

func (p resultPort) Next() (bulksync.Line, error) {
	l, err := p.r.Next()
	return bulksync.Line{Raw: l.Raw, Number: l.Number, Offset: l.Offset}, err
}

func (p resultPort) Close() error { return p.r.Close() }

func bulkOp(op shopifyapi.BulkOperation) bulksync.BulkOperation {
	return bulksync.BulkOperation{
		GID: op.ID, Status: string(op.Status), ErrorCode: op.ErrorCode, CreatedAt: op.CreatedAt, CompletedAt: op.CompletedAt,
		ObjectCount: op.ObjectCount, RootObjectCount: op.RootObjectCount, FileSize: op.FileSize, URL: op.URL, PartialDataURL: op.PartialDataURL,
		Query: op.Query,
	}
}

// exportsPort is commands/shopify's bulk queries and row translation as the workflow uses them.
type exportsPort struct {
	seal       shopify.SubjectSealer
	currency   string
	apiVersion string
	client     *shopifyapi.Client // the paged resources' queries (product_deletions)
}

// Paged implements bulksync.PagedExports: product deletions are read from Shopify's events,
// which have no bulk export.
func (p exportsPort) Paged(resource string) bool {
	return resource == shopify.BulkResourceProductDeletions && p.client != nil
}

// Page implements bulksync.PagedExports: one page of shopify.ProductDeletionsQuery, each node
// translated into ProductDeleted.
func (p exportsPort) Page(ctx context.Context, shop, resource string, since *time.Time, cursor, runID string) ([]events.Event, string, error) {
	if !p.Paged(resource) {
		return nil, "", fmt.Errorf("%s is not read page by page", resource)
	}
	var from time.Time
	if since != nil {
		from = *since
	}
	vars := map[string]any{"query": shopify.ProductDeletionsSearch(from), "after": nil}
	if cursor != "" {
		vars["after"] = cursor
	}
	var page struct {
		Events struct {
			PageInfo struct {
				HasNextPage bool    `json:"hasNextPage"`
				EndCursor   *string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []json.RawMessage `json:"nodes"`
		} `json:"events"`
	}
	if err := p.client.Do(ctx, shopify.ProductDeletionsQuery, vars, &page); err != nil {
		return nil, "", err
	}
	out := make([]events.Event, 0, len(page.Events.Nodes))
	for _, n := range page.Events.Nodes {
		ev, err := shopify.TranslateProductDeletion(shopify.ProductDeletionRow{Shop: shop, Node: n, APIVersion: p.apiVersion, CorrelationID: runID})
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", bulksync.ErrUntranslatable, err)
		}
		out = append(out, ev)
	}
	next := ""
	if page.Events.PageInfo.HasNextPage && page.Events.PageInfo.EndCursor != nil {
		next = *page.Events.PageInfo.EndCursor
	}
	return out, next, nil
}

func (p exportsPort) Query(resource string, since *time.Time) string {
	var t time.Time
	if since != nil {
		t = *since
	}
	q, err := shopify.BulkQuery(resource, t)
	if err != nil {
		panic(err) // the workflow only asks bulk queries of products, orders and inventory
	}
	return q
}

func (p exportsPort) Events(ctx context.Context, shop, _ string, line []byte, row int64, op bulksync.BulkOperation, runID string) ([]events.Event, error) {
	ev, err := shopify.TranslateBulkRow(ctx, shopify.BulkRow{
		Shop: shop, BulkOperationGID: op.GID, BulkOperationCreatedAt: op.CreatedAt, Row: row, Line: line,
		Currency: p.currency, APIVersion: p.apiVersion, CorrelationID: runID,
	}, p.seal)
	if err != nil {
		return nil, err
	}
	if ev == nil { // an InventoryItem row: the parent of its levels' rows, no event of its own
		return []events.Event{}, nil
	}
	return []events.Event{ev}, nil
}

// requestScheduledSyncs requests the incremental bulk sync of every shop for the firing at at.
// The run id is derived from shop and firing, so replicas of the scheduler request one run.
func requestScheduledSyncs(ctx context.Context, cfg *config.Config, shops []string, at time.Time, d bulkSyncDeps) error {
	var errs []error
	for _, shop := range shops {
		wf, err := bulkSyncFor(cfg, shop, d)
		if err == nil {
			runID := events.DeterministicID("scheduled-bulk-sync", shop, at.UTC().Format(time.RFC3339))
			err = wf.Request(ctx, runID, bulksync.ModeIncremental, "scheduler", events.SourceSystem, events.Actor{Type: events.ActorSystem, ID: "scheduler"})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("request the bulk sync of %s: %w", shop, err))
		}
	}
	return errors.Join(errs...)
}

// syncRequester records the dashboard's bulk sync requests (POST /api/v1/sync).
type syncRequester struct {
	cfg  *config.Config
	deps bulkSyncDeps
}

func (s syncRequester) RequestSync(ctx context.Context, shop, mode, idempotencyKey, _ string) (string, error) {
	if cs, ok := findShop(s.cfg, shop); !ok || cs.AccessToken == "" {
		return "", fmt.Errorf("%w: %s has no access token in STORELINE_SHOPIFY_SHOPS", api.ErrUnknownShop, shop)
	}
	wf, err := bulkSyncFor(s.cfg, shop, s.deps)
	if err != nil {
		return "", err
	}
	runID := uuid.NewString()
	if idempotencyKey != "" { // a retried request is the same run
		runID = events.DeterministicID("sync-request", shop, idempotencyKey)
	}
	// The dashboard's user comes with authentication (a later issue); until then the request is
	// the dashboard's own.
	err = wf.Request(ctx, runID, mode, "dashboard", events.SourceDashboard, events.Actor{Type: events.ActorUser, ID: "dashboard"})
	return runID, err
}
