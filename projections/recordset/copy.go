package recordset

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
)

// Stage is a session temporary table a batch's rows of one kind are copied into (COPY, binary
// format) for the statement that writes them to read: Postgres takes binary COPY rows for a
// fraction of what parsing the same rows out of a JSON array costs. Its columns are typed like a
// Recordset clause's, so the statements reading it convert exactly as they would from JSON.
//
// The table lives as long as the connection and is emptied at every commit (ON COMMIT DELETE
// ROWS); PrepareStages also empties it, so a table still holding the rows of an earlier write in the
// same transaction does not feed them to this one.
type Stage struct {
	// Name is the temporary table's name. Temporary tables come first in every search path: it
	// must not be the name of a table of any schema.
	Name    string
	Columns Columns
}

// From is the FROM item reading the staged rows as alias.
func (s Stage) From(alias string) string { return "pg_temp." + s.Name + " AS " + alias }

// PrepareStages creates the stages missing in the session and empties them, in one round trip.
func PrepareStages(ctx context.Context, tx pgx.Tx, stages ...Stage) error {
	var b strings.Builder
	for _, s := range stages {
		b.WriteString("CREATE TEMP TABLE IF NOT EXISTS " + s.Name + " (")
		for i, c := range s.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name() + " " + c.Type())
		}
		b.WriteString(") ON COMMIT DELETE ROWS;\n")
	}
	for _, s := range stages {
		b.WriteString("DELETE FROM pg_temp." + s.Name + ";\n")
	}
	if _, err := tx.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("prepare staging tables: %w", err)
	}
	return nil
}

// Writer returns a writer of rows of s.
func (s Stage) Writer() *CopyWriter {
	return Table{Name: "pg_temp." + s.Name, Columns: s.Columns}.Writer()
}

// Table is a table rows are copied into, with the columns copied.
type Table struct {
	Name    string // as SQL names it: resolved in the search path unless qualified
	Columns Columns
}

// Writer returns a writer of rows of t.
func (t Table) Writer() *CopyWriter { return &CopyWriter{table: t} }

// Copy sends w's rows into its table; nothing when there are none. An error of the rows' data
// that Go finds (a value its column cannot hold) is an *InvalidValueError.
func (w *CopyWriter) Copy(ctx context.Context, tx pgx.Tx) error {
	t := w.table
	if w.sent {
		return fmt.Errorf("copy into %s: rows already sent", t.Name)
	}
	w.sent = true
	if w.rows > 0 {
		w.endRow()
	}
	if w.err != nil {
		return fmt.Errorf("copy into %s: %w", t.Name, w.err)
	}
	if w.rows == 0 {
		return nil
	}
	w.buf = binary.BigEndian.AppendUint16(w.buf, 0xffff) // the end of the rows
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(w.buf), "COPY "+t.Name+" ("+t.Columns.Names("")+") FROM STDIN (FORMAT binary)")
	if err != nil {
		return fmt.Errorf("copy into %s: %w", t.Name, err)
	}
	if tag.RowsAffected() != int64(w.rows) {
		return fmt.Errorf("copy into %s: %d rows, want %d", t.Name, tag.RowsAffected(), w.rows)
	}
	return nil
}

// CopyWriter encodes rows in COPY's binary format: Row starts a row, then one method call per
// column, in the table's column order, with the column's type. Values are encoded as Postgres
// would read them from the JSON of a Recordset clause (strings as encoding/json writes them,
// amounts as Decimal renders them, times to the microsecond).
type CopyWriter struct {
	table  Table
	buf    []byte
	rows   int
	fields int // fields of the current row
	count  int // position of the current row's field count in buf
	err    error
	sent   bool
}

var copyHeader = []byte("PGCOPY\n\377\r\n\000\x00\x00\x00\x00\x00\x00\x00\x00")

// Rows is the number of rows written.
func (w *CopyWriter) Rows() int { return w.rows }

// Row starts a row.
func (w *CopyWriter) Row() {
	if w.buf == nil {
		w.buf = append(make([]byte, 0, 64<<10), copyHeader...)
	}
	if w.rows > 0 {
		w.endRow()
	}
	w.rows++
	w.count = len(w.buf)
	w.buf = append(w.buf, 0, 0)
	w.fields = 0
}

func (w *CopyWriter) endRow() {
	if w.fields != len(w.table.Columns) {
		w.fail(fmt.Errorf("a row of %d fields, want %d", w.fields, len(w.table.Columns)))
	}
	binary.BigEndian.PutUint16(w.buf[w.count:], uint16(w.fields))
}

