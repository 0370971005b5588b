// Package schemas holds the Avro contract of storeline's events: one .avsc per event, by topic,
// records shared by a topic's events in <topic>/types, records shared by every topic in types/.
// Partners read these files (and the registry) as the source of truth; CONVENTIONS.md says how
// to write one.
package schemas

import "embed"

// FS holds every .avsc file: types/, <topic>/ and <topic>/types/.
//
//go:embed */*.avsc */types/*.avsc
var FS embed.FS
