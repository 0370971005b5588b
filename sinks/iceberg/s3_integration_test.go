package icebergsink

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/storeline/storeline/testkit"
)

// The S3-compatible server scripts/testenv starts (the Versity S3 Gateway on loopback).
const (
	envS3Endpoint  = "STORELINE_TEST_S3_ENDPOINT"
	envS3Bucket    = "STORELINE_TEST_S3_BUCKET"
	envS3AccessKey = "STORELINE_TEST_S3_ACCESS_KEY"
	envS3SecretKey = "STORELINE_TEST_S3_SECRET_KEY"
	envS3Region    = "STORELINE_TEST_S3_REGION"
)

// testS3 returns the test S3 server's settings and bucket, skipping the test when there is none.
func testS3(t *testing.T) (S3Storage, string) {
	t.Helper()
	if os.Getenv(envS3Endpoint) == "" {
		t.Skipf("%s is unset: no S3-compatible server to test against (scripts/testenv up starts one; make test sources its env file)", envS3Endpoint)
	}
	for _, v := range []string{envS3Bucket, envS3AccessKey, envS3SecretKey} {
		if os.Getenv(v) == "" {
			t.Fatalf("%s is set but %s is empty: source the env file of scripts/testenv up", envS3Endpoint, v)
		}
	}
	return S3Storage{
		Endpoint:        os.Getenv(envS3Endpoint),
		Region:          os.Getenv(envS3Region),
		AccessKeyID:     os.Getenv(envS3AccessKey),
		SecretAccessKey: os.Getenv(envS3SecretKey),
	}, os.Getenv(envS3Bucket)
}

// s3ReadBack reads the table with PyIceberg's SqlCatalog, its FileIO (PyArrow's S3 filesystem)
// given the same s3.* properties, and prints what it saw as JSON.
const s3ReadBack = `
import json, sys
from pyiceberg.catalog.sql import SqlCatalog

name, uri, warehouse, ident, endpoint, region, key, secret = sys.argv[1:9]
cat = SqlCatalog(name, uri=uri, warehouse=warehouse, **{
    "s3.endpoint": endpoint, "s3.region": region,
    "s3.access-key-id": key, "s3.secret-access-key": secret,
})
tbl = cat.load_table(ident)
arrow = tbl.scan().to_arrow()
print(json.dumps({
    "location": tbl.location(),
    "io": type(tbl.io).__name__,
    "rows": arrow.num_rows,
    "ids": sorted(arrow.column("id").to_pylist()),
    "names": sorted(arrow.column("name").to_pylist()),
}))
`

