package icebergsink

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	_ "github.com/apache/iceberg-go/catalog/rest" // registers catalog type "rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // FileIO for s3://, s3a://, s3n:// (aws-sdk-go-v2); links no other cloud's SDK
)

// Catalog types of Config.CatalogType.
const (
	// CatalogSQL is iceberg-go's SQL catalog on PostgreSQL (Config.CatalogURL): the default.
	CatalogSQL = "sql"
	// CatalogREST is an Iceberg REST catalog (Config.REST.URI): R2 Data Catalog, Polaris,
	// Lakekeeper, Glue's or S3 Tables' REST endpoints.
	CatalogREST = "rest"
)

// S3Storage configures the S3 FileIO, used when the warehouse (or a table's location) is an
// s3:// URI: AWS S3, Cloudflare R2, MinIO, the Versity S3 Gateway or any other S3 API. Empty
// fields are left to iceberg-go and the AWS SDK: no keys means the SDK's default credential chain
// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws, an instance or pod role); no region means
// AWS_REGION or the shared config. A REST catalog may vend credentials of its own, which win.
type S3Storage struct {
	// Endpoint is the S3 API's base URL for a store other than AWS S3, e.g.
	// https://<account-id>.r2.cloudflarestorage.com or http://127.0.0.1:7070. Empty: AWS S3
	// (or the AWS_S3_ENDPOINT environment variable, which iceberg-go reads).
	Endpoint string
	// Region is the signing region; R2 takes "auto".
	Region string
	// AccessKeyID and SecretAccessKey are static credentials; set both or neither.
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken goes with temporary credentials (STS). Optional.
	SessionToken string
	// PathStyle forces path-style (true: https://endpoint/bucket/key) or virtual-hosted style
	// (false: https://bucket.endpoint/key) addressing. Nil: iceberg-go's default, path-style
	// when Endpoint is set and virtual-hosted style otherwise.
	PathStyle *bool
	// CompatMode sends checksums only where the S3 API requires them and strips the
	// x-amz-checksum-* headers of the newer SDKs, for stores that reject them.
	CompatMode bool
}

// String describes the settings without the secret key and session token, so an S3Storage
// logged by mistake leaks nothing.
func (s S3Storage) String() string {
	style := "default"
	if s.PathStyle != nil {
		style = map[bool]string{true: "path", false: "virtual-hosted"}[*s.PathStyle]
	}
	return fmt.Sprintf("s3 endpoint %q, region %q, access key id %q, secret key set: %t, session token set: %t, addressing %s, compat mode %t",
		s.Endpoint, s.Region, s.AccessKeyID, s.SecretAccessKey != "", s.SessionToken != "", style, s.CompatMode)
}

// GoString is String, for %#v.
func (s S3Storage) GoString() string { return s.String() }

// properties are the s3.* FileIO properties of s (iceberg-go v0.7.0 io/config.go, the same keys
// as PyIceberg's and Java's S3FileIO).
func (s S3Storage) properties() (iceberg.Properties, error) {
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		return nil, errors.New("s3: set both the access key id and the secret access key, or neither")
	}
	if s.SessionToken != "" && s.AccessKeyID == "" {
		return nil, errors.New("s3: a session token needs the access key id and secret access key it belongs to")
	}
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3: endpoint %q: want an http:// or https:// URL", s.Endpoint)
		}
	}
	p := iceberg.Properties{}
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set(iceio.S3EndpointURL, s.Endpoint)
	set(iceio.S3Region, s.Region)
	set(iceio.S3AccessKeyID, s.AccessKeyID)
	set(iceio.S3SecretAccessKey, s.SecretAccessKey)
	set(iceio.S3SessionToken, s.SessionToken)
	if s.PathStyle != nil {
		// iceberg-go has no path-style key: path-style is its default with an endpoint, and
		// s3.force-virtual-addressing overrides the default either way.
		p[iceio.S3ForceVirtualAddressing] = strconv.FormatBool(!*s.PathStyle)
	}
	if s.CompatMode {
		p[iceio.S3CompatMode] = "true"
	}
	return p, nil
}

