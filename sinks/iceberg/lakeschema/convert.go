package lakeschema

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// pow10 holds 10^0 .. 10^18, the powers of ten an int64 holds.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// bigPow10 holds 10^0 .. 10^38.
var bigPow10 = func() (p [39]*big.Int) {
	for i := range p {
		p[i] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(i)), nil)
	}
	return p
}()

var (
	errDecimalPlaces = errors.New("has more decimal places than the column's scale")
	errDecimalDigits = errors.New("has more digits than the column's precision")
)

// toDecimal128 converts r exactly to a decimal(prec, scale): an amount with more decimal places
// than scale or more digits than prec is an error, never rounded. Amounts whose numerator and
// denominator fit in an int64 (every money amount) take an allocation-free path.
func toDecimal128(r *big.Rat, prec, scale int32) (decimal128.Num, error) {
	if prec < 1 || prec > 38 || scale < 0 || scale > prec {
		return decimal128.Num{}, fmt.Errorf("decimal(%d,%d) is not a valid column type", prec, scale)
	}
	num, den := r.Num(), r.Denom()
	if scale <= 18 && num.IsInt64() && den.IsInt64() {
		d := den.Int64()
		p := pow10[scale]
		if p%d != 0 {
			return decimal128.Num{}, errDecimalPlaces
		}
		n, m := num.Int64(), p/d
		abs := uint64(n)
		if n < 0 {
			abs = uint64(-n) // n = MinInt64 gives 1<<63, which is right as uint64
		}
		hi, lo := bits.Mul64(abs, uint64(m))
		if hi == 0 && lo <= math.MaxInt64 {
			u := int64(lo)
			if prec <= 18 && u >= pow10[prec] {
				return decimal128.Num{}, errDecimalDigits
			}
			if n < 0 {
				u = -u
			}
			return decimal128.FromI64(u), nil
		}
	}
	q, rem := new(big.Int).QuoRem(bigPow10[scale], den, new(big.Int))
	if rem.Sign() != 0 {
		return decimal128.Num{}, errDecimalPlaces
	}
	u := q.Mul(q, num)
	if u.CmpAbs(bigPow10[prec]) >= 0 {
		return decimal128.Num{}, errDecimalDigits
	}
	return decimal128.FromBigInt(u), nil
}

// toTimestamp converts t to a count of unit since the epoch. For a column without zone
// (Iceberg timestamp, Avro local-timestamp-*) the value is t's wall clock read as UTC: hamba
// decodes local-timestamp-micros into a time in time.Local whose wall clock is the stored one.
// Finer digits than the unit are truncated.
func toTimestamp(t time.Time, unit arrow.TimeUnit, wallClock bool) (arrow.Timestamp, error) {
	if wallClock {
		if _, off := t.Zone(); off != 0 {
			t = t.Add(time.Duration(off) * time.Second)
		}
	}
	switch unit {
	case arrow.Second:
		return arrow.Timestamp(t.Unix()), nil
	case arrow.Millisecond:
		return arrow.Timestamp(t.UnixMilli()), nil
	case arrow.Microsecond:
		return arrow.Timestamp(t.UnixMicro()), nil
	default:
		if t.Year() < 1678 || t.Year() > 2261 {
			return 0, fmt.Errorf("%s is out of the range of nanosecond timestamps", t.Format(time.RFC3339))
		}
		return arrow.Timestamp(t.UnixNano()), nil
	}
}

// toDate converts t, a date from hamba (midnight UTC), to days since the epoch. A time that is
// not at midnight on its wall clock is a timestamp, not a date, and an error.
func toDate(t time.Time) (arrow.Date32, error) {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	if h != 0 || mi != 0 || s != 0 || t.Nanosecond() != 0 {
		return 0, fmt.Errorf("%s is not a date (not midnight)", t.Format(time.RFC3339Nano))
	}
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	if days < math.MinInt32 || days > math.MaxInt32 {
		return 0, fmt.Errorf("date %s is out of range", t.Format(time.DateOnly))
	}
	return arrow.Date32(days), nil
}

// toTimeOfDay converts d, a time-millis or time-micros from hamba, to a Time64 of unit.
func toTimeOfDay(d time.Duration, unit arrow.TimeUnit) (arrow.Time64, error) {
	if d < 0 || d >= 24*time.Hour {
		return 0, fmt.Errorf("time of day %s is outside [0, 24h)", d)
	}
	if unit == arrow.Nanosecond {
		return arrow.Time64(d.Nanoseconds()), nil
	}
	return arrow.Time64(d.Microseconds()), nil
}
