package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
)

// TestPersonalDataIsSealedAndShreddable: an order of a known customer becomes an event whose
// typed fields and payload hold none of the customer's personal data; the sealed part restores
// the exact payload while the customer's key lives, and nothing once it is shredded.
func TestPersonalDataIsSealedAndShreddable(t *testing.T) {
	ctx := context.Background()
	sealer, keys := piitest.NewSealer()
	d := sampleDelivery(samples.OrdersCreateWithCustomer)
	ev, err := OrderCreated(ctx, d, PersonalData{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	typed, err := json.Marshal(ev.Order)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples.PersonalStrings {
		if !bytes.Contains(samples.OrdersCreateWithCustomer, []byte(s)) {
			t.Fatalf("the sample does not hold %q: the test proves nothing", s)
		}
		if strings.Contains(ev.PayloadJSON, s) || bytes.Contains(typed, []byte(s)) || bytes.Contains(ev.PersonalData.Ciphertext, []byte(s)) {
			t.Errorf("%q is in plaintext in the event", s)
		}
	}
	if ev.Order.CustomerID == nil {
		t.Fatal("the customer id (not personal data by itself) must stay")
	}

	sealed := &pii.Sealed{KeyID: ev.PersonalData.KeyID, Algorithm: ev.PersonalData.Algorithm, Ciphertext: ev.PersonalData.Ciphertext}
	whole, err := sealer.OpenShopify(ctx, ev.PayloadJSON, sealed, ev.Envelope.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, whole, samples.OrdersCreateWithCustomer) {
		t.Errorf("clean + sealed is not the payload Shopify sent:\n%s", whole)
	}
	if _, err := sealer.OpenShopify(ctx, ev.PayloadJSON, sealed, "another-event"); !errors.Is(err, pii.ErrCorrupt) {
		t.Errorf("sealed data moved to another event: got %v, want ErrCorrupt", err)
	}

	keys.Shred(d.Shop, "customer/"+strconv.FormatInt(*ev.Order.CustomerID, 10))
	if _, err := sealer.OpenShopify(ctx, ev.PayloadJSON, sealed, ev.Envelope.EventID); !errors.Is(err, pii.ErrShredded) {
		t.Errorf("after customers/redact: got %v, want ErrShredded", err)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	for _, p := range []struct {
		in  []byte
		out *any
	}{{a, &va}, {b, &vb}} {
		dec := json.NewDecoder(bytes.NewReader(p.in))
		dec.UseNumber()
		if err := dec.Decode(p.out); err != nil {
			t.Fatal(err)
		}
	}
	return reflect.DeepEqual(va, vb)
}
