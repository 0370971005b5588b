// Package lakeschema maps storeline's Avro event schemas to Iceberg table schemas, one table per
// event type, and appends generically decoded Avro values (hamba/avro/v2: avro.Unmarshal into
// an any) to Arrow records of such a table, ready for table.WriteRecords.
//
// # Table layout
//
// A table has one optional column per field of the event's record, then the metadata columns
// ColKafkaTopic … ColOccurredAt (required). Every Avro-derived column, nested ones included,
// is optional, so adding or removing an Avro field never breaks a required column; evolve a
// table with UpdateSchema().UnionByNameWith(Schema(rec)) after checking Compatible. The table is
// partitioned by day(_occurred_at) (PartitionSpec).
//
// # Type mapping (Schema)
//
//	Avro                                     Iceberg                Arrow (SchemaToArrowSchema)
//	record                                   struct (recursively)   struct
//	array                                    list (element optional) list
//	map                                      map<string, V> (value optional) map
//	["null", X] (either order)               optional X
//	union of several non-null branches       struct, one optional field per branch (below)
//	enum                                     string                 utf8
//	fixed(n)                                 fixed[n]               fixed_size_binary(n)
//	bytes                                    binary                 binary
//	bytes/fixed decimal(p,s), p ≤ 38         decimal(p,s)           decimal128(p,s)
//	int, long                                int, long              int32, int64
//	float, double, boolean, string           float, double, boolean, string
//	string uuid                              string                 utf8
//	int date                                 date                   date32
//	int time-millis, long time-micros        time                   time64[us]
//	long timestamp-millis/micros             timestamptz            timestamp[us, UTC]
//	long local-timestamp-millis/micros       timestamp (no zone)    timestamp[us]
//
// Errors (no Iceberg equivalent): decimal precision above 38, fixed duration, a field of type
// null or a union of null alone, a recursive record, a field named like a metadata column, two
// union branches that would get the same column name.
//
// A uuid stays a string: Iceberg's uuid type is a 16-byte fixed in Parquet, which Spark reads
// as binary, Trino as uuid and DuckDB/PyIceberg variously; a string reads the same everywhere.
//
// A union of several non-null branches becomes a struct with one field per branch, exactly one
// of them set in a row (all null when the union holds null). A branch's field is named by
// BranchName: the Avro type name lower-cased (boolean, int, long, float, double, bytes, string,
// array, map; a logical type keeps its underlying type's name, so a timestamp-micros branch is
// long), or the short name lower-cased for a record, enum or fixed (storeline.Money → money).
// This is how Spark's Avro reader maps such unions, with its stable union identifiers option
// (enableStableIdentifiersForUnionType, which names the fields member_<lower-cased type name>;
// Spark's default names them member0, member1, … by position); storeline leaves out the
// member_ prefix, and names stay stable when branches are added or reordered.
//
// Field ids are 1.. in order: the top-level columns, then the children of each struct, list
// and map (the catalog reassigns them at create; evolution matches by name). Avro field docs
// become column docs.
//
// # Values (Builder)
//
// Builder.Append takes the map[string]any hamba/avro/v2 (v2.31.0) returns for a record when
// decoding into an any. The Go types it returns, read from its codec_generic.go, resolver.go
// and codec_union.go and pinned by TestHambaGenericDecodeTypes:
//
//	boolean → bool; int → int; long → int64; float → float32; double → float64
//	string, string uuid, enum → string; bytes → []byte; fixed(n) → [n]byte
//	bytes decimal, fixed decimal → *big.Rat; fixed duration → avro.LogicalDuration
//	int date, long timestamp-*, long local-timestamp-* → time.Time
//	  (UTC, except local-timestamp-*: a time in time.Local whose wall clock is the stored value)
//	int time-millis, long time-micros → time.Duration
//	record → map[string]any; array → []any; map → map[string]any
//	union: nil for null; otherwise, when hamba's type resolver knows every branch (the
//	  primitives, date, time-*, timestamp-*, bytes decimal, uuid), the branch's value as above
//	  (so ["null","int"] gives int, ["null","long"] int64); when it knows not every branch (a
//	  record, enum, fixed, array, map or local-timestamp-* branch), map[string]any with one
//	  entry, keyed by the branch's full name, type.logicalType, array or map:
//	  ["null","storeline.Money"] gives map[string]any{"storeline.Money": map[string]any{…}}.
//
// Builder compiles one appender per column (recursively) from the Arrow schema once, each
// type-switching on the Go types above; it never uses reflection except for fixed values,
// whose array length is part of their type. Columns accept: int32 ← int, int32 (in range);
// int64 ← int64, int, int32 (int→long promotion); float64 ← float64, float32; decimal ←
// *big.Rat, exactly (more decimal places than the scale or more digits than the precision is an
// error, never rounded); date ← a time.Time at midnight; time ← time.Duration in [0, 24h);
// timestamptz ← time.Time (its instant); timestamp ← time.Time (its wall clock); fixed(n) ←
// [n]byte or []byte of length n; list ← []any or {"array": []any}; map ← map[string]any or
// {"map": map[string]any} (read as the union-with-null form when its values fit the column);
// struct ← a record map, a {fullname: record} wrapper, or a union value in either form.
// Timestamps keep microseconds: finer digits are truncated (hamba never produces them).
// Columns of other Arrow types (e.g. Iceberg uuid, large types) take only nulls.
//
// A value field the table lacks is an error (evolve the table first) rather than silently
// dropped; a column the value lacks is null.
//
// Known ambiguities of the generic form, resolved by checking which reading fits: a struct
// column given {"ns.Rec": {…}} where the struct both has a branch rec and is itself a record
// Rec; a map column given {"map": {…}} whose values are maps or records; a time.Time for a
// union holding both a date and a timestamp branch (the long branch is tried first).
package lakeschema
