// Package recordset helps projections write a batch in one statement per table: the rows go as
// one JSON array read with jsonb_to_recordset, so the JSON field names are the column names; and
// it renders values the way those columns store them; and it has the helpers read models read
// their rows back with (All, ByUUID).
package recordset

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
)

// Column is a column of a read-model table and its type in a jsonb_to_recordset row:
// {"name", "type"}.
type Column [2]string

// Name is the column's name.
func (c Column) Name() string { return c[0] }

// Type is the column's SQL type.
func (c Column) Type() string { return c[1] }

// Columns are a table's columns.
type Columns []Column

// Names is "a, b, c", each name prefixed with prefix (e.g. "s.").
func (cs Columns) Names(prefix string) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(prefix + c.Name())
	}
	return b.String()
}

// Recordset is the jsonb_to_recordset clause that reads rows of cs from parameter param.
func (cs Columns) Recordset(param string) string {
	var b strings.Builder
	b.WriteString("jsonb_to_recordset(" + param + "::jsonb) AS r(")
	for i, c := range cs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name() + " " + c.Type())
	}
	b.WriteString(")")
	return b.String()
}

// SetExcluded is "a = excluded.a, ..." for every column but the key ones.
func (cs Columns) SetExcluded(key ...string) string {
	var parts []string
	for _, c := range cs {
		if !slices.Contains(key, c.Name()) {
			parts = append(parts, c.Name()+" = excluded."+c.Name())
		}
	}
	return strings.Join(parts, ", ")
}

// Queue queues sql on b with rows as its one parameter, a JSON array ($1 of a Recordset
// clause); nothing when there are no rows.
func Queue[T any](b *pgx.Batch, sql string, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	js, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("encode rows: %w", err)
	}
	b.Queue(sql, string(js))
	return nil
}

// Amount renders money exactly as the numeric(20,4) it is stored as.
func Amount(m events.Money) string { return Decimal(m.Amount) }

// OptAmount is Amount of an optional amount.
func OptAmount(m *events.Money) *string {
	if m == nil {
		return nil
	}
	s := Amount(*m)
	return &s
}

// Decimal renders r with the 4 decimal places of numeric(20,4); nil as 0.
func Decimal(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	return r.FloatString(4)
}

// Trimmed renders r as the readers show numeric(20,4) (trim_scale): 4 decimal places at most,
// without trailing zeros ("12.5", "3"); nil as 0. For money kept inside JSON columns, which SQL
// does not trim on the way out.
func Trimmed(r *big.Rat) string {
	if r == nil {
		return "0"
	}
	s := strings.TrimRight(Decimal(r), "0") // Decimal always has a point: the zeros trimmed are decimals
	return strings.TrimSuffix(s, ".")
}

// NonNil keeps JSON arrays arrays: a nil slice would marshal as null into a NOT NULL column.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// IDString renders a Shopify id as text (JSON numbers would lose ids above 2^53).
func IDString(id int64) string { return strconv.FormatInt(id, 10) }

// OptIDString is IDString of an optional id.
func OptIDString(id *int64) *string {
	if id == nil {
		return nil
	}
	s := IDString(*id)
	return &s
}

// UTC is t in UTC.
func UTC(t time.Time) time.Time { return t.UTC() }

// OptUTC is UTC of an optional time.
func OptUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// IsUUID reports whether s can be a uuid column's value (8-4-4-4-12 hex digits), so that a
// reader given an id from a URL that is not one answers not found rather than a Postgres error.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
