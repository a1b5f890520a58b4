// Package decimal holds exact base-10 numbers exactly as a vendor wrote them.
//
// Prices travel from a vendor's JSON text to a PostgreSQL numeric column without
// ever passing through a float64, so "0.00000001" and "89287.17000000" arrive in
// the database digit for digit, trailing zeros (the scale) included.
package decimal

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// maxScale bounds the digits after the point. PostgreSQL numeric allows 16383;
// no market datum needs more than a few dozen, and a bound keeps hostile input
// from allocating huge coefficients.
const maxScale = 64

// maxDigits bounds the coefficient's length for the same reason.
const maxDigits = 80

// ErrSyntax is returned for text that is not a plain decimal number.
var ErrSyntax = errors.New("decimal: invalid syntax")

// Decimal is coef × 10^-scale. The zero value is 0 with scale 0.
//
// Small coefficients live in an int64; larger ones in a big.Int, so the common
// case costs no allocation.
type Decimal struct {
	small int64
	big   *big.Int // non-nil only when the coefficient does not fit small
	scale int32
}

// Null is a Decimal that may be absent (SQL NULL), e.g. a vendor that sends no turnover.
type Null struct {
	Decimal Decimal
	Valid   bool
}

// Parse reads a decimal such as "-12.3400", "0.00000001" or "1.5E-7". It rejects
// empty text, a leading '+', "NaN", infinities, missing digits on either side of
// the point (".5", "5."), and more than 80 digits or 64 fractional places.
func Parse(s string) (Decimal, error) {
	d, ok := parse(s)
	if !ok {
		return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, clip(s))
	}
	return d, nil
}

// ParseBytes is Parse for text in a byte slice; it does not retain b and,
// for coefficients that fit an int64, does not allocate.
func ParseBytes(b []byte) (Decimal, error) {
	d, ok := parse(b)
	if !ok {
		return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, clip(string(b)))
	}
	return d, nil
}

// MustParse is Parse for constants in tests and tables; it panics on bad input.
func MustParse(s string) Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// parse reads s in one pass without allocating unless the coefficient does
// not fit an int64. It works on the bytes of a JSON body as well as on a
// string, so decoding a bar's prices copies nothing.
func parse[T string | []byte](s T) (Decimal, bool) {
	i, n := 0, len(s)
	neg := n > 0 && s[0] == '-'
	if neg {
		i++
	}
	intStart := i
	for i < n && isDigit(s[i]) {
		i++
	}
	intEnd := i
	if intEnd == intStart {
		return Decimal{}, false
	}
	fracStart, fracEnd := i, i
	if i < n && s[i] == '.' {
		i++
		fracStart = i
		for i < n && isDigit(s[i]) {
			i++
		}
		fracEnd = i
		if fracEnd == fracStart {
			return Decimal{}, false
		}
	}
	exp := 0
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		var ok bool
		if exp, i, ok = readExp(s, i+1); !ok {
			return Decimal{}, false
		}
	}
	if i != n {
		return Decimal{}, false
	}
	// A positive exponent beyond the fraction appends zeros to the coefficient.
	scale := (fracEnd - fracStart) - exp
	zeros := 0
	if scale < 0 {
		zeros, scale = -scale, 0
	}
	if scale > maxScale || (intEnd-intStart)+(fracEnd-fracStart)+zeros > maxDigits {
		return Decimal{}, false
	}
	d := Decimal{scale: int32(scale)}
	u, ok := accumulate(0, s[intStart:intEnd])
	if ok {
		u, ok = accumulate(u, s[fracStart:fracEnd])
	}
	for z := 0; ok && z < zeros; z++ {
		ok = u <= math.MaxUint64/10
		u *= 10
	}
	switch {
	case ok && !neg && u <= math.MaxInt64:
		d.small = int64(u)
		return d, true
	case ok && neg && u <= math.MaxInt64:
		d.small = -int64(u)
		return d, true
	case ok && neg && u == 1<<63:
		d.small = math.MinInt64
		return d, true
	}
	digits := string(s[intStart:intEnd]) + string(s[fracStart:fracEnd]) + strings.Repeat("0", zeros)
	b, okBig := new(big.Int).SetString(digits, 10)
	if !okBig {
		return Decimal{}, false
	}
	if neg {
		b.Neg(b)
	}
	return withBig(d, b), true
}

// readExp reads an exponent's optional sign and 1 to 4 digits from s[i:];
// it returns the exponent and the index after it.
func readExp[T string | []byte](s T, i int) (exp, next int, ok bool) {
	n := len(s)
	neg := false
	if i < n && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	ds := i
	for i < n && isDigit(s[i]) && i-ds < 4 {
		exp = exp*10 + int(s[i]-'0')
		i++
	}
	if neg {
		exp = -exp
	}
	return exp, i, i > ds
}