// TestS3Warehouse writes a table through the SQL catalog (PostgreSQL) into an s3:// warehouse on
// a real S3-compatible server, reads it back with an iceberg-go scan and with PyIceberg, and
// lists the bucket with aws-sdk-go-v2 to show the files are objects there, not local files.
func TestS3Warehouse(t *testing.T) {
	s3cfg, bucket := testS3(t)
	dbURL := testkit.FreshDatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	prefix := testkit.Unique("s3test-")
	cfg := Config{
		Warehouse:  "s3://" + bucket + "/" + prefix,
		CatalogURL: dbURL,
		S3:         s3cfg, // PathStyle unset: iceberg-go's default with an endpoint is path-style
	}
	cat, err := OpenCatalog(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeCatalog(cat) })

	ident := table.Identifier{"s3check", "events"}
	if err := cat.CreateNamespace(ctx, ident[:1], nil); err != nil {
		t.Fatal(err)
	}
	schema := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "at", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
	)
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{3}, FieldID: 1000, Name: "at_day", Transform: iceberg.DayTransform{}})
	tbl, err := cat.CreateTable(ctx, ident, schema, catalog.WithPartitionSpec(&spec),
		catalog.WithProperties(iceberg.Properties{"format-version": "2", "write.parquet.compression-codec": "zstd"}))
	if err != nil {
		t.Fatal(err)
	}
	wantLocation := "s3://" + bucket + "/" + prefix + "/s3check.db/events"
	if tbl.Location() != wantLocation {
		t.Fatalf("table location %s, want %s", tbl.Location(), wantLocation)
	}

	// Two appends (two snapshots), rows over three days (three partitions).
	wantIDs := []int64{}
	for batch := range 2 {
		ids, names, ats := []int64{}, []string{}, []arrow.Timestamp{}
		for i := range 5 {
			id := int64(batch*5 + i)
			ids, names = append(ids, id), append(names, "row-"+string(rune('a'+id)))
			ats = append(ats, arrow.Timestamp(time.Date(2026, 3, 1+int(id)%3, 12, 0, 0, 0, time.UTC).UnixMicro()))
			wantIDs = append(wantIDs, id)
		}
		arrowTbl := arrowTable(t, schema, ids, names, ats)
		txn := tbl.NewTransaction()
		if err := txn.AppendTable(ctx, arrowTbl, 1024, nil); err != nil {
			t.Fatalf("append batch %d: %v", batch, err)
		}
		if tbl, err = txn.Commit(ctx); err != nil {
			t.Fatalf("commit batch %d: %v", batch, err)
		}
		arrowTbl.Release()
	}

	// Read back with a fresh catalog (nothing cached): an iceberg-go scan over S3.
	cat2, err := OpenCatalog(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeCatalog(cat2) })
	tbl, err = cat2.LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tbl.MetadataLocation(), wantLocation+"/metadata/") {
		t.Errorf("metadata at %s, want under %s/metadata/", tbl.MetadataLocation(), wantLocation)
	}
	got, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	gotIDs := int64Column(t, got, "id")
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("scanned ids %v, want %v", gotIDs, wantIDs)
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The bucket holds the metadata, manifests and data files, listed with aws-sdk-go-v2.
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(s3cfg.Endpoint),
		Region:       s3cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s3cfg.AccessKeyID, s3cfg.SecretAccessKey, ""),
		UsePathStyle: true,
	})
	objects := map[string]int64{}
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("list s3://%s/%s/: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			objects["s3://"+bucket+"/"+aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	var metadata, manifests, data int
	for key, size := range objects {
		switch {
		case size == 0:
			t.Errorf("empty object %s", key)
		case strings.HasSuffix(key, ".metadata.json"):
			metadata++
		case strings.HasSuffix(key, ".avro"):
			manifests++
		case strings.HasSuffix(key, ".parquet"):
			data++
		}
	}
	t.Logf("%d objects under s3://%s/%s/: %d metadata files, %d manifests and manifest lists, %d data files",
		len(objects), bucket, prefix, metadata, manifests, data)
	if metadata != 3 { // create, then one per append
		t.Errorf("%d metadata files in the bucket, want 3", metadata)
	}
	if manifests < 4 { // a manifest list and at least one manifest per snapshot
		t.Errorf("%d manifests in the bucket, want at least 4", manifests)
	}
	if _, ok := objects[tbl.MetadataLocation()]; !ok {
		t.Errorf("current metadata %s is not in the bucket", tbl.MetadataLocation())
	}
	if len(tasks) != 6 || data != 6 { // 2 appends × 3 days
		t.Errorf("%d files planned, %d data files in the bucket, want 6", len(tasks), data)
	}
	for _, task := range tasks {
		if _, ok := objects[task.File.FilePath()]; !ok {
			t.Errorf("data file %s is not in the bucket", task.File.FilePath())
		}
	}

	// PyIceberg reads the same table through the same catalog database and S3 server.
	python := testkit.Python(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "postgresql+psycopg2"
	q := u.Query()
	q.Del("sslmode")
	u.RawQuery = q.Encode()
	out, err := exec.CommandContext(ctx, python, "-c", s3ReadBack, DefaultCatalogName, u.String(), cfg.Warehouse,
		strings.Join(ident, "."), s3cfg.Endpoint, s3cfg.Region, s3cfg.AccessKeyID, s3cfg.SecretAccessKey).CombinedOutput()
	if err != nil {
		t.Fatalf("read back with pyiceberg: %v\n%s", err, out)
	}
	var py struct {
		Location string   `json:"location"`
		IO       string   `json:"io"`
		Rows     int      `json:"rows"`
		IDs      []int64  `json:"ids"`
		Names    []string `json:"names"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("pyiceberg output %q: %v", out, err)
	}
	t.Logf("pyiceberg: %+v", py)
	if py.Location != wantLocation || py.Rows != len(wantIDs) || !slices.Equal(py.IDs, wantIDs) {
		t.Errorf("pyiceberg read location %s, %d rows, ids %v; want %s, %d rows, ids %v",
			py.Location, py.Rows, py.IDs, wantLocation, len(wantIDs), wantIDs)
	}
}

// arrowTable builds an Arrow table of the test schema (id, name, at).
func arrowTable(t *testing.T, schema *iceberg.Schema, ids []int64, names []string, ats []arrow.Timestamp) arrow.Table {
	t.Helper()
	sc, err := table.SchemaToArrowSchema(schema, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	b.Field(1).(*array.StringBuilder).AppendValues(names, nil)
	b.Field(2).(*array.TimestampBuilder).AppendValues(ats, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	return array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
}

// int64Column returns the values of an int64 column of tbl.
func int64Column(t *testing.T, tbl arrow.Table, name string) []int64 {
	t.Helper()
	idx := tbl.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %s in %s", name, tbl.Schema())
	}
	var out []int64
	for _, chunk := range tbl.Column(idx[0]).Data().Chunks() {
		out = append(out, chunk.(*array.Int64).Int64Values()...)
	}
	return out
}
