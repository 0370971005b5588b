package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/migrations"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/testkit"
)

// `storeline pii shred` destroys the named customers' and orders' keys, and only theirs.
func TestPIIShred(t *testing.T) {
	dbURL := testkit.FreshDatabaseURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	ks := piitest.Keystore(t, pool)
	ids := map[string]string{}
	for _, subject := range []string{"customer/1", "order/7", "customer/2"} {
		id, _, err := ks.DataKey(ctx, "s.myshopify.com", subject)
		if err != nil {
			t.Fatal(err)
		}
		ids[subject] = id
	}
	out, err := storeline(t, "pii", "shred", "--database-url", dbURL, "--shop", "s.myshopify.com", "--customer", "1", "--order", "7")
	if err != nil || !strings.Contains(out, "shredded 2 key(s)") {
		t.Fatalf("shred: %q, %v", out, err)
	}
	for subject, shredded := range map[string]bool{"customer/1": true, "order/7": true, "customer/2": false} {
		_, err := ks.Lookup(ctx, ids[subject])
		if shredded != errors.Is(err, pii.ErrShredded) {
			t.Errorf("%s: Lookup gave %v, want shredded=%v", subject, err, shredded)
		}
	}
	if _, err := storeline(t, "pii", "shred", "--database-url", dbURL, "--shop", "s.myshopify.com"); err == nil {
		t.Error("shred without subjects or --whole-shop succeeded")
	}
}
