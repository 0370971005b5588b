package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/shopifysim"
	"github.com/storeline/storeline/testkit"
)

// TestCustomersRedactLeavesNoPlaintext: a shop's history arrives as webhooks, then Shopify's
// customers/redact for one of its customers. Afterwards no read model, no record of any topic
// and no row of any Iceberg table yields that customer's email, phone or street address in
// plaintext, and the key that sealed them in the log is destroyed.
func TestCustomersRedactLeavesNoPlaintext(t *testing.T) {
	d := newDeployment(t)
	store, _ := simulatedShop(t, d, shopifysim.Size{Products: 10, Orders: 40})
	d.start()
	ctx := context.Background()
	sender := shopifysim.NewWebhookSender(store, shopifysim.SenderOptions{URL: "http://" + d.addr + "/webhooks/shopify",
		Secret: simulatedShopSecret, Concurrency: 4})
	defer sender.Close()
	if _, err := sender.Send(ctx, store.History()); err != nil {
		t.Fatal(err)
	}

	var customer shopifysim.Customer
	for _, o := range store.Orders() {
		if o.CustomerID != 0 {
			customer, _ = store.Customer(o.CustomerID)
			break
		}
	}
	needles := []string{customer.Email, customer.Phone, customer.DefaultAddress.Address1}
	for _, n := range needles {
		if n == "" {
			t.Fatalf("customer %d lacks personal data to look for: %+v", customer.ID, customer)
		}
	}

	pool, err := pgxpool.New(ctx, d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	testkit.WaitFor(t, 60*time.Second, "the shop's orders in the read model", func() error {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil {
			return err
		}
		if n != len(store.Orders()) {
			return fmt.Errorf("%d orders", n)
		}
		return nil
	})

	redact, err := store.CustomerRedact(customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sender.Send(ctx, []shopifysim.Change{redact}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 60*time.Second, "the redaction to be carried out", func() error {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM privacy_requests WHERE kind = 'customer_redact' AND customer_id = $1`, customer.ID).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return errors.New("not yet")
		}
		return nil
	})

	// 1. Read models: every row of every table, as text.
	var tables []string
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		var text *string
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT string_agg(t::text, E'\n') FROM %q t`, table)).Scan(&text); err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if text != nil && bytes.Contains([]byte(*text), []byte(n)) {
				t.Errorf("table %s holds %q in plaintext", table, n)
			}
		}
	}

	// 2. Topics: every record of every topic of the deployment, values and headers, raw.
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	all, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mine []string
	for _, name := range all.Names() {
		if len(name) > len(d.prefix) && name[:len(d.prefix)] == d.prefix {
			mine = append(mine, name)
		}
	}
	reader, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...), kgo.ConsumeTopics(mine...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var sealedKeys []string
	records := 0
	reg, err := registry.NewRemote("http://" + d.addr + "/registry")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, reg, d.prefix)
	if err != nil {
		t.Fatal(err)
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		fs := reader.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			records++
			raw := append(append([]byte{}, r.Key...), r.Value...)
			for _, h := range r.Headers {
				raw = append(raw, h.Value...)
			}
			for _, n := range needles {
				if bytes.Contains(raw, []byte(n)) {
					t.Errorf("%s/%d@%d holds %q in plaintext", r.Topic, r.Partition, r.Offset, n)
				}
			}
			if r.Topic != d.prefix+events.TopicCommerce {
				return
			}
			if ev, err := codec.Decode(ctx, r.Value); err == nil {
				if oc, ok := ev.(*events.OrderCreated); ok && oc.Order.CustomerID != nil && *oc.Order.CustomerID == customer.ID && oc.PersonalData != nil {
					sealedKeys = append(sealedKeys, oc.PersonalData.KeyID)
				}
			}
		})
	}
	if records == 0 || len(sealedKeys) == 0 {
		t.Fatalf("read %d records, %d of the customer's sealed orders: the search proves nothing", records, len(sealedKeys))
	}
	// The sealed copies are unreadable: their key is destroyed.
	kek, err := base64.StdEncoding.DecodeString(piiKey)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := pii.NewKeystore(pool, kek)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range sealedKeys {
		if _, err := ks.Lookup(ctx, id); !errors.Is(err, pii.ErrShredded) {
			t.Errorf("key %s of the customer's orders: %v, want shredded", id, err)
		}
	}

	// 3. The lake: every row of every table, read with PyIceberg.
	testkit.WaitFor(t, 60*time.Second, "the lake to hold the shop's orders", func() error {
		lake, err := d.readLake()
		if err != nil {
			return err
		}
		if lake.PyIceberg.Rows < len(store.Orders()) {
			return fmt.Errorf("%d lake rows", lake.PyIceberg.Rows)
		}
		return nil
	})
	out, err := exec.Command(testkit.Python(t), append([]string{"lakegrep.py", d.dbURL, "storeline", d.warehouse}, needles...)...).Output()
	if err != nil {
		t.Fatalf("lakegrep: %v: %s", err, out)
	}
	var lake struct {
		Tables map[string]int      `json:"tables"`
		Found  map[string][]string `json:"found"`
	}
	if err := json.Unmarshal(out, &lake); err != nil {
		t.Fatalf("lakegrep said %s: %v", out, err)
	}
	if len(lake.Tables) == 0 {
		t.Fatal("the lake has no tables: the search proves nothing")
	}
	for n, where := range lake.Found {
		if len(where) > 0 {
			t.Errorf("the lake holds %q in plaintext in %v", n, where)
		}
	}
}
