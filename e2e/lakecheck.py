"""Reads an Iceberg table the way a data engineer would and prints what it holds, as JSON.

Two engines, independently of storeline's Go code:
  * PyIceberg, through the same SQL catalog (PostgreSQL) storeline writes to;
  * DuckDB with its iceberg extension, scanning the table's current metadata file.

usage: lakecheck.py POSTGRES_URL CATALOG_NAME WAREHOUSE NAMESPACE.TABLE
"""
import json
import sys
from decimal import Decimal

import duckdb
import pyarrow.compute as pc
from pyiceberg.catalog.sql import SqlCatalog


def main():
    db_url, catalog_name, warehouse, ident = sys.argv[1:5]
    sa_url = db_url.replace("postgres://", "postgresql+psycopg2://", 1).replace("postgresql://", "postgresql+psycopg2://", 1)
    catalog = SqlCatalog(catalog_name, uri=sa_url, warehouse=warehouse)
    table = catalog.load_table(ident)
    arrow = table.scan(selected_fields=("order", "_event_id")).to_arrow()
    orders = arrow.column("order")
    ids = pc.struct_field(orders, "order_id").to_pylist()
    totals = pc.struct_field(pc.struct_field(orders, "total_price"), "amount").to_pylist()
    snapshot = table.current_snapshot()
    out = {
        "pyiceberg": {
            "rows": len(ids),
            "distinct_order_ids": len(set(ids)),
            "distinct_event_ids": len(set(arrow.column("_event_id").to_pylist())),
            "sum_total_price": str(sum((Decimal(t) for t in totals), Decimal(0))),
            "order_ids": sorted(set(ids)),
        },
        "summary": dict(snapshot.summary.additional_properties) if snapshot else {},
        "metadata_location": table.metadata_location,
    }

    con = duckdb.connect()
    con.execute("LOAD iceberg")
    rows, distinct, total = con.execute(
        'SELECT count(*), count(DISTINCT "order".order_id), CAST(coalesce(sum("order".total_price.amount), 0) AS VARCHAR) '
        'FROM iceberg_scan(?)', [table.metadata_location]).fetchone()
    out["duckdb"] = {"rows": rows, "distinct_order_ids": distinct, "sum_total_price": str(Decimal(total))}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
