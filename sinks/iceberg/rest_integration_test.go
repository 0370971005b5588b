package icebergsink

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/testkit"
)

// The Iceberg REST catalog scripts/testenv starts (deploy/restcatalog: Apache Iceberg's
// RESTCatalogServer, a JdbcCatalog on SQLite behind it), with its warehouse on the test S3 server.
const (
	envRESTURI       = "STORELINE_TEST_REST_URI"
	envRESTWarehouse = "STORELINE_TEST_REST_WAREHOUSE"
)

// testREST returns the test REST catalog's URI and warehouse, skipping the test when there is none.
func testREST(t *testing.T) (uri, warehouse string) {
	t.Helper()
	if os.Getenv(envRESTURI) == "" {
		t.Skipf("%s is unset: no Iceberg REST catalog to test against (scripts/testenv up starts one; make test sources its env file)", envRESTURI)
	}
	if os.Getenv(envRESTWarehouse) == "" {
		t.Fatalf("%s is set but %s is empty: source the env file of scripts/testenv up", envRESTURI, envRESTWarehouse)
	}
	return os.Getenv(envRESTURI), os.Getenv(envRESTWarehouse)
}

// restReadBack reads a table through the REST catalog with PyIceberg (load_catalog type "rest",
// its FileIO given the s3.* properties), only the rows of one Kafka topic, and prints what it saw
// as JSON.
const restReadBack = `
import json, sys
from pyiceberg.catalog import load_catalog
from pyiceberg.expressions import EqualTo

uri, warehouse, ident, topic, key, endpoint, region, access, secret = sys.argv[1:10]
cat = load_catalog("rest", **{
    "type": "rest", "uri": uri, "warehouse": warehouse,
    "s3.endpoint": endpoint, "s3.region": region,
    "s3.access-key-id": access, "s3.secret-access-key": secret,
})
tbl = cat.load_table(ident)
arrow = tbl.scan(row_filter=EqualTo("_kafka_topic", topic)).to_arrow()
summaries = [s.summary.additional_properties.get(key) for s in tbl.snapshots() if s.summary is not None]
print(json.dumps({
    "location": tbl.location(),
    "metadata_location": tbl.metadata_location,
    "rows": arrow.num_rows,
    "event_ids": arrow.column("_event_id").to_pylist(),
    "positions": ["%d/%d" % p for p in zip(arrow.column("_kafka_partition").to_pylist(), arrow.column("_kafka_offset").to_pylist())],
    "marker_property": tbl.properties.get(key),
    "marker_snapshots": sum(1 for s in summaries if s is not None),
}))
`

