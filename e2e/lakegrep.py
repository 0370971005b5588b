"""Reads every table of a storeline lake with PyIceberg, as a data engineer would, and reports
which of the given strings appear anywhere in any row (every column, as text).

usage: lakegrep.py POSTGRES_URL CATALOG_NAME WAREHOUSE NEEDLE...
Prints JSON: {"tables": {name: rows}, "found": {needle: [table, ...]}}.
"""
import json
import sys

from pyiceberg.catalog.sql import SqlCatalog


def main():
    db_url, catalog_name, warehouse, *needles = sys.argv[1:]
    sa_url = db_url.replace("postgres://", "postgresql+psycopg2://", 1).replace("postgresql://", "postgresql+psycopg2://", 1)
    catalog = SqlCatalog(catalog_name, uri=sa_url, warehouse=warehouse)
    tables, found = {}, {n: [] for n in needles}
    for ns in catalog.list_namespaces():
        for ident in catalog.list_tables(ns):
            name = ".".join(ident)
            rows = catalog.load_table(ident).scan().to_arrow().to_pylist()
            tables[name] = len(rows)
            text = json.dumps(rows, default=str, ensure_ascii=False)
            for n in needles:
                if n in text:
                    found[n].append(name)
    print(json.dumps({"tables": tables, "found": found}))


if __name__ == "__main__":
    main()
