package icebergsink

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	iceio "github.com/apache/iceberg-go/io"
)

func TestCatalogPropertiesSQLWithS3(t *testing.T) {
	pathStyle := true
	cfg := Config{
		Warehouse:    "s3://lake/prefix/",
		CatalogURL:   "postgres://u:pw@db:5432/storeline",
		CatalogProps: iceberg.Properties{"s3.region": "overridden", "write.format.default": "parquet"},
		S3: S3Storage{
			Endpoint:        "https://acct.r2.cloudflarestorage.com",
			Region:          "auto",
			AccessKeyID:     "AKID",
			SecretAccessKey: "SECRET",
			SessionToken:    "TOKEN",
			PathStyle:       &pathStyle,
			CompatMode:      true,
		},
	}
	got, err := cfg.CatalogProperties()
	if err != nil {
		t.Fatal(err)
	}
	want := iceberg.Properties{
		"type":                        "sql",
		"uri":                         "postgres://u:pw@db:5432/storeline",
		"warehouse":                   "s3://lake/prefix",
		"sql.driver":                  "pgx",
		"sql.dialect":                 "postgres",
		"jdbc.schema-version":         "V1",
		"init_catalog_tables":         "true",
		"write.format.default":        "parquet",
		"s3.endpoint":                 "https://acct.r2.cloudflarestorage.com",
		"s3.region":                   "auto",
		"s3.access-key-id":            "AKID",
		"s3.secret-access-key":        "SECRET",
		"s3.session-token":            "TOKEN",
		"s3.force-virtual-addressing": "false",
		"s3.compat-mode":              "true",
	}
	if !maps.Equal(got, want) {
		t.Errorf("properties\n got %v\nwant %v", got, want)
	}
	// The literal keys above are the ones iceberg-go v0.7.0 reads.
	for _, k := range []string{iceio.S3EndpointURL, iceio.S3Region, iceio.S3AccessKeyID, iceio.S3SecretAccessKey,
		iceio.S3SessionToken, iceio.S3ForceVirtualAddressing, iceio.S3CompatMode} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}

func TestCatalogPropertiesDefaults(t *testing.T) {
	dir := t.TempDir()
	got, err := Config{Warehouse: dir, CatalogURL: "postgres://db/x"}.CatalogProperties()
	if err != nil {
		t.Fatal(err)
	}
	if got["type"] != "sql" || got["warehouse"] != "file://"+dir {
		t.Errorf("type %q warehouse %q, want sql and file://%s", got["type"], got["warehouse"], dir)
	}
	for k := range got {
		if strings.HasPrefix(k, "s3.") {
			t.Errorf("unexpected %s with no S3 settings", k)
		}
	}
	// Virtual-hosted style forced (AWS S3 with a custom endpoint that supports it).
	virtual := false
	got, err = Config{Warehouse: "s3://b", CatalogURL: "postgres://db/x", S3: S3Storage{PathStyle: &virtual}}.CatalogProperties()
	if err != nil {
		t.Fatal(err)
	}
	if got["s3.force-virtual-addressing"] != "true" {
		t.Errorf("s3.force-virtual-addressing %q, want true", got["s3.force-virtual-addressing"])
	}
}

func TestCatalogPropertiesREST(t *testing.T) {
	cfg := Config{
		CatalogType:  "REST",
		Warehouse:    "0123abcd_lake",
		CatalogURL:   "postgres://ignored",
		CatalogProps: iceberg.Properties{"header.X-Custom": "1"},
		REST: RESTCatalog{
			URI:   "https://catalog.cloudflarestorage.com/0123abcd/lake/",
			Token: "r2-token",
		},
		S3: S3Storage{Region: "auto"},
	}
	got, err := cfg.CatalogProperties()
	if err != nil {
		t.Fatal(err)
	}
	want := iceberg.Properties{
		"type":            "rest",
		"uri":             "https://catalog.cloudflarestorage.com/0123abcd/lake",
		"warehouse":       "0123abcd_lake",
		"token":           "r2-token",
		"s3.region":       "auto",
		"header.X-Custom": "1",
	}
	if !maps.Equal(got, want) {
		t.Errorf("properties\n got %v\nwant %v", got, want)
	}

	cfg.REST = RESTCatalog{URI: "http://polaris:8181/api/catalog", Credential: "client:secret",
		OAuth2ServerURI: "http://polaris:8181/api/catalog/v1/oauth/tokens", Scope: "PRINCIPAL_ROLE:ALL"}
	if got, err = cfg.CatalogProperties(); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"credential": "client:secret", "scope": "PRINCIPAL_ROLE:ALL",
		"oauth2-server-uri": "http://polaris:8181/api/catalog/v1/oauth/tokens"} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["token"]; ok {
		t.Error("token set without a token")
	}

	cfg.REST = RESTCatalog{URI: "https://glue.us-east-1.amazonaws.com/iceberg", SigV4Region: "us-east-1", SigV4Service: "glue"}
	if got, err = cfg.CatalogProperties(); err != nil {
		t.Fatal(err)
	}
	if got["rest.sigv4-enabled"] != "true" || got["rest.signing-region"] != "us-east-1" || got["rest.signing-name"] != "glue" {
		t.Errorf("sigv4 properties: %v", got)
	}
	cfg.REST.SigV4Service = ""
	if got, _ = cfg.CatalogProperties(); got["rest.signing-name"] != "execute-api" {
		t.Errorf("default signing name %q, want execute-api", got["rest.signing-name"])
	}
}

