package recordset_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/projections/recordset"
	"github.com/storeline/storeline/testkit"
)

// TestCopyReadsAsJSON stages values with binary COPY and checks Postgres reads every one
// exactly as it reads the same value from the JSON of a Recordset clause.
func TestCopyReadsAsJSON(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	cols := recordset.Columns{
		{"k", "int"}, {"n", "numeric"}, {"s", "text"}, {"a", "text[]"}, {"ts", "timestamptz"},
		{"u", "uuid"}, {"j", "jsonb"}, {"b", "boolean"}, {"i8", "bigint"}, {"i4", "int"},
	}
	stage := recordset.Stage{Name: "stage_recordset_test", Columns: cols}
	rat := func(s string) *big.Rat {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("rat %q", s)
		}
		return r
	}
	str := func(s string) *string { return &s }
	paris := time.FixedZone("CEST", 2*3600)
	type row struct {
		n  *big.Rat
		s  *string
		a  []string
		ts *time.Time
		u  string
		j  string
		b  *bool
		i8 *int64
		i4 *int32
	}
	tm := func(t time.Time) *time.Time { return &t }
	yes, i8, i4 := true, int64(-5801234567890123456), int32(-7)
	rows := []row{
		{n: nil, s: str(""), a: nil, u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `[]`},
		{n: rat("0"), s: str("plain"), a: []string{}, ts: tm(time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC)), u: "6F1D9C2E-3B7A-5D42-9E0F-7C1A2B3C4D5E", j: `{"a":[1,2.50,"x"],"b":null}`, b: &yes, i8: &i8, i4: &i4},
		{n: rat("1"), s: str("ünïcödé ✓ 😀 <>&\u2028"), a: []string{"a", "b,c", `"q"`, "NULL", "", "{}", `back\slash`}, ts: tm(time.Date(2025, 6, 1, 12, 0, 0, 0, paris)), u: "00000000-0000-0000-0000-000000000000", j: `"\u00e9\u2028<>"`},
		{n: rat("-1"), s: str("a\xffb\xc3"), a: []string{"bad \xff utf8", "ok"}, ts: tm(time.Time{}), u: "{6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e}", j: `1`},
		{n: rat("0.0001"), ts: tm(time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC)), u: "6f1d9c2e3b7a5d429e0f7c1a2b3c4d5e", j: `true`},
		{n: rat("-0.0001"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("12.5"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("9999.9999"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("10000"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("100000000"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("-5.05"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("123456789012.3456"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("922337203685477.5807"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("-922337203685477.5807"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("922337203685477.5808"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("99999999999999999999.9999"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("1/3"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("-2/3"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("1/8"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("1/16"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("1/20000"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("-1/20000"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("1/200000"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("1000000000000000000000000000000.5"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
		{n: rat("0.00050001"), u: "6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e", j: `{}`},
	}

	// As the statements read them before: one JSON array, jsonb_to_recordset.
	var js []map[string]any
	for k, r := range rows {
		m := map[string]any{"k": k, "s": r.s, "a": recordset.NonNil(r.a), "ts": r.ts, "u": r.u, "j": json.RawMessage(r.j), "b": r.b, "i8": r.i8, "i4": r.i4}
		m["n"] = recordset.Decimal(r.n)
		js = append(js, m)
	}
	arr, err := json.Marshal(js)
	if err != nil {
		t.Fatal(err)
	}
	read := func(q string, args ...any) []string {
		rows, _ := pool.Query(ctx, q, args...)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return out
	}
	want := read(`SELECT r::text FROM (SELECT `+cols.Names("r.")+` FROM `+cols.Recordset("$1")+` ORDER BY k) r`, string(arr))

	var got []string
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := recordset.PrepareStages(ctx, tx, stage); err != nil {
			return err
		}
		w := stage.Writer()
		for k, r := range rows {
			w.Row()
			w.Int4(int32(k))
			w.Decimal(r.n)
			w.OptText(r.s)
			w.TextArray(r.a)
			w.OptTime(r.ts)
			w.UUID(r.u)
			w.JSONB([]byte(r.j))
			w.OptBool(r.b)
			w.OptInt8(r.i8)
			w.OptInt4(r.i4)
		}
		if err := w.Copy(ctx, tx); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT r::text FROM (SELECT `+cols.Names("r.")+` FROM `+stage.From("r")+` ORDER BY k) r`)
		got, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows staged, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n copy %s\n json %s", i, got[i], want[i])
		}
	}

	// The stage is empty for the next transaction, and for the next write of this one.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := recordset.PrepareStages(ctx, tx, stage); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+stage.From("r")).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("a new transaction finds %d rows staged", n)
		}
		w := stage.Writer()
		w.Row()
		w.Int4(1)
		w.Decimal(nil)
		w.OptText(nil)
		w.TextArray(nil)
		w.OptTime(nil)
		w.UUID("6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e")
		w.JSONB([]byte(`{}`))
		w.OptBool(nil)
		w.OptInt8(nil)
		w.OptInt4(nil)
		if err := w.Copy(ctx, tx); err != nil {
			return err
		}
		if err := recordset.PrepareStages(ctx, tx, stage); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+stage.From("r")).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("a second write in a transaction finds %d rows of the first", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A value Postgres would refuse is the record's fault, found before anything is sent.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		w := stage.Writer()
		w.Row()
		w.UUID("not-a-uuid")
		return w.Copy(ctx, tx)
	})
	if _, ok := errors.AsType[*recordset.InvalidValueError](err); !ok {
		t.Errorf("an invalid uuid: %v, want an InvalidValueError", err)
	}
	// A row of the wrong width is the code's fault.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := recordset.PrepareStages(ctx, tx, stage); err != nil {
			return err
		}
		w := stage.Writer()
		w.Row()
		w.Int4(1)
		return w.Copy(ctx, tx)
	})
	if err == nil {
		t.Error("a row of 1 field of 10 copied")
	}
}
