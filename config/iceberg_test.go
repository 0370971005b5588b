package config

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args ...string) (*Config, *pflag.FlagSet, error) {
	t.Helper()
	fs := pflag.NewFlagSet("storeline", pflag.ContinueOnError)
	Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs)
	return c, fs, err
}

func TestIcebergDefaults(t *testing.T) {
	c, _, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.IcebergCatalogType != "sql" || c.S3PathStyle != nil || c.S3CompatMode || c.S3Endpoint != "" {
		t.Errorf("defaults: type %q path-style %v compat %t endpoint %q", c.IcebergCatalogType, c.S3PathStyle, c.S3CompatMode, c.S3Endpoint)
	}
}

func TestIcebergRESTAndS3FromEnvironment(t *testing.T) {
	t.Setenv("STORELINE_ICEBERG_CATALOG_TYPE", "rest")
	t.Setenv("STORELINE_ICEBERG_CATALOG_URI", "https://catalog.cloudflarestorage.com/acct/lake")
	t.Setenv("STORELINE_ICEBERG_CATALOG_TOKEN", "TOKEN-VALUE")
	t.Setenv("STORELINE_S3_ENDPOINT", "https://acct.r2.cloudflarestorage.com")
	t.Setenv("STORELINE_S3_REGION", "auto")
	t.Setenv("STORELINE_S3_ACCESS_KEY_ID", "AKID")
	t.Setenv("STORELINE_S3_SECRET_ACCESS_KEY", "SECRET-VALUE")
	t.Setenv("STORELINE_S3_PATH_STYLE", "true")
	c, fs, err := load(t)
	if err != nil {
		t.Fatal(err)
	}
	if c.IcebergCatalogType != "rest" || c.IcebergCatalogURI != "https://catalog.cloudflarestorage.com/acct/lake" ||
		c.IcebergCatalogToken != "TOKEN-VALUE" || c.S3SecretAccessKey != "SECRET-VALUE" || c.S3AccessKeyID != "AKID" ||
		c.S3Region != "auto" || c.S3PathStyle == nil || !*c.S3PathStyle {
		t.Errorf("loaded %+v", c)
	}
	// --help shows the environment's values as defaults, except secrets'.
	usage := fs.FlagUsages()
	for _, secret := range []string{"TOKEN-VALUE", "SECRET-VALUE"} {
		if strings.Contains(usage, secret) {
			t.Errorf("--help shows %s", secret)
		}
	}
	if !strings.Contains(usage, "AKID") {
		t.Error("--help should show non-secret values from the environment")
	}
	// A flag given on the command line beats the environment, secrets included.
	c, _, err = load(t, "--s3-secret-access-key", "FROM-FLAG")
	if err != nil {
		t.Fatal(err)
	}
	if c.S3SecretAccessKey != "FROM-FLAG" {
		t.Errorf("secret %q, want FROM-FLAG", c.S3SecretAccessKey)
	}
}

func TestIcebergRefusesBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"--iceberg-catalog-type", "glue"},
		{"--iceberg-catalog-type", "rest"}, // no uri
		{"--iceberg-catalog-type", "rest", "--iceberg-catalog-uri", "http://c", "--iceberg-catalog-credential", "SECRETONLY"},
		{"--s3-access-key-id", "a"},
		{"--s3-secret-access-key", "SECRETONLY"},
		{"--s3-session-token", "SECRETONLY"},
		{"--s3-path-style", "maybe"},
		{"--s3-compat-mode", "yes please"},
	} {
		_, _, err := load(t, args...)
		if err == nil {
			t.Errorf("%v: no error", args)
		} else if strings.Contains(err.Error(), "SECRETONLY") {
			t.Errorf("%v: error shows the secret: %v", args, err)
		}
	}
}
