package orders

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storeline/storeline/events"
)

// column is a column of a read-model table and its type in a jsonb_to_recordset row: a batch is
// written as one JSON array of rows per table (one statement for the whole batch, whatever its
// size), so the JSON field names are the column names.
type column struct{ name, typ string }

type columns []column

// names is "a, b, c", each name prefixed with prefix (e.g. "s.").
func (cs columns) names(prefix string) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(prefix + c.name)
	}
	return b.String()
}

// recordset is the jsonb_to_recordset clause that reads rows of cs from parameter param.
func (cs columns) recordset(param string) string {
	var b strings.Builder
	b.WriteString("jsonb_to_recordset(" + param + "::jsonb) AS r(")
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name + " " + c.typ)
	}
	b.WriteString(")")
	return b.String()
}

// setExcluded is "a = excluded.a, ..." for every column but the key ones.
func (cs columns) setExcluded(key ...string) string {
	var parts []string
	for _, c := range cs {
		if !slices.Contains(key, c.name) {
			parts = append(parts, c.name+" = excluded."+c.name)
		}
	}
	return strings.Join(parts, ", ")
}

// amount renders money exactly as the numeric(20,4) it is stored as.
func amount(m events.Money) string { return decimal(m.Amount) }

func optAmount(m *events.Money) *string {
	if m == nil {
		return nil
	}
	s := amount(*m)
	return &s
}

func decimal(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	return r.FloatString(4)
}

// nonNil keeps JSON arrays arrays: a nil slice would marshal as null into a NOT NULL column.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func optIDString(id *int64) *string {
	if id == nil {
		return nil
	}
	s := idString(*id)
	return &s
}

func utc(t time.Time) time.Time { return t.UTC() }

func optUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