func TestCatalogPropertiesRefusesBadSettings(t *testing.T) {
	for name, cfg := range map[string]Config{
		"unknown type":          {CatalogType: "glue", Warehouse: "w", CatalogURL: "postgres://x"},
		"sql without database":  {Warehouse: "w"},
		"sql without warehouse": {CatalogURL: "postgres://x"},
		"rest without uri":      {CatalogType: "rest", Warehouse: "w"},
		"rest uri not http":     {CatalogType: "rest", REST: RESTCatalog{URI: "catalog.example.com"}},
		"credential no colon":   {CatalogType: "rest", REST: RESTCatalog{URI: "http://c", Credential: "secretonly"}},
		"signing name alone":    {CatalogType: "rest", REST: RESTCatalog{URI: "http://c", SigV4Service: "glue"}},
		"key id alone":          {Warehouse: "w", CatalogURL: "postgres://x", S3: S3Storage{AccessKeyID: "a"}},
		"secret alone":          {Warehouse: "w", CatalogURL: "postgres://x", S3: S3Storage{SecretAccessKey: "s"}},
		"token alone":           {Warehouse: "w", CatalogURL: "postgres://x", S3: S3Storage{SessionToken: "t"}},
		"endpoint no scheme":    {Warehouse: "w", CatalogURL: "postgres://x", S3: S3Storage{Endpoint: "127.0.0.1:9000"}},
	} {
		if _, err := cfg.CatalogProperties(); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error shows a secret: %v", name, err)
		}
	}
}

func TestStorageSettingsPrintNoSecrets(t *testing.T) {
	s3 := S3Storage{Endpoint: "http://e", AccessKeyID: "AKID", SecretAccessKey: "SECRETKEY", SessionToken: "SESSIONTOKEN"}
	rest := RESTCatalog{URI: "http://c", Token: "BEARERTOKEN", Credential: "client:CLIENTSECRET"}
	cfg := Config{S3: s3, REST: rest}
	for _, out := range []string{fmt.Sprint(s3), fmt.Sprintf("%+v", s3), fmt.Sprintf("%#v", s3),
		fmt.Sprint(rest), fmt.Sprintf("%#v", rest), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg)} {
		for _, secret := range []string{"SECRETKEY", "SESSIONTOKEN", "BEARERTOKEN", "CLIENTSECRET"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows %s", out, secret)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(s3), "AKID") || !strings.Contains(fmt.Sprint(rest), "client") {
		t.Errorf("ids should still show: %s / %s", s3, rest)
	}
}

// The blank imports register what OpenCatalog needs: the s3 FileIO schemes and the rest catalog.
func TestS3FileIOAndRESTCatalogRegistered(t *testing.T) {
	schemes := iceio.GetRegisteredSchemes()
	for _, want := range []string{"s3", "s3a", "file"} {
		found := false
		for _, s := range schemes {
			found = found || s == want
		}
		if !found {
			t.Errorf("FileIO scheme %s not registered (have %v)", want, schemes)
		}
	}
	found := false
	for _, name := range catalog.GetRegisteredCatalogs() {
		found = found || name == "rest"
	}
	if !found {
		t.Errorf("catalog type rest not registered (have %v)", catalog.GetRegisteredCatalogs())
	}
	// A rest catalog at an address that does not answer fails on open, not at configuration.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenCatalog(ctx, Config{CatalogType: "rest", REST: RESTCatalog{URI: "http://127.0.0.1:1"}}); err == nil {
		t.Error("OpenCatalog of an unreachable rest catalog: no error")
	}
}
