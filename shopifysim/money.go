package shopifysim

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in the shop currency's minor unit (cents). The simulator's currencies all
// have two decimals, so every amount it shows is exact: "49.00", never 49.0 or a float.
type Money int64

// String formats the amount as Shopify does in REST payloads and GraphQL MoneyV2.amount:
// "49.00", "0.00", "-3.45".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Cents is the amount in minor units.
func (m Money) Cents() int64 { return int64(m) }

// ParseMoney reads a decimal amount with at most two decimals ("49", "49.5", "49.00").
func ParseMoney(s string) (Money, error) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(body, ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, fmt.Errorf("shopifysim: %q is not an amount with at most two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("shopifysim: amount %q: %w", s, err)
	}
	if neg {
		v = -v
	}
	return Money(v), nil
}

// percentOf returns m × basisPoints / 10000 rounded half away from zero, so tax and discounts
// are whole cents as Shopify computes them.
func percentOf(m Money, basisPoints int64) Money {
	v := int64(m) * basisPoints
	if v >= 0 {
		return Money((v + 5000) / 10000)
	}
	return Money(-((-v + 5000) / 10000))
}

// share returns m × num / den rounded half away from zero: the part of an amount a partial
// refund takes back.
func share(m Money, num, den int) Money {
	if den == 0 {
		return 0
	}
	v := int64(m) * int64(num)
	d := int64(den)
	if v >= 0 {
		return Money((2*v + d) / (2 * d))
	}
	return Money(-((-2*v + d) / (2 * d)))
}
