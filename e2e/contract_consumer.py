"""A partner's consumer: reads storeline's topics with confluent-kafka and its Schema Registry
Avro deserializer, using only the registry URL, and checks every field of every event against
what the Go side says it wrote.

usage: contract_consumer.py BOOTSTRAP REGISTRY_URL EXPECTED_JSON
EXPECTED_JSON: [{"topic", "event_type", "event_id", "value"}] with values normalised as
events/eventstest.Normal does. Prints a JSON report; exits 1 on any difference.
"""
import base64
import datetime
import decimal
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def normal(v):
    """Normalise fastavro's decoded values as eventstest.Normal does on the Go side."""
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items()}
    if isinstance(v, list):
        return [normal(x) for x in v]
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        return (v - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    return v


def diff(path, want, got, out):
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            if k not in got:
                out.append(f"{path}.{k}: missing")
            elif k not in want:
                out.append(f"{path}.{k}: unexpected field")
            else:
                diff(f"{path}.{k}", want[k], got[k], out)
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got)):
            diff(f"{path}[{i}]", w, g, out)
    elif want != got:
        out.append(f"{path}: want {want!r}, got {got!r}")


def main():
    bootstrap, registry_url, expected_path = sys.argv[1:4]
    expected = {e["event_id"]: e for e in json.load(open(expected_path))}
    topics = sorted({e["topic"] for e in expected.values()})

    deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"contract-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe(topics)
    seen, problems, schema_ids = {}, [], set()
    deadline = time.monotonic() + 90
    try:
        while len(seen) < len(expected) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    problems.append(f"consume error: {msg.error()}")
                continue
            headers = {k: v.decode() for k, v in (msg.headers() or [])}
            schema_ids.add(int.from_bytes(msg.value()[1:5], "big"))
            value = deserialize(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
            event_id = value["envelope"]["event_id"]
            want = expected.get(str(event_id))
            if want is None:
                continue
            seen[str(event_id)] = True
            where = want["event_type"]
            if headers.get("event_type") != want["event_type"]:
                problems.append(f"{where}: header event_type {headers.get('event_type')!r}")
            if headers.get("event_id") != want["event_id"]:
                problems.append(f"{where}: header event_id {headers.get('event_id')!r}")
            if "traceparent" not in headers:
                problems.append(f"{where}: no traceparent header")
            if msg.key().decode() != want["value"]["envelope"]["aggregate_id"]:
                problems.append(f"{where}: key {msg.key()!r} is not the aggregate id")
            diff(where, want["value"], normal(value), problems)
    finally:
        consumer.close()
    missing = sorted(expected[e]["event_type"] for e in set(expected) - set(seen))
    for m in missing:
        problems.append(f"{m}: never read")
    print(json.dumps({"read": len(seen), "expected": len(expected), "schema_ids": len(schema_ids),
                      "problems": problems}, indent=1))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