func (w *CopyWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// field appends a field's length and counts it; the caller appends its n bytes.
func (w *CopyWriter) field(n int) {
	w.fields++
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(int32(n)))
}

// Null writes NULL.
func (w *CopyWriter) Null() { w.field(-1) }

// Int8 writes a bigint.
func (w *CopyWriter) Int8(v int64) {
	w.field(8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(v))
}

// OptInt8 writes a bigint or NULL.
func (w *CopyWriter) OptInt8(v *int64) {
	if v == nil {
		w.Null()
		return
	}
	w.Int8(*v)
}

// Int4 writes an int.
func (w *CopyWriter) Int4(v int32) {
	w.field(4)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(v))
}

// OptInt4 writes an int or NULL.
func (w *CopyWriter) OptInt4(v *int32) {
	if v == nil {
		w.Null()
		return
	}
	w.Int4(*v)
}

// Bool writes a boolean.
func (w *CopyWriter) Bool(v bool) {
	w.field(1)
	if v {
		w.buf = append(w.buf, 1)
	} else {
		w.buf = append(w.buf, 0)
	}
}

// OptBool writes a boolean or NULL.
func (w *CopyWriter) OptBool(v *bool) {
	if v == nil {
		w.Null()
		return
	}
	w.Bool(*v)
}

// Text writes a text. Invalid UTF-8 becomes U+FFFD byte by byte, as encoding/json does.
func (w *CopyWriter) Text(s string) {
	w.field(0)
	at := len(w.buf)
	w.buf = appendValidUTF8(w.buf, s)
	binary.BigEndian.PutUint32(w.buf[at-4:], uint32(len(w.buf)-at))
}

// OptText writes a text or NULL.
func (w *CopyWriter) OptText(s *string) {
	if s == nil {
		w.Null()
		return
	}
	w.Text(*s)
}

// TextArray writes a text[]: nil as an empty array, as NonNil does.
func (w *CopyWriter) TextArray(ss []string) {
	w.field(0)
	at := len(w.buf)
	if len(ss) == 0 {
		w.buf = binary.BigEndian.AppendUint32(w.buf, 0)  // dimensions
		w.buf = binary.BigEndian.AppendUint32(w.buf, 0)  // no NULL
		w.buf = binary.BigEndian.AppendUint32(w.buf, 25) // element type: text
	} else {
		w.buf = binary.BigEndian.AppendUint32(w.buf, 1)
		w.buf = binary.BigEndian.AppendUint32(w.buf, 0)
		w.buf = binary.BigEndian.AppendUint32(w.buf, 25)
		w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(ss)))
		w.buf = binary.BigEndian.AppendUint32(w.buf, 1) // lower bound
		for _, s := range ss {
			n := len(w.buf)
			w.buf = append(w.buf, 0, 0, 0, 0)
			w.buf = appendValidUTF8(w.buf, s)
			binary.BigEndian.PutUint32(w.buf[n:], uint32(len(w.buf)-n-4))
		}
	}
	binary.BigEndian.PutUint32(w.buf[at-4:], uint32(len(w.buf)-at))
}

// JSONB writes a jsonb from JSON text (as encoding/json writes it: valid UTF-8).
func (w *CopyWriter) JSONB(js []byte) {
	w.field(len(js) + 1)
	w.buf = append(w.buf, 1) // jsonb's binary format version
	w.buf = append(w.buf, js...)
}

// UUID writes a uuid given as text; text that is not one fails the copy with an error of the
// records (Postgres's own for the value).
func (w *CopyWriter) UUID(s string) {
	u, err := uuid.Parse(s)
	if err != nil || len(s) == 45 { // 45: urn:uuid:..., which Postgres does not read
		w.fail(&InvalidValueError{Type: "uuid", Value: s})
		w.Null()
		return
	}
	w.field(16)
	w.buf = append(w.buf, u[:]...)
}

// pgEpochMicros is 2000-01-01 UTC, the epoch of Postgres's timestamps, in Unix microseconds.
const pgEpochMicros = 946_684_800_000_000

// Time writes a timestamptz, to the nearest microsecond as Postgres reads a time's text.
func (w *CopyWriter) Time(t time.Time) {
	t = t.Round(time.Microsecond)
	w.field(8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, uint64(t.UnixMicro()-pgEpochMicros))
}

// OptTime writes a timestamptz or NULL.
func (w *CopyWriter) OptTime(t *time.Time) {
	if t == nil {
		w.Null()
		return
	}
	w.Time(*t)
}

