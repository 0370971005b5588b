package schemas

import (
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

func TestCompatibleRefusesLogicalTypeChanges(t *testing.T) {
	record := func(fieldType string) avro.Schema {
		return avro.MustParse(`{"type":"record","name":"R","fields":[{"name":"f","type":` + fieldType + `}]}`)
	}
	const (
		dec204    = `{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}`
		dec202    = `{"type":"bytes","logicalType":"decimal","precision":20,"scale":2}`
		dec304    = `{"type":"bytes","logicalType":"decimal","precision":30,"scale":4}`
		tsMillis  = `{"type":"long","logicalType":"timestamp-millis"}`
		tsMicros  = `{"type":"long","logicalType":"timestamp-micros"}`
		optMicros = `["null",` + tsMicros + `]`
		optMillis = `["null",` + tsMillis + `]`
		money     = `{"type":"record","name":"M","fields":[{"name":"a","type":` + dec204 + `}]}`
		moneyS2   = `{"type":"record","name":"M","fields":[{"name":"a","type":` + dec202 + `}]}`
	)
	for _, tc := range []struct {
		name           string
		reader, writer string
		ok             bool
	}{
		{"same decimal", dec204, dec204, true},
		{"wider precision", dec304, dec204, true},
		{"narrower precision", dec204, dec304, false},
		{"scale changed", dec202, dec204, false},
		{"millis read as micros", tsMicros, tsMillis, false},
		{"logical type dropped", `"long"`, tsMicros, false},
		{"logical type added", tsMicros, `"long"`, false},
		{"optional timestamp changed", optMicros, optMillis, false},
		{"optional reads plain", optMicros, tsMicros, true},
		{"nested record scale", moneyS2, money, false},
		{"array of decimals", `{"type":"array","items":` + dec202 + `}`, `{"type":"array","items":` + dec204 + `}`, false},
	} {
		err := Compatible(record(tc.reader), record(tc.writer))
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want compatible=%v", tc.name, err, tc.ok)
		}
		if err != nil && !tc.ok && !strings.Contains(err.Error(), "f") {
			t.Errorf("%s: the reason does not name the field: %v", tc.name, err)
		}
	}
}
