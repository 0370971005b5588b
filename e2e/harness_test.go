// Package e2e tests the storeline binary as an operator runs it: a separate process on real
// Kafka and Postgres, signed webhooks over HTTP, kill -9, and the lake read by other engines.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/webhooksig"
)

const secret = "shpss_e2e_secret"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the storeline command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "storeline-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "storeline")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/storeline/storeline/cmd/storeline").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// deployment is one storeline configuration (database, topics, warehouse) that processes can
// be started on, killed and restarted.
type deployment struct {
	t         *testing.T
	dbURL     string
	prefix    string
	warehouse string
	addr      string
	logs      *lockedBuffer
	extraEnv  []string // settings of one test (e.g. STORELINE_SHOPIFY_SHOPS)
	proc      *exec.Cmd
	exited    chan struct{}
}

func newDeployment(t *testing.T) *deployment {
	testkit.Integration(t)
	d := &deployment{
		t:         t,
		dbURL:     testkit.FreshDatabaseURL(t),
		prefix:    testkit.FreshTopicPrefix(t, 3, "commerce", "publication", "sync"),
		warehouse: t.TempDir(),
		addr:      freeAddr(t),
		logs:      &lockedBuffer{},
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("storeline logs:\n%s", d.logs.String())
		}
	})
	return d
}

func (d *deployment) env() []string {
	return append(append(os.Environ(), d.extraEnv...),
		"STORELINE_KAFKA_BROKERS="+os.Getenv(testkit.EnvBrokers),
		"STORELINE_DATABASE_URL="+d.dbURL,
		"STORELINE_TOPIC_PREFIX="+d.prefix,
		"STORELINE_WAREHOUSE="+d.warehouse,
		"STORELINE_HTTP_ADDR="+d.addr,
		"STORELINE_SHOPIFY_WEBHOOK_SECRET="+secret,
		"STORELINE_PII_KEY="+piiKey,
		"STORELINE_SINK_COMMIT_INTERVAL=300ms",
		"STORELINE_DATA_DIR="+filepath.Join(d.warehouse, ".storeline"),
		"STORELINE_LOG_LEVEL=warn",
		// A supervisor restarts the same replica: static membership hands its partitions back at
		// once rather than after the 45 s session timeout of the killed member.
		"STORELINE_INSTANCE_ID=e2e-"+d.prefix,
	)
}

// piiKey is the deployment's key-encryption key of personal-data keys (32 bytes, base64).
const piiKey = "c3RvcmVsaW5lLWUyZS1waWkta2V5LTMyLWJ5dGVzISE="

// start runs `storeline run` and waits until it is ready.
func (d *deployment) start() {
	d.t.Helper()
	cmd := exec.Command(binary(d.t), "run")
	cmd.Env = d.env()
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.proc, d.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(d.exited)
	testkit.WaitFor(d.t, 60*time.Second, "storeline to be ready", func() error {
		select {
		case <-d.exited:
			d.t.Fatalf("storeline exited during start:\n%s", d.logs.String())
		default:
		}
		resp, err := http.Get("http://" + d.addr + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
}

// kill sends SIGKILL: no drain, no commit.
func (d *deployment) kill() {
	d.t.Helper()
	if d.proc == nil {
		return
	}
	_ = d.proc.Process.Signal(syscall.SIGKILL)
	<-d.exited
	d.proc = nil
}

// stop sends SIGTERM and waits for a clean exit.
func (d *deployment) stop() {
	if d.proc == nil {
		return
	}
	_ = d.proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(45 * time.Second):
		d.t.Errorf("storeline did not stop within 45s of SIGTERM")
		_ = d.proc.Process.Kill()
		<-d.exited
	}
	if code := d.proc.ProcessState.ExitCode(); code != 0 {
		d.t.Errorf("storeline exited %d after SIGTERM", code)
	}
	d.proc = nil
}

type delivery struct {
	eventID, webhookID string
	body               []byte
}

// orderDelivery is an orders/create delivery of order id.
func orderDelivery(id int64, eventID string) delivery {
	body := fmt.Sprintf(`{"id":%d,"admin_graphql_api_id":"gid://shopify/Order/%d","name":"#%d","order_number":%d,"currency":"USD",
"total_price":"%d.%02d","subtotal_price":"1.00","total_tax":"0.00","financial_status":"paid","fulfillment_status":null,
"created_at":"2026-11-%02dT12:00:00Z","updated_at":"2026-11-%02dT12:00:01Z","customer":{"email":"someone@example.com"},
"line_items":[{"id":%d,"product_id":7,"variant_id":8,"title":"Tee","variant_title":"M","sku":"TEE-M","quantity":1,"price":"%d.%02d"}]}`,
		id, id, id, id, id%1000, id%100, 1+id%25, 1+id%25, id*10, id%1000, id%100)
	return delivery{eventID: eventID, webhookID: "wh-" + eventID, body: []byte(body)}
}

// send posts a delivery signed with signingSecret and returns the status.
func (d *deployment) send(dl delivery, signingSecret string) (int, error) {
	return d.sendTraced(dl, signingSecret, nil)
}

// sendTraced is send, closing wrote (if not nil) once the whole request has been written.
func (d *deployment) sendTraced(dl delivery, signingSecret string, wrote chan struct{}) (int, error) {
	ctx := context.Background()
	if wrote != nil {
		var once sync.Once
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(func() { close(wrote) }) },
		})
		defer once.Do(func() { close(wrote) }) // a request that failed before writing
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+d.addr+"/webhooks/shopify", bytes.NewReader(dl.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", "orders/create")
	req.Header.Set("X-Shopify-Shop-Domain", "e2e.myshopify.com")
	req.Header.Set("X-Shopify-Event-Id", dl.eventID)
	req.Header.Set("X-Shopify-Webhook-Id", dl.webhookID)
	req.Header.Set("X-Shopify-Hmac-Sha256", webhooksig.Sign(dl.body, signingSecret))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// lake is what lakecheck.py reports.
type lake struct {
	PyIceberg struct {
		Rows             int     `json:"rows"`
		DistinctOrderIDs int     `json:"distinct_order_ids"`
		DistinctEventIDs int     `json:"distinct_event_ids"`
		SumTotalPrice    string  `json:"sum_total_price"`
		OrderIDs         []int64 `json:"order_ids"`
	} `json:"pyiceberg"`
	DuckDB struct {
		Rows             int    `json:"rows"`
		DistinctOrderIDs int    `json:"distinct_order_ids"`
		SumTotalPrice    string `json:"sum_total_price"`
	} `json:"duckdb"`
	Summary map[string]string `json:"summary"`
}

// readLake reads commerce.order_created with PyIceberg and DuckDB.
func (d *deployment) readLake() (*lake, error) {
	out, err := exec.Command(testkit.Python(d.t), "lakecheck.py", d.dbURL, "storeline", d.warehouse, "commerce.order_created").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("lakecheck: %v: %s", err, lastLine(string(ee.Stderr)))
		}
		return nil, err
	}
	var l lake
	if err := json.Unmarshal(out, &l); err != nil {
		return nil, fmt.Errorf("lakecheck output %q: %w", out, err)
	}
	return &l, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
