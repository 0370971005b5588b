package icebergsink

import (
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"testing"

	"github.com/storeline/storeline/testkit"
)

// readBack reads commerce.order_created with PyIceberg's SqlCatalog (same catalog name, the Postgres
// URL in SQLAlchemy form, the same warehouse) and with DuckDB's iceberg_scan on the current
// metadata file, and prints what both saw as JSON.
const readBack = `
import json, sys
from pyiceberg.catalog.sql import SqlCatalog
import pyarrow.compute as pc
import duckdb

name, uri, warehouse, key = sys.argv[1:5]
cat = SqlCatalog(name, uri=uri, warehouse=warehouse)
tbl = cat.load_table("commerce.order_created")
arrow = tbl.scan().to_arrow()
orders = arrow.column("order")
snap = tbl.current_snapshot()
out = {
    "pyiceberg_rows": arrow.num_rows,
    "pyiceberg_sum": str(sum(v.as_py() for v in pc.struct_field(pc.struct_field(orders, "total_price"), "amount"))),
    "pyiceberg_line_items": sum(len(v.as_py()) for v in pc.struct_field(orders, "line_items")),
    "offsets": snap.summary.additional_properties.get(key),
    "spec": str(tbl.spec()),
}
con = duckdb.connect()
con.execute("LOAD iceberg")
rows, total = con.execute(
    'SELECT count(*), CAST(sum("order".total_price.amount) AS VARCHAR) FROM iceberg_scan(?)', [tbl.metadata_location]
).fetchone()
out["duckdb_rows"], out["duckdb_sum"] = rows, total
print(json.dumps(out))
`

func TestPyIcebergAndDuckDBReadTheTable(t *testing.T) {
	e := newEnv(t, 2)
	python := testkit.Python(t)
	e.produce(0, 12, 4) // order 4 twice: the table holds it once
	s := e.start("a")
	e.waitCaughtUp()
	s.stop(t)

	u, err := url.Parse(e.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Scheme = "postgresql+psycopg2"
	q := u.Query()
	q.Del("sslmode") // psycopg2 takes it too, but the test server needs none
	u.RawQuery = q.Encode()
	wh, err := WarehouseURI(e.cfg.Warehouse)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(context.Background(), python, "-c", readBack,
		DefaultCatalogName, u.String(), wh, OffsetsProperty(e.cfg.Group)).CombinedOutput()
	if err != nil {
		t.Fatalf("read back with python: %v\n%s", err, out)
	}
	var got struct {
		PyRows      int    `json:"pyiceberg_rows"`
		PySum       string `json:"pyiceberg_sum"`
		PyLineItems int    `json:"pyiceberg_line_items"`
		Offsets     string `json:"offsets"`
		Spec        string `json:"spec"`
		DuckRows    int    `json:"duckdb_rows"`
		DuckSum     string `json:"duckdb_sum"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	t.Logf("read back: %+v", got)
	want := wantSum(0, 12).FloatString(4)
	if got.PyRows != 12 || got.DuckRows != 12 {
		t.Errorf("rows: pyiceberg %d, duckdb %d, want 12", got.PyRows, got.DuckRows)
	}
	if got.PySum != want || got.DuckSum != want {
		t.Errorf("sum(total_price): pyiceberg %s, duckdb %s, want %s", got.PySum, got.DuckSum, want)
	}
	if got.PyLineItems != 24 {
		t.Errorf("line items: %d, want 24", got.PyLineItems)
	}
	if got.Offsets != e.endOffsets(context.Background()).Encode() {
		t.Errorf("snapshot offsets seen by pyiceberg %s, want %s", got.Offsets, e.endOffsets(context.Background()).Encode())
	}
}
