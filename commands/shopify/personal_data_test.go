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

// TestUnsealablePayloadIsInvalid: a payload pii cannot take apart is the payload's fault (400),
// not the key store's (503, which Shopify would retry for days).
func TestUnsealablePayloadIsInvalid(t *testing.T) {
	sealer, _ := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	for name, tc := range map[string]struct{ topic, body string }{
		"personal data naming no one": {"customers/redact", `{"shop_domain":"s","customer":{"email":"a@example.com"}}`},
		"malformed":                   {"orders/create", `{"id":`},
		"topic without rules":         {"checkouts/create", `{"id":1}`},
	} {
		if _, _, err := seal.SealShopify(context.Background(), "s.myshopify.com", tc.topic, "e", []byte(tc.body)); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s: got %v, want ErrInvalidPayload", name, err)
		}
	}
}
