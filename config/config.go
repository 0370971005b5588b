// Package config holds storeline's settings: each one a flag and a STORELINE_* environment
// variable, declared once here (the README's table is printed from the same list by
// `storeline config`).
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/pflag"
)

// Config is every setting of the storeline binary.
type Config struct {
	Roles                  []string
	HTTPAddr               string
	DataDir                string
	KafkaBrokers           []string
	TopicPrefix            string
	TopicPartitions        int
	TopicReplication       int // -1: the broker's default.replication.factor
	TopicMinInsyncReplicas int // 0: the broker's default
	InstanceID             string
	DatabaseURL            string
	SchemaRegistryURL      string
	RegistryToken          string
	Warehouse              string
	IcebergCatalog         string
	SinkCommitInterval     time.Duration
	LakeMaintenance        string // cron spec of compaction + snapshot expiry; empty: never
	LakeOrphanCleanup      string // cron spec of orphan-file cleanup; empty: never
	LakeTargetFileSize     int64
	LakeSnapshotRetention  time.Duration
	LakeRetainSnapshots    int
	LakeOrphanAge          time.Duration
	ShopifyWebhookSecret   string // as given: a comma-separated list (CommaList), current first
	ShopifyShops           []Shop
	DemoShop               bool
	PIIKey                 string
	WebhookMaxBody         int64
	Production             bool
	AuthIssuer             string
	AuthAudiences          []string
	AuthJWKSURL            string
	AuthAlgorithms         []string
	AuthGroupsClaim        string
	AuthAdmins             []string
	AuthEditors            []string
	AuthViewers            []string
	ConsistencyTimeout     time.Duration
	ShutdownTimeout        time.Duration
	LogLevel               string
	LogFormat              string

	// Iceberg catalog type and object storage (see sinks/iceberg/storage.go).
	IcebergCatalogType            string // sql or rest
	IcebergCatalogURI             string
	IcebergCatalogToken           string // secret
	IcebergCatalogCredential      string // secret: client_id:client_secret
	IcebergCatalogOAuth2ServerURI string
	IcebergCatalogScope           string
	IcebergCatalogSigV4Region     string
	IcebergCatalogSigV4Service    string
	S3Endpoint                    string
	S3Region                      string
	S3AccessKeyID                 string
	S3SecretAccessKey             string // secret
	S3SessionToken                string // secret
	S3PathStyle                   *bool  // nil: path-style with an endpoint, virtual-hosted without
	S3CompatMode                  bool
}

// Setting describes one setting for flags, environment and documentation.
type Setting struct {
	Flag, Env, Default, Help string
	// Secret settings never show their value: --help does not print the environment variable's
	// value as the flag's default (Load still reads it).
	Secret bool
}

