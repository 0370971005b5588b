package icebergsink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/testkit"
)

// TestEveryTableReadsTheSameInEveryEngine produces events of every type of every topic (some
// twice, and a record that is not an event on each topic), runs the sink over the three topics,
// and checks that every table PyIceberg and DuckDB read holds what the topics hold: per table
// the same rows and the same sum of _kafka_offset, as counted from the topics by an independent
// reader (testdata/everytable.py, with confluent-kafka).
//
// It runs on a local warehouse, and on an s3:// one on the test S3 server (scripts/testenv).
func TestEveryTableReadsTheSameInEveryEngine(t *testing.T) {
	t.Run("local", func(t *testing.T) { everyTable(t, false) })
	t.Run("s3", func(t *testing.T) { everyTable(t, true) })
}

func everyTable(t *testing.T, onS3 bool) {
	topics := DefaultTopics()
	e := newEnvTopics(t, 2, topics...)
	python := testkit.Python(t)
	var props []string // PyIceberg's (and DuckDB's) s3 properties, as JSON
	if onS3 {
		s3cfg, bucket := testS3(t)
		e.cfg.Warehouse, e.cfg.S3 = "s3://"+bucket+"/"+testkit.Unique("everytable-"), s3cfg
		cat, err := OpenCatalog(context.Background(), e.cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = closeCatalog(cat) })
		e.cat = cat
		b, err := json.Marshal(map[string]string{"s3.endpoint": s3cfg.Endpoint, "s3.region": s3cfg.Region,
			"s3.access-key-id": s3cfg.AccessKeyID, "s3.secret-access-key": s3cfg.SecretAccessKey})
		if err != nil {
			t.Fatal(err)
		}
		props = append(props, string(b))
	}

	want := map[string][2]int64{} // table → rows, sum of offsets
	var recs []*kgo.Record
	var tables []string
	for _, k := range e.codec.Catalogue().Kinds() {
		ident := TableFor(k.Topic, k.Schema.(*avro.RecordSchema))
		tables = append(tables, identString(ident))
		for seed := 1; seed <= 3; seed++ {
			r, err := e.codec.Record(eventstest.Sample(k, seed), "")
			if err != nil {
				t.Fatalf("%s: %v", k.Type, err)
			}
			recs = append(recs, r)
		}
		again, _ := e.codec.Record(eventstest.Sample(k, 1), "") // a redelivery
		recs = append(recs, again)
	}
	for _, topic := range topics {
		recs = append(recs, &kgo.Record{Topic: e.prefix + topic, Key: []byte("junk"), Value: []byte("not an event")})
		tables = append(tables, identString(DeadLetterIdent(topic)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		ns := strings.TrimPrefix(r.Topic, e.prefix)
		key := identString(DeadLetterIdent(ns))
		if id := string(headerValue(r.Headers, events.HeaderEventID)); id != "" {
			if seen[id] {
				continue
			}
			seen[id] = true
			eventType := string(headerValue(r.Headers, events.HeaderEventType)) // commerce.OrderCreated
			key = ns + "." + snakeCase(eventType[strings.LastIndex(eventType, ".")+1:])
		}
		w := want[key]
		want[key] = [2]int64{w[0] + 1, w[1] + r.Offset}
	}
	slices.Sort(tables)
	if len(want) != len(tables) {
		t.Fatalf("%d tables expected from the records, %d from the schemas", len(want), len(tables))
	}

	s := e.start("all")
	testkit.WaitFor(t, 2*time.Minute, "every table to hold its rows", func() error {
		for _, key := range tables {
			ident := table.Identifier(strings.SplitN(key, ".", 2))
			tbl, err := e.cat.LoadTable(context.Background(), ident)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			n := int64(0)
			if snap := tbl.CurrentSnapshot(); snap != nil && snap.Summary != nil {
				fmt.Sscan(snap.Summary.Properties["total-records"], &n)
			}
			if n != want[key][0] {
				return fmt.Errorf("%s has %d rows, want %d", key, n, want[key][0])
			}
		}
		return nil
	})
	s.stop(t)
	if got := s.counter(t, "storeline_sink_dead_lettered_total"); got != float64(len(topics)) {
		t.Errorf("dead letters = %v, want one per topic", got)
	}

	u, err := url.Parse(e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "postgresql+psycopg2"
	q := u.Query()
	q.Del("sslmode")
	u.RawQuery = q.Encode()
	wh, err := WarehouseURI(e.cfg.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"testdata/everytable.py", DefaultCatalogName, u.String(), wh,
		strings.Join(e.brokers, ","), e.prefix, strings.Join(topics, ",")}, props...)
	out, err := exec.Command(python, args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("everytable.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got map[string]map[string][2]int64
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("everytable.py printed %q: %v", out, err)
	}
	if len(got) != len(tables) {
		t.Errorf("the engines and topics name %d tables, want %d", len(got), len(tables))
	}
	for _, key := range tables {
		for _, source := range []string{"topics", "pyiceberg", "duckdb"} {
			if g, ok := got[key][source]; !ok || g != want[key] {
				t.Errorf("%s by %s: rows, sum(_kafka_offset) = %v, want %v", key, source, g, want[key])
			}
		}
	}
	t.Logf("%d tables in %s read alike by the topics, PyIceberg and DuckDB", len(tables), wh)
}