// TestSinkThroughRESTCatalog runs the sink with CatalogType "rest" against a real Iceberg REST
// catalog (the test one of scripts/testenv, warehouse on the test S3 server): orders, a
// redelivery and a record that is not an event go in exactly once, the offsets marker is in
// the table (property and snapshot summaries), iceberg-go and PyIceberg read the same rows
// through the catalog, the files are objects in the bucket, and a second sink resumes from the
// marker, reading only the records produced since.
//
// The catalog is shared by every test run on the same testenv and the sink's namespaces are
// fixed (commerce), so the tables may hold other runs' rows: each run has its own topic (prefix)
// and consumer group, so it reads back only the rows of its topic, and its group's marker.
func TestSinkThroughRESTCatalog(t *testing.T) {
	uri, warehouse := testREST(t)
	s3cfg, bucket := testS3(t)
	e := newEnv(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	e.cfg.CatalogType = CatalogREST
	e.cfg.REST = RESTCatalog{URI: uri}
	e.cfg.Warehouse = warehouse
	e.cfg.S3 = s3cfg
	cat, err := OpenCatalog(ctx, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeCatalog(cat) })
	e.cat = cat

	all := e.produce(0, 20)
	garbage := e.produceGarbage()
	all = append(all, garbage...)
	all = append(all, e.produce(20, 30, 3)...) // order 3 redelivered at a later offset

	first := e.start("rest-first")
	rows := waitCaughtUpOnTopic(t, e)
	checkExactlyOnce(t, rows, all)
	if got, want := sumPrices(rows), wantSum(0, 30); got.Cmp(want) != 0 {
		t.Errorf("sum(total_price) = %s, want %s", got.FloatString(4), want.FloatString(4))
	}
	if got := first.counter(t, "storeline_sink_duplicates_dropped_total"); got != 1 {
		t.Errorf("duplicates dropped = %v, want 1", got)
	}
	checkDeadLetterOnTopic(t, e, "not avro", garbage[0])

	// The table lives in the REST catalog's s3:// warehouse; its current metadata file is an
	// object in the bucket; the marker is the table property and in snapshot summaries.
	tbl, err := e.cat.LoadTable(ctx, orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	wantLocation := warehouse + "/" + events.TopicCommerce + "/order_created"
	if tbl.Location() != wantLocation {
		t.Errorf("table location %s, want %s", tbl.Location(), wantLocation)
	}
	checkObject(ctx, t, s3cfg, bucket, tbl.MetadataLocation())
	checkMarker(t, e, tbl)
	first.stop(t)

	// While no sink runs: more orders, a redelivery of one the first run wrote and one of a
	// new order. A new sink resumes from the marker (the tables' state through the catalog).
	all = append(all, e.produce(30, 45, 7, 40)...)
	second := e.start("rest-second")
	rows = waitCaughtUpOnTopic(t, e)
	checkExactlyOnce(t, rows, all)
	if got, want := sumPrices(rows), wantSum(0, 45); got.Cmp(want) != 0 {
		t.Errorf("sum(total_price) = %s, want %s", got.FloatString(4), want.FloatString(4))
	}
	if got, want := second.counter(t, "storeline_sink_records_consumed_total"), 17.0; got != want {
		t.Errorf("second sink consumed %v records, want only the %v produced since the first stopped", got, want)
	}
	if got := second.counter(t, "storeline_sink_duplicates_dropped_total"); got != 2 {
		t.Errorf("second sink dropped %v duplicates, want 2", got)
	}
	if tbl, err = e.cat.LoadTable(ctx, orderCreated); err != nil {
		t.Fatal(err)
	}
	checkObject(ctx, t, s3cfg, bucket, tbl.MetadataLocation())
	checkMarker(t, e, tbl)
	second.stop(t)

	// PyIceberg reads the same rows and marker through the same REST catalog and S3 server.
	python := testkit.Python(t)
	out, err := exec.CommandContext(ctx, python, "-c", restReadBack, uri, warehouse, identString(orderCreated), e.topic,
		OffsetsProperty(e.cfg.Group), s3cfg.Endpoint, s3cfg.Region, s3cfg.AccessKeyID, s3cfg.SecretAccessKey).CombinedOutput()
	if err != nil {
		t.Fatalf("read back with pyiceberg: %v\n%s", err, out)
	}
	var py struct {
		Location         string   `json:"location"`
		MetadataLocation string   `json:"metadata_location"`
		Rows             int      `json:"rows"`
		EventIDs         []string `json:"event_ids"`
		Positions        []string `json:"positions"`
		MarkerProperty   string   `json:"marker_property"`
		MarkerSnapshots  int      `json:"marker_snapshots"`
	}
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("pyiceberg output %q: %v", out, err)
	}
	t.Logf("pyiceberg: %d rows of %s at %s, marker %s (in %d snapshot summaries)",
		py.Rows, e.topic, py.Location, py.MarkerProperty, py.MarkerSnapshots)
	var wantIDs, wantPos []string
	for _, r := range rows {
		wantIDs, wantPos = append(wantIDs, r.eventID), append(wantPos, fmt.Sprintf("%d/%d", r.partition, r.offset))
	}
	slices.Sort(wantIDs)
	slices.Sort(wantPos)
	slices.Sort(py.EventIDs)
	slices.Sort(py.Positions)
	if py.Location != wantLocation || py.MetadataLocation != tbl.MetadataLocation() {
		t.Errorf("pyiceberg: table at %s (metadata %s), want %s (%s)", py.Location, py.MetadataLocation, wantLocation, tbl.MetadataLocation())
	}
	if py.Rows != len(rows) || !slices.Equal(py.EventIDs, wantIDs) || !slices.Equal(py.Positions, wantPos) {
		t.Errorf("pyiceberg read %d rows, events %v at %v; iceberg-go read %d, %v at %v",
			py.Rows, py.EventIDs, py.Positions, len(rows), wantIDs, wantPos)
	}
	if want := e.endOffsets(ctx).Encode(); py.MarkerProperty != want || py.MarkerSnapshots == 0 {
		t.Errorf("pyiceberg: marker property %q in %d snapshot summaries, want %q in at least one", py.MarkerProperty, py.MarkerSnapshots, want)
	}
}

// topicFilter keeps the rows of e's own topic (the REST catalog's tables are shared by runs).
func topicFilter(e *env) table.ScanOption {
	return table.WithRowFilter(iceberg.EqualTo(iceberg.Reference(colKafkaTopic), e.topic))
}