// Settings lists every setting. Order is the README's.
var Settings = []Setting{
	{Flag: "roles", Env: "STORELINE_ROLES", Default: "all", Help: "Roles this process runs: gateway, projector, relay (publishes the dashboard commands' outbox to Kafka; one is active at a time), sink, scheduler, workflows, or all."},
	{Flag: "http-addr", Env: "STORELINE_HTTP_ADDR", Default: "127.0.0.1:8080", Help: "Address the HTTP server (webhooks, API, registry, health, metrics) listens on."},
	{Flag: "data-dir", Env: "STORELINE_DATA_DIR", Default: ".storeline", Help: "Directory of the embedded defaults: Kafka log, PostgreSQL cluster, warehouse."},
	{Flag: "kafka-brokers", Env: "STORELINE_KAFKA_BROKERS", Default: "", Help: "Comma-separated Kafka bootstrap addresses. Empty: an embedded broker under <data-dir>/kafka."},
	{Flag: "topic-prefix", Env: "STORELINE_TOPIC_PREFIX", Default: "", Help: "Prefix of every topic name (commerce, publication, sync, their .dlq dead-letter topics, _storeline_schemas, _storeline_outbox) and consumer group, to share a cluster."},
	{Flag: "topic-partitions", Env: "STORELINE_TOPIC_PARTITIONS", Default: "3", Help: "Partitions of the event topics and their dead-letter topics. Raising it raises an existing topic's count only through `storeline topics apply` (a key's new events may then land in another partition than its old ones); start-up only warns. Lowering it is reported, never done."},
	{Flag: "topic-replication", Env: "STORELINE_TOPIC_REPLICATION", Default: "-1", Help: "Replication factor of the topics storeline creates; -1: the broker's default.replication.factor. An existing topic's differing factor is reported, never changed (that takes a partition reassignment)."},
	{Flag: "topic-min-insync-replicas", Env: "STORELINE_TOPIC_MIN_INSYNC_REPLICAS", Default: "", Help: "min.insync.replicas of storeline's topics: replicas that must hold an event before it is acknowledged. At most --topic-replication. Empty: the broker's default."},
	{Flag: "instance-id", Env: "STORELINE_INSTANCE_ID", Default: "", Help: "Static consumer-group membership id of this process: unique per replica and stable across its restarts (e.g. the pod name), so a restarted process takes its partitions back at once instead of after the session timeout. Empty: dynamic membership."},
	{Flag: "database-url", Env: "STORELINE_DATABASE_URL", Default: "", Help: "PostgreSQL URL of the read models and the Iceberg SQL catalog. Empty: a private cluster under <data-dir>/pg."},
	{Flag: "schema-registry-url", Env: "STORELINE_SCHEMA_REGISTRY_URL", Default: "", Help: "Confluent-compatible schema registry (credentials, if any, as https://user:password@host). Empty: the embedded one, served at /registry."},
	{Flag: "registry-token", Env: "STORELINE_REGISTRY_TOKEN", Default: "", Secret: true, Help: "Token that lets an HTTP client change the embedded registry (register new schema versions, set compatibility), as a bearer token or the basic-auth password. Empty: its HTTP API is read-only; storeline registers its own schemas internally."},
	{Flag: "warehouse", Env: "STORELINE_WAREHOUSE", Default: "", Help: "Iceberg warehouse: a directory, or an object-store URI such as s3://bucket/prefix (see --s3-endpoint). With --iceberg-catalog-type rest: the warehouse as the REST catalog names it (R2 Data Catalog: <account-id>_<bucket>; Polaris: the catalog; Lakekeeper: the warehouse). Empty: <data-dir>/warehouse (sql), the server's default (rest)."},
	{Flag: "iceberg-catalog", Env: "STORELINE_ICEBERG_CATALOG", Default: "storeline", Help: "Name of the Iceberg catalog (readers of the SQL catalog such as PyIceberg must use the same name)."},
	{Flag: "iceberg-catalog-type", Env: "STORELINE_ICEBERG_CATALOG_TYPE", Default: "sql", Help: "sql: iceberg-go's SQL catalog in the PostgreSQL database of --database-url (tables iceberg_tables, iceberg_namespace_properties; readable by PyIceberg, Spark and Trino JDBC). rest: an Iceberg REST catalog at --iceberg-catalog-uri (R2 Data Catalog, Polaris, Lakekeeper, Glue), which every engine, DuckDB included, reads."},
	{Flag: "iceberg-catalog-uri", Env: "STORELINE_ICEBERG_CATALOG_URI", Default: "", Help: "URL of the REST catalog, e.g. https://catalog.cloudflarestorage.com/<account-id>/<bucket> (R2 Data Catalog), http://polaris:8181/api/catalog, http://lakekeeper:8181/catalog. Required with --iceberg-catalog-type rest."},
	{Flag: "iceberg-catalog-token", Env: "STORELINE_ICEBERG_CATALOG_TOKEN", Default: "", Secret: true, Help: "Bearer token for the REST catalog (R2 Data Catalog: an API token with Data Catalog and R2 storage permissions). Secret: never printed."},
	{Flag: "iceberg-catalog-credential", Env: "STORELINE_ICEBERG_CATALOG_CREDENTIAL", Default: "", Secret: true, Help: "OAuth2 client credentials client_id:client_secret that the REST catalog client exchanges for tokens (Polaris, Lakekeeper with an identity provider). Secret: never printed."},
	{Flag: "iceberg-catalog-oauth2-server-uri", Env: "STORELINE_ICEBERG_CATALOG_OAUTH2_SERVER_URI", Default: "", Help: "OAuth2 token endpoint for --iceberg-catalog-credential. Empty: the catalog's own <uri>/v1/oauth/tokens."},
	{Flag: "iceberg-catalog-scope", Env: "STORELINE_ICEBERG_CATALOG_SCOPE", Default: "", Help: "OAuth2 scope requested with --iceberg-catalog-credential (Polaris: PRINCIPAL_ROLE:ALL). Empty: catalog."},
	{Flag: "iceberg-catalog-sigv4-region", Env: "STORELINE_ICEBERG_CATALOG_SIGV4_REGION", Default: "", Help: "Sign REST catalog requests with AWS SigV4 in this region, with the AWS SDK's default credentials (environment, ~/.aws, instance role): Glue's and S3 Tables' Iceberg REST endpoints. Empty: no SigV4."},
	{Flag: "iceberg-catalog-sigv4-service", Env: "STORELINE_ICEBERG_CATALOG_SIGV4_SERVICE", Default: "", Help: "SigV4 signing name: glue, s3tables. Empty: execute-api."},
	{Flag: "s3-endpoint", Env: "STORELINE_S3_ENDPOINT", Default: "", Help: "S3 API endpoint of the object store of an s3:// warehouse, for stores other than AWS S3: https://<account-id>.r2.cloudflarestorage.com (R2), http://minio:9000, a Versity S3 Gateway. Empty: AWS S3."},
	{Flag: "s3-region", Env: "STORELINE_S3_REGION", Default: "", Help: "S3 region (R2: auto). Empty: AWS_REGION or the AWS shared config."},
	{Flag: "s3-access-key-id", Env: "STORELINE_S3_ACCESS_KEY_ID", Default: "", Help: "S3 access key id; set with --s3-secret-access-key. Empty: the AWS SDK's default credentials (AWS_ACCESS_KEY_ID, ~/.aws, an instance or pod role), or those a REST catalog vends."},
	{Flag: "s3-secret-access-key", Env: "STORELINE_S3_SECRET_ACCESS_KEY", Default: "", Secret: true, Help: "S3 secret access key of --s3-access-key-id. Secret: never printed."},
	{Flag: "s3-session-token", Env: "STORELINE_S3_SESSION_TOKEN", Default: "", Secret: true, Help: "Session token of temporary S3 credentials (STS). Secret: never printed."},
	{Flag: "s3-path-style", Env: "STORELINE_S3_PATH_STYLE", Default: "", Help: "true: path-style requests (endpoint/bucket/key); false: virtual-hosted style (bucket.endpoint/key). Empty: path-style with --s3-endpoint (R2, MinIO, Versity), virtual-hosted style on AWS S3."},
	{Flag: "s3-compat-mode", Env: "STORELINE_S3_COMPAT_MODE", Default: "false", Help: "true: send checksums only where S3 requires them and none of the newer SDKs' x-amz-checksum-* headers, for stores that reject them (try it when uploads to R2 or GCS fail)."},
	{Flag: "sink-commit-interval", Env: "STORELINE_SINK_COMMIT_INTERVAL", Default: "10s", Help: "How often the Iceberg sink commits what it has buffered."},
	{Flag: "lake-maintenance", Env: "STORELINE_LAKE_MAINTENANCE", Default: "15 * * * *", Help: "When the scheduler role compacts the Iceberg tables' small files and expires their old snapshots (one replica at a time): a cron expression in UTC. Empty: never (storeline lake compact and storeline lake expire do it on demand)."},
	{Flag: "lake-orphan-cleanup", Env: "STORELINE_LAKE_ORPHAN_CLEANUP", Default: "45 3 * * *", Help: "When the scheduler role deletes the files under the tables' locations that no snapshot references (a discarded batch's, an interrupted compaction's) once older than --lake-orphan-age: a cron expression in UTC. Empty: never (storeline lake expire --orphans does it on demand)."},
	{Flag: "lake-target-file-size", Env: "STORELINE_LAKE_TARGET_FILE_SIZE", Default: "134217728", Help: "Size in bytes of the files compaction writes; a day's files under 75% of it are merged once there are two."},
	{Flag: "lake-snapshot-retention", Env: "STORELINE_LAKE_SNAPSHOT_RETENTION", Default: "168h", Help: "How long the tables' snapshots are kept for time travel before expiry."},
	{Flag: "lake-retain-snapshots", Env: "STORELINE_LAKE_RETAIN_SNAPSHOTS", Default: "5", Help: "How many of a table's newest snapshots expiry always keeps, whatever their age."},
	{Flag: "lake-orphan-age", Env: "STORELINE_LAKE_ORPHAN_AGE", Default: "24h", Help: "How old an unreferenced file must be before orphan cleanup deletes it (at least 1h: a running sink writes its files before committing them)."},
	{Flag: "shopify-webhook-secret", Env: "STORELINE_SHOPIFY_WEBHOOK_SECRET", Default: "", Secret: true, Help: "The Shopify app's client secret, which signs webhooks, for every shop without secrets of its own in --shopify-shops. A comma-separated list during a rotation: the current secret first, then the previous ones, all accepted until removed (Shopify may sign with the old one for up to an hour). Empty with embedded defaults: a generated one kept in <data-dir>/shopify-webhook-secret."},
	{Flag: "shopify-shops", Env: "STORELINE_SHOPIFY_SHOPS", Default: "", Secret: true, Help: "Shops with settings of their own: a JSON array inline, or the path of a file holding it. Each entry: `{\"domain\": \"x.myshopify.com\", \"webhook_secrets\": [current, previous...], \"access_token\": \"shpat_...\", \"api_version\": \"2026-01\", \"currency\": \"EUR\"}`, every member but domain optional. A shop with webhook_secrets accepts only those; currency is the shop's (products' prices carry none). Keep it out of logs: it holds secrets."},
	{Flag: "demo-shop", Env: "STORELINE_DEMO_SHOP", Default: "true", Help: "With the embedded defaults and no STORELINE_SHOPIFY_SHOPS: a simulated Shopify shop (package shopifysim) sends its webhooks to this storeline once and answers its bulk syncs, so there is data to look at without a Shopify account. false: no demo shop."},
	{Flag: "pii-key", Env: "STORELINE_PII_KEY", Default: "", Secret: true, Help: "Key-encryption key (32 bytes, base64) that wraps the per-customer keys sealing customers' personal data (see pii/README.md). Every replica needs the same one; losing it makes all sealed personal data unreadable. Empty with embedded defaults: a generated one kept in <data-dir>/pii-key."},
	{Flag: "production", Env: "STORELINE_PRODUCTION", Default: "false", Help: "true marks a production deployment: the dashboard API then refuses to start without --auth-issuer (no dev mode with authentication off)."},
	{Flag: "auth-issuer", Env: "STORELINE_AUTH_ISSUER", Default: "", Help: "Issuer (iss) of the identity-aware proxy's JWTs that authenticate dashboard API calls, e.g. https://team.cloudflareaccess.com, https://cloud.google.com/iap, or oauth2-proxy's OIDC issuer. Empty (not in production): dev mode, every request is an admin named dev@localhost, logged loudly at start."},
	{Flag: "auth-audience", Env: "STORELINE_AUTH_AUDIENCE", Default: "", Help: "Comma-separated audiences a token must carry one of (Cloudflare Access: the application's AUD tag; IAP: /projects/N/global/backendServices/M). Required with --auth-issuer."},
	{Flag: "auth-jwks-url", Env: "STORELINE_AUTH_JWKS_URL", Default: "", Help: "Where the issuer publishes its signing keys (Cloudflare Access: <issuer>/cdn-cgi/access/certs; IAP: https://www.gstatic.com/iap/verify/public_key-jwk). Empty: discovered from <issuer>/.well-known/openid-configuration. Keys are cached and refetched on an unknown kid."},
	{Flag: "auth-algorithms", Env: "STORELINE_AUTH_ALGORITHMS", Default: "RS256,ES256", Help: "Comma-separated signature algorithms accepted; none is never accepted, and an RSA or EC public key never verifies an HMAC token."},
	{Flag: "auth-groups-claim", Env: "STORELINE_AUTH_GROUPS_CLAIM", Default: "groups", Help: "Claim holding the user's groups (a dotted name reaches into nested claims, e.g. custom.groups for Cloudflare Access)."},
	{Flag: "auth-admins", Env: "STORELINE_AUTH_ADMINS", Default: "", Help: "Comma-separated groups, email domains (@example.com) or emails granted the admin role (operations such as bulk syncs, plus everything an editor may do)."},
	{Flag: "auth-editors", Env: "STORELINE_AUTH_EDITORS", Default: "", Help: "Groups, email domains or emails granted the editor role (commands: objectives, combo plans, tags), plus everything a viewer may do."},
	{Flag: "auth-viewers", Env: "STORELINE_AUTH_VIEWERS", Default: "", Help: "Groups, email domains or emails granted the viewer role (reads). An authenticated user matching none gets 403."},
	{Flag: "consistency-timeout", Env: "STORELINE_CONSISTENCY_TIMEOUT", Default: "5s", Help: "How long a dashboard read given a consistency token waits for its read model to catch up before answering 504."},
	{Flag: "webhook-max-body", Env: "STORELINE_WEBHOOK_MAX_BODY", Default: "1048576", Help: "Largest webhook body accepted, in bytes (larger: 413)."},
	{Flag: "shutdown-timeout", Env: "STORELINE_SHUTDOWN_TIMEOUT", Default: "30s", Help: "How long a graceful shutdown may take to drain and commit."},
	{Flag: "log-level", Env: "STORELINE_LOG_LEVEL", Default: "info", Help: "debug, info, warn or error."},
	{Flag: "log-format", Env: "STORELINE_LOG_FORMAT", Default: "text", Help: "text or json."},
}

