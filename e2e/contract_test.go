package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/testkit"
)

// TestPartnerReadsEveryEventWithConfluentClient is the event contract seen from outside: a
// Python consumer with confluent-kafka's Schema Registry deserializer, given nothing but the
// brokers and the registry the service exposes, reads one record of every event type and
// decodes every field to what was written.
func TestPartnerReadsEveryEventWithConfluentClient(t *testing.T) {
	d := newDeployment(t)
	d.start()
	ctx := context.Background()
	registryURL := "http://" + d.addr + "/registry"

	// The service registered its schemas at start: a codec registering the same ones through
	// the service's registry gets the same ids, and produces what the service would.
	reg, err := registry.NewRemote(registryURL)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	subjects := registeredSubjects(t, registryURL)
	for _, k := range cat.Kinds() {
		if !subjects[k.Subject()] {
			t.Errorf("the service did not register %s at start", k.Subject())
		}
	}
	codec, err := events.NewCodec(ctx, cat, reg, d.prefix)
	if err != nil {
		t.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type expectation struct {
		Topic     string `json:"topic"`
		EventType string `json:"event_type"`
		EventID   string `json:"event_id"`
		Value     any    `json:"value"`
	}
	var expected []expectation
	for i, k := range cat.Kinds() {
		ev := eventstest.Sample(k, i+1)
		rec, err := codec.Record(ev, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
		expected = append(expected, expectation{rec.Topic, k.Type, ev.Meta().EventID, eventstest.Normal(k, ev)})
	}
	file := filepath.Join(t.TempDir(), "expected.json")
	b, err := json.Marshal(expected)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testkit.Python(t), "contract_consumer.py", strings.Join(testkit.Brokers(t), ","), registryURL, file).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("the Python consumer disagrees:\n%s\n%s", out, ee.Stderr)
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("Python consumer: %s", out)

	// A partner's producer registering an incompatible change is refused with the reason.
	client, err := sr.NewClient(sr.URLs(registryURL))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := cat.Kind(events.TypeOrderCreated)
	incompatible := strings.Replace(k.JSON, `"fields":[`, `"fields":[{"name":"required_without_default","type":"string"},`, 1)
	_, err = client.CreateSchema(ctx, k.Subject(), sr.Schema{Schema: incompatible, Type: sr.TypeAvro})
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.ErrorCode != 409 {
		t.Fatalf("an incompatible schema: got %v, want a 409", err)
	}
}

func registeredSubjects(t *testing.T, registryURL string) map[string]bool {
	t.Helper()
	client, err := sr.NewClient(sr.URLs(registryURL))
	if err != nil {
		t.Fatal(err)
	}
	subjects, err := client.Subjects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range subjects {
		out[s] = true
	}
	return out
}
