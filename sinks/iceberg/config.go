package icebergsink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the SQL catalog
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
)

// Defaults of Config.
const (
	DefaultCatalogName     = "storeline"
	DefaultCommitInterval  = 10 * time.Second
	DefaultGroup           = "storeline-sink-iceberg"
	DefaultMaxBufferedRows = 50_000
	DefaultMarkerInterval  = 5 * time.Minute
	// DefaultMaxBufferedBytes bounds the record bytes a batch holds (they are kept as read until
	// the commit decodes them).
	DefaultMaxBufferedBytes = 128 << 20
)

// DefaultTopics are the topics a sink consumes unless told otherwise: every topic of events.
func DefaultTopics() []string {
	return []string{events.TopicCommerce, events.TopicPublication, events.TopicSync}
}

// Config configures a Sink and the catalog it writes through.
type Config struct {
	// Warehouse is where tables are created: a local directory (the default; made absolute and
	// written as a file:// URI) or an object-store URI such as s3://bucket/prefix.
	Warehouse string
	// CatalogName is the catalog_name key of the SQL catalog's rows. Every reader (PyIceberg,
	// Spark, Trino JDBC) must use the same name. Default "storeline".
	CatalogName string
	// CatalogURL is the PostgreSQL URL of the SQL catalog (postgres://user:pw@host:port/db); the
	// catalog tables iceberg_tables and iceberg_namespace_properties are created there if missing.
	CatalogURL string
	// CatalogProps are extra catalog and file-IO properties (e.g. s3.endpoint, s3.region).
	CatalogProps iceberg.Properties
	// CommitInterval is how often buffered records are committed as one snapshot. Default 10s.
	CommitInterval time.Duration
	// MaxBufferedRows commits early once this many rows are buffered. Default 50,000.
	MaxBufferedRows int
	// MaxBufferedBytes commits early once the buffered records' values reach this many bytes.
	// Default 128 MiB.
	MaxBufferedBytes int
	// Group is the Kafka consumer group, also part of the offsets property. Default
	// "storeline-sink-iceberg".
	Group string
	// KafkaOpts are the client options of the caller (seed brokers, SASL, ...). The sink adds the
	// group, topic and consumption options itself.
	KafkaOpts []kgo.Opt
	// TopicPrefix prefixes the topic names, as in events.NewCodec.
	TopicPrefix string
	// Topics are the (unprefixed) topics the sink consumes, each into its own namespace. Default
	// DefaultTopics.
	Topics []string
	// MarkerInterval is how often the offsets marker of a table that gets no rows is advanced
	// (a table-property change, no snapshot), so a restart does not re-read the topic from where
	// that table last had rows. Default 5 minutes.
	MarkerInterval time.Duration

	// --- Catalog type and object storage (storage.go; OpenCatalog) ---

	// CatalogType is "sql" (the default: iceberg-go's SQL catalog in the PostgreSQL database at
	// CatalogURL) or "rest" (a REST catalog: REST). With "rest", Warehouse is the warehouse the
	// server knows (R2: <account-id>_<bucket>), passed as is.
	CatalogType string
	// REST configures the REST catalog when CatalogType is "rest".
	REST RESTCatalog
	// S3 configures the S3 FileIO for an s3:// warehouse (AWS S3, R2, MinIO, Versity).
	S3 S3Storage
}

func (c Config) withDefaults() Config {
	if c.CatalogName == "" {
		c.CatalogName = DefaultCatalogName
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = DefaultCommitInterval
	}
	if c.MaxBufferedRows <= 0 {
		c.MaxBufferedRows = DefaultMaxBufferedRows
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if len(c.Topics) == 0 {
		c.Topics = DefaultTopics()
	}
	if c.MarkerInterval <= 0 {
		c.MarkerInterval = DefaultMarkerInterval
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	return c
}

// WarehouseURI returns the warehouse location as tables record it: a local directory becomes
// an absolute file:// URI; a URI with a scheme is returned as is.
func WarehouseURI(warehouse string) (string, error) {
	if warehouse == "" {
		return "", errors.New("no warehouse configured")
	}
	if u, err := url.Parse(warehouse); err == nil && len(u.Scheme) > 1 {
		return strings.TrimSuffix(warehouse, "/"), nil
	}
	abs, err := filepath.Abs(warehouse)
	if err != nil {
		return "", fmt.Errorf("warehouse %q: %w", warehouse, err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// OpenCatalog opens the catalog of cfg (CatalogType, CatalogName, Warehouse, CatalogProps, S3):
// by default the SQL catalog on PostgreSQL (CatalogURL) through pgx, creating its tables if they
// are missing and a local warehouse directory if it does not exist; with CatalogType "rest" the
// REST catalog at REST.URI. Properties are mapped by Config.CatalogProperties. Close it with
// catalog.Closer when done.
func OpenCatalog(ctx context.Context, cfg Config) (catalog.Catalog, error) {
	cfg = cfg.withDefaults()
	props, err := cfg.CatalogProperties()
	if err != nil {
		return nil, fmt.Errorf("open iceberg catalog %q: %w", cfg.CatalogName, err)
	}
	if wh := props["warehouse"]; props["type"] == CatalogSQL && strings.HasPrefix(wh, "file://") {
		u, _ := url.Parse(wh)
		if err := os.MkdirAll(filepath.FromSlash(u.Path), 0o755); err != nil {
			return nil, fmt.Errorf("open iceberg catalog: create warehouse: %w", err)
		}
	}
	cat, err := catalog.Load(ctx, cfg.CatalogName, props)
	if err != nil {
		return nil, fmt.Errorf("open iceberg catalog %q: %w", cfg.CatalogName, err)
	}
	return cat, nil
}

// closeCatalog releases a catalog opened by OpenCatalog.
func closeCatalog(cat catalog.Catalog) error {
	if c, ok := cat.(catalog.Closer); ok {
		return c.Close()
	}
	return nil
}