// Register adds every setting as a flag whose default is its environment variable when set.
// Parse the flag set, then call Load.
func Register(fs *pflag.FlagSet) {
	for _, s := range Settings {
		def := s.Default
		if v, ok := os.LookupEnv(s.Env); ok && !s.Secret {
			def = v
		}
		fs.String(s.Flag, def, s.Help+" ["+s.Env+"]")
	}
}

// Load reads the parsed flag set into a Config.
func Load(fs *pflag.FlagSet) (*Config, error) {
	get := func(name string) string {
		v, err := fs.GetString(name)
		if err != nil {
			panic(err) // Register was not called: a programming error
		}
		if s, ok := settingByFlag(name); ok && s.Secret && !fs.Changed(name) {
			if e, ok := os.LookupEnv(s.Env); ok {
				v = e // secrets are not flag defaults (--help would print them)
			}
		}
		return strings.TrimSpace(v)
	}
	c := &Config{
		Roles:                list(get("roles")),
		HTTPAddr:             get("http-addr"),
		DataDir:              get("data-dir"),
		KafkaBrokers:         list(get("kafka-brokers")),
		TopicPrefix:          get("topic-prefix"),
		InstanceID:           get("instance-id"),
		DatabaseURL:          get("database-url"),
		RegistryToken:        get("registry-token"),
		SchemaRegistryURL:    get("schema-registry-url"),
		Warehouse:            get("warehouse"),
		IcebergCatalog:       get("iceberg-catalog"),
		ShopifyWebhookSecret: strings.Join(CommaList(get("shopify-webhook-secret")), ","),
		PIIKey:               get("pii-key"),
		LogLevel:             get("log-level"),
		AuthIssuer:           get("auth-issuer"),
		AuthAudiences:        list(get("auth-audience")),
		AuthJWKSURL:          get("auth-jwks-url"),
		AuthAlgorithms:       list(get("auth-algorithms")),
		AuthGroupsClaim:      get("auth-groups-claim"),
		AuthAdmins:           list(get("auth-admins")),
		AuthEditors:          list(get("auth-editors")),
		AuthViewers:          list(get("auth-viewers")),
		LogFormat:            get("log-format"),
		LakeMaintenance:      get("lake-maintenance"),
		LakeOrphanCleanup:    get("lake-orphan-cleanup"),
	}
	var err error
	if c.TopicPartitions, err = strconv.Atoi(get("topic-partitions")); err != nil || c.TopicPartitions < 1 || c.TopicPartitions > math.MaxInt32 {
		return nil, fmt.Errorf("topic-partitions: want a positive integer, got %q", get("topic-partitions"))
	}
	if c.TopicReplication, err = strconv.Atoi(get("topic-replication")); err != nil || c.TopicReplication == 0 || c.TopicReplication < -1 || c.TopicReplication > math.MaxInt16 {
		return nil, fmt.Errorf("topic-replication: want a positive integer, or -1 for the broker's default, got %q", get("topic-replication"))
	}
	if v := get("topic-min-insync-replicas"); v != "" {
		if c.TopicMinInsyncReplicas, err = strconv.Atoi(v); err != nil || c.TopicMinInsyncReplicas < 1 {
			return nil, fmt.Errorf("topic-min-insync-replicas: want a positive integer, or empty for the broker's default, got %q", v)
		}
		if c.TopicReplication > 0 && c.TopicMinInsyncReplicas > c.TopicReplication {
			return nil, fmt.Errorf("topic-min-insync-replicas %d exceeds topic-replication %d: no acknowledged write could succeed", c.TopicMinInsyncReplicas, c.TopicReplication)
		}
	}
	if c.WebhookMaxBody, err = strconv.ParseInt(get("webhook-max-body"), 10, 64); err != nil || c.WebhookMaxBody < 1 {
		return nil, fmt.Errorf("webhook-max-body: want a positive number of bytes, got %q", get("webhook-max-body"))
	}
	for name, d := range map[string]*time.Duration{"sink-commit-interval": &c.SinkCommitInterval, "shutdown-timeout": &c.ShutdownTimeout, "consistency-timeout": &c.ConsistencyTimeout} {
		if *d, err = time.ParseDuration(get(name)); err != nil || *d <= 0 {
			return nil, fmt.Errorf("%s: want a positive duration such as 10s, got %q", name, get(name))
		}
	}
	for name, spec := range map[string]string{"lake-maintenance": c.LakeMaintenance, "lake-orphan-cleanup": c.LakeOrphanCleanup} {
		if _, err := cron.ParseStandard(spec); spec != "" && err != nil {
			return nil, fmt.Errorf("%s: want a cron expression such as \"15 * * * *\", or empty for never: %w", name, err)
		}
	}
	if c.LakeTargetFileSize, err = strconv.ParseInt(get("lake-target-file-size"), 10, 64); err != nil || c.LakeTargetFileSize < 1<<20 {
		return nil, fmt.Errorf("lake-target-file-size: want a number of bytes of at least 1 MiB, got %q", get("lake-target-file-size"))
	}
	if c.LakeRetainSnapshots, err = strconv.Atoi(get("lake-retain-snapshots")); err != nil || c.LakeRetainSnapshots < 1 {
		return nil, fmt.Errorf("lake-retain-snapshots: want a positive integer, got %q", get("lake-retain-snapshots"))
	}
	if c.LakeSnapshotRetention, err = time.ParseDuration(get("lake-snapshot-retention")); err != nil || c.LakeSnapshotRetention <= 0 {
		return nil, fmt.Errorf("lake-snapshot-retention: want a positive duration such as 168h, got %q", get("lake-snapshot-retention"))
	}
	if c.LakeOrphanAge, err = time.ParseDuration(get("lake-orphan-age")); err != nil || c.LakeOrphanAge < time.Hour {
		return nil, fmt.Errorf("lake-orphan-age: want a duration of at least 1h such as 24h, got %q", get("lake-orphan-age"))
	}
	if c.DemoShop, err = strconv.ParseBool(get("demo-shop")); err != nil {
		return nil, fmt.Errorf("demo-shop: want true or false, got %q", get("demo-shop"))
	}
	if c.Production, err = strconv.ParseBool(get("production")); err != nil {
		return nil, fmt.Errorf("production: want true or false, got %q", get("production"))
	}
	if c.AuthIssuer != "" && len(c.AuthAudiences) == 0 {
		return nil, fmt.Errorf("auth-audience is required with auth-issuer: without it any token of the issuer, for any application, would be accepted")
	}
	if c.Production && c.AuthIssuer == "" {
		return nil, fmt.Errorf("production is set but auth-issuer is empty: the dashboard API would run without authentication")
	}
	if c.ShopifyShops, err = ParseShops(get("shopify-shops")); err != nil {
		return nil, fmt.Errorf("shopify-shops: %w", err)
	}
	if err := loadIceberg(c, get); err != nil {
		return nil, err
	}
	if c.DataDir == "" {
		c.DataDir = ".storeline"
	}
	for _, r := range c.Roles {
		if !validRole[r] {
			return nil, fmt.Errorf("roles: unknown role %q (gateway, projector, relay, sink, scheduler, workflows, all)", r)
		}
	}
	if len(c.Roles) == 0 {
		c.Roles = []string{RoleAll}
	}
	return c, nil
}

