// Package schemas holds the Avro contract of storeline's events: one .avsc per event, by topic.
// Partners read these files (and the registry) as the source of truth.
package schemas

import "embed"

// FS holds every .avsc file, by topic folder.
//
//go:embed */*.avsc
var FS embed.FS
