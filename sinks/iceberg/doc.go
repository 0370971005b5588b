// Package icebergsink consumes the commerce topic into the Iceberg table commerce.orders
// (partitioned by day(created_at), Parquet with zstd), through iceberg-go's SQL catalog in
// PostgreSQL, exactly once.
//
// # Exactly once
//
// The table is the only record of progress. Every snapshot the sink commits carries, in its
// summary property storeline.kafka.offsets.<group>, the JSON map {topic: {partition: next
// offset}} of every partition that ever fed the table: the parent snapshot's map overlaid with
// the batch's end offsets. The same value is mirrored in a table property of the same name, which
// survives snapshot expiration. Kafka's committed group offsets are written after each snapshot
// for lag tooling only and never read.
//
//   - Assignment. When the group assigns partitions (kgo.AdjustFetchOffsetsFn), the sink loads
//     the table and seeks each partition to the offset the newest snapshot carrying the property
//     holds (walking the ancestry past compactions; the table property if none is left), or to
//     the start of the log if the table has none.
//   - Batch. Records are buffered with the offset each partition started from. Every record
//     advances its partition, including records that cannot be decoded (logged, counted,
//     skipped) and events of other types. Before writing, dedup.Store.FirstOccurrences drops the
//     later copies of an event id (a redelivered webhook), deterministically across replays.
//   - Commit, every CommitInterval, at MaxBufferedRows, on partition revoke and on shutdown (an
//     idle interval commits nothing). The rows are written as data files with
//     table.WriteRecords, which commits nothing; then one transaction asserts the branch head is
//     still the snapshot the batch was checked against (compare-and-swap, no replay), sets the
//     mirrored property, and appends the files (or an empty snapshot when every record was
//     skipped) with the offsets and a commit id in the summary.
//   - Conflict. If the swap fails, or its outcome is unknown, the sink reloads the table. If a
//     snapshot with its commit id is there, the commit landed. Otherwise, if every partition of
//     the batch still has the offset the batch started from, the same files are committed again
//     on the new head with a recomputed map (another sink instance committed other partitions).
//     If not, another writer (a member that owned the partition before a rebalance) committed
//     those records first: the batch is discarded, its files are left for orphan-file cleanup,
//     and the sink rejoins the group to re-seek from the table.
//
// A crash at any point leaves either a snapshot with the batch and its offsets, or neither, so a
// restart consumes from exactly where the table ends. BlockRebalanceOnPoll keeps a rebalance from
// cutting a poll's processing in half, and the revoke callback commits before partitions move.
//
// Any engine reads the table through the same catalog: PyIceberg's SqlCatalog with the same
// catalog name (default "storeline"), uri postgresql+psycopg2://... and the same warehouse.
package icebergsink
