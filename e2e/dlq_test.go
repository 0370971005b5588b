package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/testkit"
)

// TestPoisonRecordThroughTheCommand: an order the orders projection cannot store (here because
// of a bad constraint, as a buggy migration would leave) sits in the middle of the topic. It
// lands in the dead-letter topic with its reason, the orders after it are applied, and after the
// fix `storeline dlq replay` applies it.
func TestPoisonRecordThroughTheCommand(t *testing.T) {
	d := newDeployment(t)
	d.start()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `ALTER TABLE orders ADD CONSTRAINT e2e_bug CHECK (total_price < 500) NOT VALID`); err != nil {
		t.Fatal(err)
	}
	// Order 777 costs 777.77: the bad constraint refuses it; the others cost less than 500.
	ids := []int64{101, 102, 103, 104, 777, 105, 106, 107, 108}
	for _, id := range ids {
		if status, err := d.send(orderDelivery(id, fmt.Sprint("dlq-", id)), secret); err != nil || status != 200 {
			t.Fatalf("webhook %d: %d %v", id, status, err)
		}
	}
	testkit.WaitFor(t, 60*time.Second, "the healthy orders, and the poison one dead-lettered", func() error {
		var n, dead int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM orders WHERE order_id = ANY($1)`, ids).Scan(&n); err != nil {
			return err
		}
		if err := db.QueryRow(ctx, `SELECT count(*) FROM dead_letters WHERE consumer = 'projection:orders' AND state = 'pending'`).Scan(&dead); err != nil {
			return err
		}
		if n != len(ids)-1 || dead != 1 {
			return fmt.Errorf("%d orders, %d dead letters", n, dead)
		}
		return nil
	})

	storeline := func(args ...string) (string, error) {
		cmd := exec.Command(binary(t), args...)
		cmd.Env = d.env()
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil {
			return out.String(), fmt.Errorf("%v: %s", err, errOut.String())
		}
		return out.String(), nil
	}
	out, err := storeline("dlq", "list", "--consumer", "projection:orders", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var listed []struct {
		OriginTopic     string `json:"origin_topic"`
		OriginPartition int32  `json:"origin_partition"`
		OriginOffset    int64  `json:"origin_offset"`
		Reason          string `json:"reason"`
		Error           string `json:"error"`
		DLQTopic        string `json:"dlq_topic"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("dlq list --json: %v: %s", err, out)
	}
	dl := listed[0]
	if dl.Reason != "handler_failed" || !strings.Contains(dl.Error, "e2e_bug") || dl.DLQTopic != d.prefix+"commerce.dlq" {
		t.Fatalf("dead letter %+v", dl)
	}
	id := fmt.Sprintf("projection:orders/%s/%d/%d", dl.OriginTopic, dl.OriginPartition, dl.OriginOffset)
	if out, err := storeline("dlq", "show", id); err != nil || !strings.Contains(out, "commerce.OrderCreated") {
		t.Fatalf("dlq show: %v\n%s", err, out)
	}

	// The status shows the orders projection caught up, with its dead letter pending.
	out, err = storeline("projections", "status", "--json", "--sample", "500ms")
	if err != nil {
		t.Fatal(err)
	}
	var status []struct {
		Name               string `json:"name"`
		State              string `json:"state"`
		Lag                int64  `json:"lag"`
		DeadLettersPending int64  `json:"dead_letters_pending"`
	}
	if err := json.Unmarshal([]byte(out), &status); err != nil {
		t.Fatalf("projections status: %v: %s", err, out)
	}
	found := false
	for _, s := range status {
		if s.Name == "orders" {
			found = true
			if s.State != "live" || s.Lag != 0 || s.DeadLettersPending != 1 {
				t.Errorf("orders status %+v, want live, lag 0, 1 dead letter", s)
			}
		}
	}
	if !found || len(status) < 7 {
		t.Errorf("projections status lists %d projections: %s", len(status), out)
	}

	// Not fixed: the replay fails, the dead letter stays pending.
	if _, err := storeline("dlq", "replay", id); err == nil {
		t.Fatal("replay before the fix succeeded")
	}
	if _, err := db.Exec(ctx, `ALTER TABLE orders DROP CONSTRAINT e2e_bug`); err != nil {
		t.Fatal(err)
	}
	if out, err := storeline("dlq", "replay", id); err != nil || !strings.Contains(out, "replayed") {
		t.Fatalf("replay after the fix: %v\n%s", err, out)
	}
	var total string
	if err := db.QueryRow(ctx, `SELECT total_price::text FROM orders WHERE order_id = 777`).Scan(&total); err != nil || !strings.HasPrefix(total, "777.77") {
		t.Fatalf("order 777 after replay: %q %v", total, err)
	}
	if out, err := storeline("dlq", "list", "--state", "pending"); err != nil || strings.Contains(out, "projection:orders/") {
		t.Fatalf("still pending after replay: %v\n%s", err, out)
	}
}