// accumulate appends the decimal digits ds to u; false on uint64 overflow.
func accumulate[T string | []byte](u uint64, ds T) (uint64, bool) {
	for i := range len(ds) {
		c := uint64(ds[i] - '0')
		if u > (math.MaxUint64-c)/10 {
			return 0, false
		}
		u = u*10 + c
	}
	return u, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// withBig returns d with coefficient b, in the int64 form when it fits so that
// equal values have one representation.
func withBig(d Decimal, b *big.Int) Decimal {
	if b.IsInt64() {
		d.small, d.big = b.Int64(), nil
		return d
	}
	d.small, d.big = 0, b
	return d
}

// New returns coef × 10^-scale. It panics on a negative scale, a wiring bug.
func New(coef int64, scale int32) Decimal {
	if scale < 0 || scale > maxScale {
		panic(fmt.Sprintf("decimal.New: scale %d out of range", scale))
	}
	return Decimal{small: coef, scale: scale}
}

// NewFromBig returns coef × 10^-scale; coef is copied.
func NewFromBig(coef *big.Int, scale int32) Decimal {
	if scale < 0 || scale > maxScale {
		panic(fmt.Sprintf("decimal.NewFromBig: scale %d out of range", scale))
	}
	return withBig(Decimal{scale: scale}, new(big.Int).Set(coef))
}

// Scale is the number of digits after the point, as written.
func (d Decimal) Scale() int32 { return d.scale }

// Coefficient returns the unscaled value as a new big.Int.
func (d Decimal) Coefficient() *big.Int {
	if d.big != nil {
		return new(big.Int).Set(d.big)
	}
	return big.NewInt(d.small)
}

// Sign returns -1, 0 or +1.
func (d Decimal) Sign() int {
	if d.big != nil {
		return d.big.Sign()
	}
	switch {
	case d.small < 0:
		return -1
	case d.small > 0:
		return 1
	}
	return 0
}

// IsZero reports whether d equals 0 at any scale.
func (d Decimal) IsZero() bool { return d.Sign() == 0 }

var pow10 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// Cmp compares values, ignoring scale: Cmp("1.50", "1.5") == 0.
func (d Decimal) Cmp(o Decimal) int {
	if d.big == nil && o.big == nil {
		if d.scale == o.scale {
			return cmpInt64(d.small, o.small)
		}
		// Rescale the smaller-scale side when that cannot overflow.
		a, b := d, o
		flip := 1
		if a.scale > b.scale {
			a, b, flip = o, d, -1
		}
		diff := b.scale - a.scale
		if diff < int32(len(pow10)) {
			m := pow10[diff]
			if a.small == 0 || (absInt64(a.small) <= math.MaxInt64/m) {
				return flip * cmpInt64(a.small*m, b.small)
			}
		}
	}
	return cmpBig(d, o)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func absInt64(v int64) int64 {
	if v < 0 {
		if v == math.MinInt64 {
			return math.MaxInt64
		}
		return -v
	}
	return v
}

func cmpBig(d, o Decimal) int {
	a, b := d.Coefficient(), o.Coefficient()
	switch {
	case d.scale < o.scale:
		a.Mul(a, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(o.scale-d.scale)), nil))
	case d.scale > o.scale:
		b.Mul(b, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale-o.scale)), nil))
	}
	return a.Cmp(b)
}

// Equal reports whether the values are equal, ignoring scale.
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// Identical reports whether coefficient and scale are both the same, i.e. the
// two print the same text. This is the sense in which a stored value "changed".
func (d Decimal) Identical(o Decimal) bool {
	return d.scale == o.scale && d.Cmp(o) == 0
}

// String prints the number with exactly Scale digits after the point.
func (d Decimal) String() string {
	var b [40]byte
	return string(d.Append(b[:0]))
}

// Append appends the String form to dst.
func (d Decimal) Append(dst []byte) []byte {
	var digits []byte
	neg := false
	if d.big != nil {
		digits = d.big.Append(nil, 10)
	} else {
		var buf [24]byte
		digits = strconv.AppendInt(buf[:0], d.small, 10)
	}
	if len(digits) > 0 && digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	if neg {
		dst = append(dst, '-')
	}
	sc := int(d.scale)
	if sc == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= sc {
		dst = append(dst, '0', '.')
		for i := len(digits); i < sc; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-sc]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-sc:]...)
}

// MarshalText implements encoding.TextMarshaler.
func (d Decimal) MarshalText() ([]byte, error) { return d.Append(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseBytes(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the number as a JSON string, so no reader turns it into a float.
func (d Decimal) MarshalJSON() ([]byte, error) {
	out := append(make([]byte, 0, 24), '"')
	return append(d.Append(out), '"'), nil
}

// UnmarshalJSON accepts a JSON string ("12.5") or a JSON number (12.5), the two
// encodings vendors use, and keeps the text's exact digits either way. JSON null
// is rejected: use Null for optional values.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	text, err := jsonText(b)
	if err != nil {
		return err
	}
	v, err := ParseBytes(text)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// jsonText returns the number's text inside b, a slice of b (no copy).
func jsonText(b []byte) ([]byte, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		for _, c := range inner {
			if c == '\\' || c == '"' {
				return nil, fmt.Errorf("%w: escaped string", ErrSyntax)
			}
		}
		return inner, nil
	}
	if len(b) > 0 && (b[0] == '-' || isDigit(b[0])) {
		return b, nil
	}
	return nil, fmt.Errorf("%w: %s is not a number or numeric string", ErrSyntax, clip(string(b)))
}

// UnmarshalJSON accepts what Decimal accepts, plus JSON null and "" as absent.
func (n *Null) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == `""` {
		*n = Null{}
		return nil
	}
	if err := n.Decimal.UnmarshalJSON(b); err != nil {
		return err
	}
	n.Valid = true
	return nil
}

// MarshalJSON writes null or the Decimal's JSON form.
func (n Null) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return n.Decimal.MarshalJSON()
}

// String prints the value, or "NULL".
func (n Null) String() string {
	if !n.Valid {
		return "NULL"
	}
	return n.Decimal.String()
}

// Identical reports whether both are absent, or both present and Identical.
func (n Null) Identical(o Null) bool {
	if n.Valid != o.Valid {
		return false
	}
	return !n.Valid || n.Decimal.Identical(o.Decimal)
}