// settingByFlag returns the setting of a flag name.
func settingByFlag(flag string) (Setting, bool) {
	for _, s := range Settings {
		if s.Flag == flag {
			return s, true
		}
	}
	return Setting{}, false
}

// loadIceberg reads and checks the Iceberg catalog and S3 settings.
func loadIceberg(c *Config, get func(string) string) error {
	c.IcebergCatalogType = strings.ToLower(get("iceberg-catalog-type"))
	c.IcebergCatalogURI = get("iceberg-catalog-uri")
	c.IcebergCatalogToken = get("iceberg-catalog-token")
	c.IcebergCatalogCredential = get("iceberg-catalog-credential")
	c.IcebergCatalogOAuth2ServerURI = get("iceberg-catalog-oauth2-server-uri")
	c.IcebergCatalogScope = get("iceberg-catalog-scope")
	c.IcebergCatalogSigV4Region = get("iceberg-catalog-sigv4-region")
	c.IcebergCatalogSigV4Service = get("iceberg-catalog-sigv4-service")
	c.S3Endpoint = get("s3-endpoint")
	c.S3Region = get("s3-region")
	c.S3AccessKeyID = get("s3-access-key-id")
	c.S3SecretAccessKey = get("s3-secret-access-key")
	c.S3SessionToken = get("s3-session-token")
	switch c.IcebergCatalogType {
	case "":
		c.IcebergCatalogType = "sql"
	case "sql":
	case "rest":
		if c.IcebergCatalogURI == "" {
			return fmt.Errorf("iceberg-catalog-uri is required with iceberg-catalog-type rest")
		}
	default:
		return fmt.Errorf("iceberg-catalog-type: want sql or rest, got %q", c.IcebergCatalogType)
	}
	if c.IcebergCatalogCredential != "" && !strings.Contains(c.IcebergCatalogCredential, ":") {
		return fmt.Errorf("iceberg-catalog-credential: want client_id:client_secret") // the value is not echoed: it is a secret
	}
	if (c.S3AccessKeyID == "") != (c.S3SecretAccessKey == "") {
		return fmt.Errorf("s3-access-key-id and s3-secret-access-key go together: set both or neither")
	}
	if c.S3SessionToken != "" && c.S3AccessKeyID == "" {
		return fmt.Errorf("s3-session-token needs s3-access-key-id and s3-secret-access-key")
	}
	if v := get("s3-path-style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("s3-path-style: want true, false or empty, got %q", v)
		}
		c.S3PathStyle = &b
	}
	var err error
	if c.S3CompatMode, err = strconv.ParseBool(get("s3-compat-mode")); err != nil {
		return fmt.Errorf("s3-compat-mode: want true or false, got %q", get("s3-compat-mode"))
	}
	return nil
}

