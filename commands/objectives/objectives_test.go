package objectives

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/fielderr"
)

func valid() ObjectiveSpec {
	amount := "1000"
	return ObjectiveSpec{Name: "n", Scope: Scope{Type: "product", ProductID: "gid://shopify/Product/7"}, Metric: "revenue",
		Comparison: "at_least", Target: Target{Amount: &amount}, Period: Period{Kind: "monthly"}}
}

func TestValidate(t *testing.T) {
	s := func(v string) *string { return &v }
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name     string
		edit     func(*ObjectiveSpec)
		location string // "" valid
	}{
		{"valid", func(*ObjectiveSpec) {}, ""},
		{"product id not numeric", func(o *ObjectiveSpec) { o.Scope.ProductID = "gid://shopify/Collection/7" }, "body.scope.product_id"},
		{"tag scope without tag", func(o *ObjectiveSpec) { o.Scope = Scope{Type: "tag", Tag: "  "} }, "body.scope.tag"},
		{"collection", func(o *ObjectiveSpec) { o.Scope = Scope{Type: "collection", CollectionID: "42"} }, ""},
		{"money metric with value", func(o *ObjectiveSpec) { o.Target = Target{Value: f(3)} }, "body.target.amount"},
		{"count metric with amount", func(o *ObjectiveSpec) { o.Metric = "units_sold" }, "body.target.value"},
		{"count metric with value", func(o *ObjectiveSpec) { o.Metric = "units_sold"; o.Target = Target{Value: f(3)} }, ""},
		{"date range without dates", func(o *ObjectiveSpec) { o.Period.Kind = "date_range" }, "body.period"},
		{"end before start", func(o *ObjectiveSpec) {
			o.Period = Period{Kind: "date_range", StartDate: s("2026-05-01"), EndDate: s("2026-04-30")}
		}, "body.period.end_date"},
		{"not a date", func(o *ObjectiveSpec) { o.Period.StartDate = s("May 1st") }, "body.period.start_date"},
		{"time zone", func(o *ObjectiveSpec) { o.Period.TimeZone = s("Mars/Olympus") }, "body.period.time_zone"},
		{"Local is not a zone", func(o *ObjectiveSpec) { o.Period.TimeZone = s("Local") }, "body.period.time_zone"},
		{"a real zone", func(o *ObjectiveSpec) { o.Period.TimeZone = s("Europe/Berlin") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.edit(&o)
			err := Validate(o)
			if tc.location == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *fielderr.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err %v, want field errors", err)
			}
			for _, f := range fe.Fields {
				if strings.HasPrefix(f.Location, tc.location) {
					return
				}
			}
			t.Fatalf("no error at %s: %v", tc.location, err)
		})
	}
}

func TestChangedFields(t *testing.T) {
	a, b := valid(), valid()
	if got := changedFields(a, b); len(got) != 0 {
		t.Errorf("equal specs changed %v", got)
	}
	amount := "2000"
	b.Target.Amount = &amount
	b.Name = "m"
	if got := changedFields(a, b); strings.Join(got, ",") != "name,target" {
		t.Errorf("changed %v, want name,target", got)
	}
}

func TestMoneyTargetNeedsACurrency(t *testing.T) {
	o := valid()
	if _, err := toEvent("8b0c3f5e-4c1a-4d1e-9a55-2a0d7c7e9b10", o, "", time.Time{}, time.Time{}); err == nil {
		t.Fatal("a money target without the shop's currency or its own was accepted")
	}
	ev, err := toEvent("8b0c3f5e-4c1a-4d1e-9a55-2a0d7c7e9b10", o, "EUR", time.Time{}, time.Time{})
	if err != nil || ev.Target.Money == nil || ev.Target.Money.CurrencyCode != "EUR" || ev.Target.Money.Amount.String() != "1000/1" ||
		ev.Scope.ScopeID != "gid://shopify/Product/7" || *ev.Scope.ProductID != 7 {
		t.Fatalf("event %+v, %v", ev, err)
	}
}
