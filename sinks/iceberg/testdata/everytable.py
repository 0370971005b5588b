"""Counts every Iceberg table of storeline's lake three ways, independently of storeline's Go code,
and prints them as JSON: {table: {"topics": [rows, sum_offsets], "pyiceberg": [...], "duckdb": [...]}}.

  * topics: the Kafka topics themselves, read with confluent-kafka: each record belongs to the table
    its event_type header names in snake case (commerce.OrderCreated -> <topic>.order_created), the first
    record of each event_id only (later copies are redeliveries); a record that is not in the
    Confluent wire format belongs to <topic>._dead_letters.
  * pyiceberg: the table scanned through the same SQL catalog.
  * duckdb: iceberg_scan of the table's current metadata file.

usage: everytable.py CATALOG_NAME SQLALCHEMY_URI WAREHOUSE BROKERS PREFIX TOPIC[,TOPIC...] [PROPS_JSON]

PROPS_JSON: PyIceberg catalog properties for an s3:// warehouse (s3.endpoint, s3.region,
s3.access-key-id, s3.secret-access-key); DuckDB gets the same as an S3 secret (path-style URLs).
"""
import json
import re
import sys
from urllib.parse import urlparse

import duckdb
import pyarrow.compute as pc
from confluent_kafka import Consumer, TopicPartition
from pyiceberg.catalog.sql import SqlCatalog


def snake(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def from_topics(brokers, prefix, topics):
    out = {}
    c = Consumer({"bootstrap.servers": brokers, "group.id": "everytable-check", "enable.auto.commit": False,
                  "isolation.level": "read_committed"})
    for topic in topics:
        meta = c.list_topics(prefix + topic, timeout=10)
        seen = set()
        for p in sorted(meta.topics[prefix + topic].partitions):
            lo, hi = c.get_watermark_offsets(TopicPartition(prefix + topic, p), timeout=10)
            if hi <= lo:
                continue
            c.assign([TopicPartition(prefix + topic, p, lo)])
            while True:
                m = c.poll(10)
                if m is None:
                    raise SystemExit(f"no record from {topic}/{p} before its end {hi}")
                if m.error():
                    continue
                headers = dict(m.headers() or [])
                value = m.value() or b""
                if len(value) < 5 or value[0] != 0:
                    table = f"{topic}._dead_letters"
                else:
                    event_id = headers.get("event_id")
                    if event_id in seen:
                        if m.offset() >= hi - 1:
                            break
                        continue
                    seen.add(event_id)
                    table = f"{topic}.{snake(headers['event_type'].decode().rsplit('.', 1)[-1])}"
                rows, offsets = out.get(table, (0, 0))
                out[table] = (rows + 1, offsets + m.offset())
                if m.offset() >= hi - 1:
                    break
    c.close()
    return out


def main():
    name, uri, warehouse, brokers, prefix, topics = sys.argv[1:7]
    props = json.loads(sys.argv[7]) if len(sys.argv) > 7 else {}
    topics = topics.split(",")
    cat = SqlCatalog(name, uri=uri, warehouse=warehouse, **props)
    con = duckdb.connect()
    con.execute("LOAD iceberg")
    if "s3.endpoint" in props:
        endpoint = urlparse(props["s3.endpoint"])
        con.execute("LOAD httpfs")
        con.execute(
            "CREATE SECRET lake (TYPE S3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
            [props["s3.access-key-id"], props["s3.secret-access-key"], props.get("s3.region", "us-east-1"),
             endpoint.netloc, endpoint.scheme == "https"])
    result = {}
    for table, counted in from_topics(brokers, prefix, topics).items():
        result.setdefault(table, {})["topics"] = list(counted)
    for ns in topics:
        for ident in cat.list_tables(ns):
            table = ".".join(ident)
            tbl = cat.load_table(ident)
            arrow = tbl.scan(selected_fields=("_kafka_offset",)).to_arrow()
            offsets = arrow.column("_kafka_offset")
            result.setdefault(table, {})["pyiceberg"] = [arrow.num_rows, int(pc.sum(offsets).as_py() or 0)]
            rows, total = con.execute(
                "SELECT count(*), coalesce(sum(_kafka_offset), 0) FROM iceberg_scan(?)", [tbl.metadata_location]).fetchone()
            result[table]["duckdb"] = [rows, int(total)]
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