// RESTCatalog configures an Iceberg REST catalog (Config.CatalogType "rest"). The warehouse the
// server is asked for is Config.Warehouse, passed as is: R2 Data Catalog's
// "<account-id>_<bucket>", Polaris' catalog name, Lakekeeper's warehouse name, or an s3:// URI
// for servers that take one.
type RESTCatalog struct {
	// URI is the catalog's base URL, e.g.
	// https://catalog.cloudflarestorage.com/<account-id>/<bucket> (R2 Data Catalog),
	// http://polaris:8181/api/catalog, http://lakekeeper:8181/catalog.
	URI string
	// Token is a bearer token sent as is (R2 Data Catalog: an API token with R2 Data Catalog
	// and storage permissions).
	Token string
	// Credential is an OAuth2 client credential "client_id:client_secret", exchanged for a
	// token at OAuth2ServerURI (Polaris, Lakekeeper with an identity provider).
	Credential string
	// OAuth2ServerURI is the token endpoint for Credential. Empty: the catalog's deprecated
	// <URI>/v1/oauth/tokens.
	OAuth2ServerURI string
	// Scope is the OAuth2 scope requested with Credential. Empty: "catalog" (Polaris wants
	// PRINCIPAL_ROLE:ALL).
	Scope string
	// SigV4Region turns on AWS SigV4 request signing with credentials from the AWS SDK's
	// default chain (Glue's and S3 Tables' REST endpoints), in this region.
	SigV4Region string
	// SigV4Service is the signing name with SigV4: "glue", "s3tables"; empty: "execute-api".
	SigV4Service string
}

// String describes the settings without the token and the client secret.
func (r RESTCatalog) String() string {
	clientID, _, _ := strings.Cut(r.Credential, ":")
	return fmt.Sprintf("rest catalog %q, token set: %t, oauth2 client id %q, oauth2 server %q, scope %q, sigv4 region %q, sigv4 service %q",
		r.URI, r.Token != "", clientID, r.OAuth2ServerURI, r.Scope, r.SigV4Region, r.SigV4Service)
}

// GoString is String, for %#v.
func (r RESTCatalog) GoString() string { return r.String() }

// properties are the REST catalog properties of r (iceberg-go v0.7.0 catalog/rest, the same
// keys as PyIceberg's and Java's RESTCatalog).
func (r RESTCatalog) properties() (iceberg.Properties, error) {
	u, err := url.Parse(r.URI)
	if r.URI == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("rest catalog: uri %q: want the catalog's http:// or https:// URL", r.URI)
	}
	if r.Credential != "" && !strings.Contains(r.Credential, ":") {
		return nil, errors.New("rest catalog: credential: want client_id:client_secret")
	}
	if r.SigV4Service != "" && r.SigV4Region == "" {
		return nil, errors.New("rest catalog: a sigv4 signing name needs the sigv4 region")
	}
	p := iceberg.Properties{"type": CatalogREST, "uri": strings.TrimSuffix(r.URI, "/")}
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set("token", r.Token)
	set("credential", r.Credential)
	set("oauth2-server-uri", r.OAuth2ServerURI)
	set("scope", r.Scope)
	if r.SigV4Region != "" {
		p["rest.sigv4-enabled"] = "true"
		p["rest.signing-region"] = r.SigV4Region
		// Through properties iceberg-go v0.7.0 leaves the signing name empty when none is
		// given (only its WithSigV4 option defaults it), which no AWS service accepts.
		p["rest.signing-name"] = "execute-api"
		set("rest.signing-name", r.SigV4Service)
	}
	return p, nil
}

// catalogType is cfg's catalog type, "sql" when unset.
func (c Config) catalogType() (string, error) {
	switch t := strings.ToLower(strings.TrimSpace(c.CatalogType)); t {
	case "", CatalogSQL:
		return CatalogSQL, nil
	case CatalogREST:
		return CatalogREST, nil
	default:
		return "", fmt.Errorf("catalog type %q: want sql or rest", c.CatalogType)
	}
}

// CatalogProperties maps cfg to the properties catalog.Load takes: the catalog's own (sql: the
// PostgreSQL URL, pgx driver, JDBC schema V1; rest: URI and authentication), the warehouse, and
// the S3 FileIO's s3.* keys, over cfg.CatalogProps (the typed fields win where both are set).
// The result holds secrets: never log it.
func (c Config) CatalogProperties() (iceberg.Properties, error) {
	typ, err := c.catalogType()
	if err != nil {
		return nil, err
	}
	s3, err := c.S3.properties()
	if err != nil {
		return nil, err
	}
	props := iceberg.Properties{}
	maps.Copy(props, c.CatalogProps)
	maps.Copy(props, s3)
	switch typ {
	case CatalogREST:
		rest, err := c.REST.properties()
		if err != nil {
			return nil, err
		}
		maps.Copy(props, rest)
		if c.Warehouse != "" {
			props["warehouse"] = c.Warehouse // the server's name for it, passed as is
		}
	default:
		if c.CatalogURL == "" {
			return nil, errors.New("sql catalog: no catalog database URL")
		}
		wh, err := WarehouseURI(c.Warehouse)
		if err != nil {
			return nil, err
		}
		maps.Copy(props, iceberg.Properties{
			"type":                  CatalogSQL,
			"uri":                   c.CatalogURL,
			"warehouse":             wh,
			sqlcat.DriverKey:        "pgx",
			sqlcat.DialectKey:       string(sqlcat.Postgres),
			sqlcat.SchemaVersionKey: sqlcat.SchemaVersionV1,
			"init_catalog_tables":   "true",
		})
	}
	return props, nil
}