// Decimal writes r as a numeric with the 4 decimal places of Decimal (nil as 0).
func (w *CopyWriter) Decimal(r *big.Rat) {
	w.field(0)
	at := len(w.buf)
	if v, ok := scaled4(r); ok {
		w.buf = appendNumeric4(w.buf, v)
	} else {
		w.buf = appendNumericString(w.buf, Decimal(r))
	}
	binary.BigEndian.PutUint32(w.buf[at-4:], uint32(len(w.buf)-at))
}

// Amount writes money's amount as a numeric (Amount).
func (w *CopyWriter) Amount(m events.Money) { w.Decimal(m.Amount) }

// OptAmount writes an optional amount, or NULL.
func (w *CopyWriter) OptAmount(m *events.Money) {
	if m == nil {
		w.Null()
		return
	}
	w.Decimal(m.Amount)
}

// InvalidValueError is a value its column's type cannot hold: an error of the record's data.
type InvalidValueError struct{ Type, Value string }

func (e *InvalidValueError) Error() string {
	return fmt.Sprintf("invalid input syntax for type %s: %q", e.Type, e.Value)
}

// scaled4 is r × 10⁴ when that is an integer within ±(2⁶³−1) and r's denominator divides 10⁴:
// every amount the event schemas can carry (4 decimal places at most).
func scaled4(r *big.Rat) (int64, bool) {
	if r == nil {
		return 0, false // Decimal's "0": no decimal places
	}
	num, den := r.Num(), r.Denom()
	if !num.IsInt64() || !den.IsInt64() {
		return 0, false
	}
	n, d := num.Int64(), den.Int64()
	if d <= 0 || 10000%d != 0 {
		return 0, false
	}
	f := 10000 / d
	if n > math.MaxInt64/f || n < -math.MaxInt64/f {
		return 0, false
	}
	return n * f, true
}

// numeric's binary format: digit count, weight (of the first digit, in base 10000), sign,
// display scale, then the base-10000 digits.
const (
	numericPos = 0x0000
	numericNeg = 0x4000
)

// appendNumeric4 appends v / 10⁴ with display scale 4.
func appendNumeric4(b []byte, v int64) []byte {
	sign := uint16(numericPos)
	u := uint64(v)
	if v < 0 {
		sign, u = numericNeg, uint64(-v) // -MinInt64 is not scaled4's
	}
	frac := uint16(u % 10000)
	u /= 10000
	var digits [6]uint16 // 2⁶³/10⁴ < 10000⁴: at most 4 integer digits and the fraction
	n := 0
	for ; u > 0; u /= 10000 {
		digits[n] = uint16(u % 10000)
		n++
	}
	// digits[n-1..0] is the integer part, most significant first.
	intDigits := n
	weight := int16(intDigits - 1)
	var out [6]uint16
	k := 0
	for i := n - 1; i >= 0; i-- {
		out[k] = digits[i]
		k++
	}
	if frac != 0 {
		out[k] = frac
		k++
	}
	// Strip leading zero digits (none: the first integer digit is nonzero) and trailing ones.
	for k > 0 && out[k-1] == 0 {
		k--
	}
	if intDigits == 0 {
		weight = -1
	}
	if k == 0 {
		weight, sign = 0, numericPos
	}
	b = binary.BigEndian.AppendUint16(b, uint16(k))
	b = binary.BigEndian.AppendUint16(b, uint16(weight))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, 4)
	for _, d := range out[:k] {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

// appendNumericString appends a decimal as Decimal renders it ("-123.4500": digits, a point,
// 4 decimal places), whatever its size.
func appendNumericString(b []byte, s string) []byte {
	sign := uint16(numericPos)
	if strings.HasPrefix(s, "-") {
		sign, s = numericNeg, s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	dscale := len(fp)
	ip = strings.TrimLeft(ip, "0")
	// Pad the integer part to whole base-10000 digits, the fraction likewise.
	if r := len(ip) % 4; r != 0 {
		ip = strings.Repeat("0", 4-r) + ip
	}
	if r := len(fp) % 4; r != 0 {
		fp += strings.Repeat("0", 4-r)
	}
	var digits []uint16
	for i := 0; i < len(ip); i += 4 {
		digits = append(digits, digit4(ip[i:i+4]))
	}
	weight := len(digits) - 1
	for i := 0; i < len(fp); i += 4 {
		digits = append(digits, digit4(fp[i:i+4]))
	}
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight, sign = 0, numericPos
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

func digit4(s string) uint16 {
	var d uint16
	for i := 0; i < 4; i++ {
		d = d*10 + uint16(s[i]-'0')
	}
	return d
}

// appendValidUTF8 appends s with each byte of an invalid UTF-8 sequence replaced by U+FFFD, as
// encoding/json writes strings.
func appendValidUTF8(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
