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