// Roles.
const (
	RoleAll       = "all"
	RoleGateway   = "gateway"
	RoleProjector = "projector"
	RoleRelay     = "relay"
	RoleSink      = "sink"
	RoleScheduler = "scheduler"
	RoleWorkflows = "workflows"
)

var validRole = map[string]bool{RoleAll: true, RoleGateway: true, RoleProjector: true, RoleRelay: true, RoleSink: true, RoleScheduler: true, RoleWorkflows: true}

// Has reports whether the process runs role.
func (c *Config) Has(role string) bool {
	for _, r := range c.Roles {
		if r == role || r == RoleAll {
			return true
		}
	}
	return false
}

// CommaList splits a comma-separated setting (brokers, roles, webhook secrets) into its trimmed,
// non-empty items.
func CommaList(s string) []string { return list(s) }

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Markdown renders the settings as the README's table.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, s := range Settings {
		def := s.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | %s |\n", s.Flag, s.Env, def, s.Help)
	}
	return b.String()
}

// Shop is one shop's own settings (STORELINE_SHOPIFY_SHOPS): the webhook intake takes its
// secrets and currency, the bulk sync its access token and API version.
type Shop struct {
	// Domain is the shop's myshopify domain, e.g. example.myshopify.com (lower-cased).
	Domain string `json:"domain"`
	// WebhookSecrets sign the shop's webhooks: the client secret of the app installed on the
	// shop, the current one first, then previous ones during a rotation. Empty: the default
	// secrets (--shopify-webhook-secret).
	WebhookSecrets []string `json:"webhook_secrets,omitempty"`
	// AccessToken is the shop's Admin API access token (X-Shopify-Access-Token).
	AccessToken string `json:"access_token,omitempty"`
	// APIVersion is the Admin API version to call, e.g. 2026-01; empty: the client's default.
	APIVersion string `json:"api_version,omitempty"`
	// Currency is the shop's currency (ISO 4217), given to the amounts of payloads that carry
	// none (products' prices). Empty: learned from the shop's orders, else unknown (XXX).
	Currency string `json:"currency,omitempty"`
	// AdminURL overrides where the Admin API is called (a Shopify simulator, a proxy): an
	// origin, or the full GraphQL endpoint. Empty: https://<domain>/admin/api/<version>/graphql.json.
	AdminURL string `json:"admin_url,omitempty"`
}

