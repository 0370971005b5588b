package recordset

import (
	"math/big"
	"testing"
)

func TestStatementsAndValues(t *testing.T) {
	cs := Columns{{"id", "bigint"}, {"title", "text"}, {"price", "numeric"}}
	if got := cs.Names("s."); got != "s.id, s.title, s.price" {
		t.Errorf("Names = %q", got)
	}
	if got := cs.Recordset("$1"); got != "jsonb_to_recordset($1::jsonb) AS r(id bigint, title text, price numeric)" {
		t.Errorf("Recordset = %q", got)
	}
	if got := cs.SetExcluded("id"); got != "title = excluded.title, price = excluded.price" {
		t.Errorf("SetExcluded = %q", got)
	}
	if got := Decimal(big.NewRat(14975, 1000)); got != "14.9750" {
		t.Errorf("Decimal = %q", got)
	}
	if got := IDString(5801234567890123456); got != "5801234567890123456" {
		t.Errorf("IDString = %q", got)
	}
	if got := NonNil[int](nil); got == nil || len(got) != 0 {
		t.Errorf("NonNil(nil) = %#v", got)
	}
}

func TestTrimmed(t *testing.T) {
	for _, c := range []struct {
		r    *big.Rat
		want string
	}{
		{big.NewRat(14975, 1000), "14.975"}, {big.NewRat(100, 1), "100"}, {big.NewRat(0, 1), "0"},
		{nil, "0"}, {big.NewRat(-5, 2), "-2.5"}, {big.NewRat(1, 10000), "0.0001"},
	} {
		if got := Trimmed(c.r); got != c.want {
			t.Errorf("Trimmed(%v) = %q, want %q", c.r, got, c.want)
		}
	}
}

func TestIsUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"3f2504e0-4f89-41d3-9a0c-0305e82c3301": true, "3F2504E0-4F89-41D3-9A0C-0305E82C3301": true,
		"": false, "not-a-uuid": false, "3f2504e0-4f89-41d3-9a0c-0305e82c330g": false, "3f2504e04f8941d39a0c0305e82c3301": false,
	} {
		if got := IsUUID(s); got != want {
			t.Errorf("IsUUID(%q) = %v", s, got)
		}
	}
}
