package registry_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/testkit"
)

// kafka is a broker and a fresh registry topic on it.
type kafka struct {
	brokers []string
	topic   string
}

// eachKafka runs test on an in-process kfake broker and, in the integration tier, on the real
// Kafka of scripts/testenv: the store must behave the same on both.
func eachKafka(t *testing.T, test func(t *testing.T, k kafka)) {
	t.Run("kfake", func(t *testing.T) { test(t, fakeKafka(t)) })
	t.Run("kafka", func(t *testing.T) { test(t, realKafka(t)) })
}

func fakeKafka(t *testing.T) kafka {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return kafka{brokers: c.ListenAddrs(), topic: registry.TopicName(testkit.Unique("t"))}
}

func realKafka(t *testing.T) kafka {
	t.Helper()
	k := kafka{brokers: testkit.Brokers(t), topic: registry.TopicName(testkit.Unique("t"))}
	t.Cleanup(func() {
		adm := k.admin(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adm.DeleteTopics(ctx, k.topic); err != nil {
			t.Logf("delete topic %s: %v", k.topic, err)
		}
	})
	return k
}

// newStore returns a store on the topic, not started, closed when the test ends.
func (k kafka) newStore(t *testing.T) *registry.Store {
	t.Helper()
	s, err := registry.NewStore(registry.StoreConfig{Brokers: k.brokers, Topic: k.topic, ReplicationFactor: -1,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// start returns a started store on the topic.
func (k kafka) start(t *testing.T) *registry.Store {
	t.Helper()
	s := k.newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("start store: %v", err)
	}
	return s
}

// admin returns an admin client of the broker, closed when the test ends.
func (k kafka) admin(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// produce writes raw records to the registry topic, as another (possibly crashed) writer would.
func (k kafka) produce(t *testing.T, records ...[2]string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range records {
		rec := &kgo.Record{Topic: k.topic, Partition: 0, Key: []byte(r[0])}
		if r[1] != "" {
			rec.Value = []byte(r[1])
		}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
}

// readLog returns every record of the registry topic up to its current end.
func (k kafka) readLog(t *testing.T) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := k.admin(t).ListEndOffsets(ctx, k.topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(k.topic, 0)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) == 0 || out[len(out)-1].Offset+1 < end.Offset {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read the log to offset %d: %v (have %d records)", end.Offset, err, len(out))
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch: %v", err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// writeToken authorizes changes through the HTTP API in tests.
const writeToken = "test-write-token"

// serve serves the store's HTTP API and returns a Confluent client of it that holds the write
// token (as basic auth, as Confluent clients send it).
func serve(t *testing.T, s *registry.Store) (*sr.Client, string) {
	t.Helper()
	srv := httptest.NewServer(registry.Handler(s, registry.WithWriteToken(writeToken)))
	t.Cleanup(srv.Close)
	cl, err := sr.NewClient(sr.URLs(srv.URL), sr.BasicAuth("storeline", writeToken))
	if err != nil {
		t.Fatal(err)
	}
	return cl, srv.URL
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// httpDo sends a request with a JSON body (none if empty), decodes the answer into out and returns
// the status.
func httpDo(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	req.Header.Set("Authorization", "Bearer "+writeToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode answer: %v", method, url, err)
		}
	}
	return resp.StatusCode
}