// String names the shop without its secrets, so a Shop logged by mistake leaks nothing.
func (s Shop) String() string {
	return fmt.Sprintf("%s (%d webhook secrets, access token set: %t, api version %q, currency %q)",
		s.Domain, len(s.WebhookSecrets), s.AccessToken != "", s.APIVersion, s.Currency)
}

// GoString is String, for %#v.
func (s Shop) GoString() string { return s.String() }

var (
	shopDomainRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$`)
	apiVersionRe = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)
	currencyRe   = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ParseShops reads STORELINE_SHOPIFY_SHOPS: a JSON array of Shop inline (the value starts with
// '['), or the path of a file holding one. Empty: no shop has settings of its own. Unknown
// members are refused (a typo must not silently drop a secret), as are duplicate domains.
func ParseShops(value string) ([]Shop, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	data := []byte(value)
	if !strings.HasPrefix(value, "[") {
		var err error
		if data, err = os.ReadFile(value); err != nil {
			return nil, fmt.Errorf("not an inline JSON array, and not a readable file: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var shops []Shop
	if err := dec.Decode(&shops); err != nil {
		return nil, fmt.Errorf("want a JSON array of {domain, webhook_secrets, access_token, api_version, currency}: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON array")
	}
	seen := map[string]bool{}
	for i := range shops {
		s := &shops[i]
		s.Domain = strings.ToLower(strings.TrimSpace(s.Domain))
		switch {
		case !shopDomainRe.MatchString(s.Domain):
			return nil, fmt.Errorf("shop %d: domain %q is not a shop domain such as example.myshopify.com", i+1, s.Domain)
		case seen[s.Domain]:
			return nil, fmt.Errorf("shop %s is listed twice", s.Domain)
		case s.APIVersion != "" && !apiVersionRe.MatchString(s.APIVersion):
			return nil, fmt.Errorf("shop %s: api_version %q: want YYYY-MM or unstable", s.Domain, s.APIVersion)
		case s.Currency != "" && !currencyRe.MatchString(s.Currency):
			return nil, fmt.Errorf("shop %s: currency %q: want an ISO 4217 code such as EUR", s.Domain, s.Currency)
		}
		seen[s.Domain] = true
		for j, secret := range s.WebhookSecrets {
			if strings.TrimSpace(secret) == "" {
				return nil, fmt.Errorf("shop %s: webhook secret %d is empty", s.Domain, j+1)
			}
			s.WebhookSecrets[j] = strings.TrimSpace(secret)
		}
	}
	return shops, nil
}
