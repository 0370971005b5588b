// Package icebergsink consumes storeline's topics (commerce, publication, sync) into Iceberg
// tables, one per event type, exactly once, through an Iceberg catalog (iceberg-go's SQL catalog
// in PostgreSQL by default, or a REST catalog) on a local or S3 warehouse.
//
// # Tables
//
// The namespace is the topic, the table the event type in snake case: OrderCreated on commerce is
// commerce.order_created. Its columns are the fields of the event's Avro schema as the writer
// registered it (package lakeschema: records become structs, arrays lists, decimals decimals,
// timestamps timestamptz), all optional, then the metadata columns _kafka_topic,
// _kafka_partition, _kafka_offset, _kafka_timestamp, _event_id, _schema_id, _ingested_at and
// _occurred_at (envelope.occurred_at), partitioned by day(_occurred_at); Parquet with zstd.
//
// A record the sink cannot write to its event's table goes to its namespace's _dead_letters
// table with its raw key, value and headers, where it was in the log, the reason and the error:
// undecodable (not Avro in the wire format, or bytes its schema does not read), unknown_schema
// (an id the registry does not have), incompatible_schema (its schema changes the type of a
// column the table has, or maps to no table), invalid_event (no envelope with an event id and an
// occurred_at). The sink goes on.
//
// # Schema evolution
//
// The sink follows the writer's schema, not this binary's: a record written with a newer
// version of an event that has a new optional field is decoded with that version (the registry
// has it), the column is added to the table (UnionByNameWith) in the commit that first writes
// such a row, and rows written before read it as null. Nothing restarts.
//
// # Exactly once
//
// The tables are the only record of progress. Each table has an offsets marker for the sink's
// consumer group: the JSON map {topic: {partition: next offset}} of its topic's partitions, with
// the promise that every record below the offset that belongs in the table is in it. It is in
// the summary of every snapshot the sink commits (property storeline.kafka.offsets.<group>) and
// mirrored in a table property of the same name, which survives snapshot expiry and moves alone
// when the marker of a table that got no rows is advanced (CommittedOffsets takes the greater).
// Kafka's committed group offsets are written after each commit for lag tooling only and never
// read.
//
//   - Assignment. The sink loads every table of the assigned topics' namespaces and seeks each
//     partition to the least offset their markers hold (the start of the log if one has none), so
//     every table gets every record it lacks; a record a table already holds (below its marker)
//     is not written to it again.
//   - Batch. Records are buffered per table as their wire bytes, with the offset each partition
//     started from. Every record advances its partition. Before writing, dedup.Store drops the
//     later copies of an event id (a redelivered webhook), deterministically across replays.
//   - Commit, every CommitInterval, at MaxBufferedRows, on partition revoke and on shutdown (an
//     idle interval commits nothing). Per table, event tables first and dead-letter tables last:
//     create it if missing (with a marker that starts where the batch started), add the columns
//     the batch's schemas bring, decode the rows into Arrow, write data files with
//     table.WriteRecords (which commits nothing), then one transaction asserts the branch head is
//     still the snapshot it was checked against (compare-and-swap, no replay), sets the mirrored
//     property and appends the files with the marker and a commit id in the summary. Then tables
//     of the batch's topics that got no rows have their marker advanced if it lacks one of the
//     batch's partitions or has not moved for MarkerInterval (a property change, no snapshot: an
//     idle table makes no snapshot).
//   - Conflict. If the swap fails, or its outcome is unknown, the sink reloads the table. If a
//     snapshot with its commit id is there, the commit landed. Otherwise, if every partition of
//     the batch still has the offset the sink knew, the same files are committed again on the
//     new head with a recomputed map (another sink instance committed other partitions). If not,
//     another writer (a member that owned the partition before a rebalance) committed those
//     records first: the rest of the batch is discarded, its files are left for orphan-file
//     cleanup, and the sink rejoins the group to re-seek from the tables.
//
// A crash at any point leaves each table with the batch's rows and its offsets, or neither, so a
// restart consumes from exactly where the least advanced table ends and writes each table only
// what it lacks. BlockRebalanceOnPoll keeps a rebalance from cutting a poll's processing in half,
// and the revoke callback commits before partitions move.
package icebergsink