// scanTopic reads the rows of e's topic in commerce.order_created with iceberg-go, and the
// group's offsets marker.
func scanTopic(ctx context.Context, e *env) ([]tableRow, Offsets, error) {
	tbl, err := e.cat.LoadTable(ctx, orderCreated)
	if err != nil {
		return nil, nil, err
	}
	at, err := tbl.Scan(topicFilter(e)).ToArrowTable(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("scan: %w", err)
	}
	defer at.Release()
	var rows []tableRow
	rdr := array.NewTableReader(at, 1024)
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		ids, parts, offs := column(rec, "_event_id").(*array.String), column(rec, colKafkaPartition).(*array.Int32), column(rec, colKafkaOffset).(*array.Int64)
		topics, prices := column(rec, colKafkaTopic).(*array.String), column(rec, "order", "total_price", "amount").(*array.Decimal128)
		for i := 0; i < int(rec.NumRows()); i++ {
			if topics.Value(i) != e.topic {
				return nil, nil, fmt.Errorf("the scan filtered on %s returned a row of %s", e.topic, topics.Value(i))
			}
			rows = append(rows, tableRow{
				eventID: ids.Value(i), partition: parts.Value(i), offset: offs.Value(i),
				totalPrice: new(big.Rat).SetFrac(prices.Value(i).BigInt(), big.NewInt(10000)),
			})
		}
	}
	offsets, err := CommittedOffsets(tbl.Metadata(), e.cfg.Group)
	return rows, offsets, err
}

// waitCaughtUpOnTopic waits until the group's marker in commerce.order_created reaches the end of
// e's topic, and returns the rows of that topic.
func waitCaughtUpOnTopic(t *testing.T, e *env) []tableRow {
	t.Helper()
	ctx := context.Background()
	want := e.endOffsets(ctx)
	var rows []tableRow
	testkit.WaitFor(t, 90*time.Second, "the table's offsets to reach the end of the topic", func() error {
		var offs Offsets
		var err error
		rows, offs, err = scanTopic(ctx, e)
		if err != nil {
			return err
		}
		if offs.Encode() != want.Encode() {
			return fmt.Errorf("offsets marker %s, topic ends at %s", offs.Encode(), want.Encode())
		}
		return nil
	})
	return rows
}

// checkMarker checks the group's offsets marker of tbl: the table property is the end of e's
// topic, and a snapshot the sink committed carries the marker in its summary.
func checkMarker(t *testing.T, e *env, tbl *table.Table) {
	t.Helper()
	key := OffsetsProperty(e.cfg.Group)
	want := e.endOffsets(context.Background()).Encode()
	if got := tbl.Properties()[key]; got != want {
		t.Errorf("table property %s = %q, want %q", key, got, want)
	}
	var inSummary int
	for _, s := range tbl.Metadata().Snapshots() {
		if s.Summary != nil && s.Summary.Properties[key] != "" {
			inSummary++
		}
	}
	if inSummary == 0 {
		t.Errorf("no snapshot summary has %s", key)
	}
}

// checkDeadLetterOnTopic checks the one dead letter of e's topic in commerce._dead_letters:
// value, undecodable, at its position.
func checkDeadLetterOnTopic(t *testing.T, e *env, value string, at produced) {
	t.Helper()
	tbl, err := e.cat.LoadTable(context.Background(), DeadLetterIdent(events.TopicCommerce))
	if err != nil {
		t.Fatal(err)
	}
	arrowTbl, err := tbl.Scan(topicFilter(e)).ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer arrowTbl.Release()
	rdr := array.NewTableReader(arrowTbl, 1024)
	defer rdr.Release()
	var got []string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		vals, reasons := column(rec, colDeadValue).(*array.Binary), column(rec, colDeadReason).(*array.String)
		parts, offs := column(rec, colKafkaPartition).(*array.Int32), column(rec, colKafkaOffset).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			got = append(got, fmt.Sprintf("%s %s %d/%d", vals.Value(i), reasons.Value(i), parts.Value(i), offs.Value(i)))
		}
	}
	want := fmt.Sprintf("%s %s %d/%d", value, deadletter.ReasonUndecodable, at.partition, at.offset)
	if len(got) != 1 || got[0] != want {
		t.Errorf("dead letters of %s: %q, want [%q]", e.topic, got, want)
	}
}

// checkObject checks that location (s3://bucket/key) is a non-empty object on the test S3 server.
func checkObject(ctx context.Context, t *testing.T, s3cfg S3Storage, bucket, location string) {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host != bucket {
		t.Errorf("%s is not in s3://%s/", location, bucket)
		return
	}
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(s3cfg.Endpoint),
		Region:       s3cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s3cfg.AccessKeyID, s3cfg.SecretAccessKey, ""),
		UsePathStyle: true,
	})
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(strings.TrimPrefix(u.Path, "/"))})
	if err != nil {
		t.Errorf("head %s: %v", location, err)
	} else if aws.ToInt64(head.ContentLength) == 0 {
		t.Errorf("%s is empty", location)
	}
}
