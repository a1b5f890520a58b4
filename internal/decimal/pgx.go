package decimal

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"
)

// NumericValue implements pgtype.NumericValuer, so pgx encodes a Decimal as
// numeric in parameters, arrays and binary COPY with its scale intact.
func (d Decimal) NumericValue() (pgtype.Numeric, error) {
	return pgtype.Numeric{Int: d.Coefficient(), Exp: -d.scale, Valid: true}, nil
}

// ScanNumeric implements pgtype.NumericScanner.
func (d *Decimal) ScanNumeric(v pgtype.Numeric) error {
	if !v.Valid {
		return fmt.Errorf("scan decimal: %w: NULL", ErrSyntax)
	}
	if v.NaN || v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("scan decimal: %w: not a finite number", ErrSyntax)
	}
	coef := v.Int
	if coef == nil {
		coef = new(big.Int)
	}
	if v.Exp > 0 {
		coef = new(big.Int).Mul(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(v.Exp)), nil))
		*d = NewFromBig(coef, 0)
		return nil
	}
	if -v.Exp > maxScale {
		return fmt.Errorf("scan decimal: %w: scale %d", ErrSyntax, -v.Exp)
	}
	*d = NewFromBig(coef, -v.Exp)
	return nil
}

// NumericValue implements pgtype.NumericValuer; an absent value encodes as NULL.
func (n Null) NumericValue() (pgtype.Numeric, error) {
	if !n.Valid {
		return pgtype.Numeric{}, nil
	}
	return n.Decimal.NumericValue()
}

// ScanNumeric implements pgtype.NumericScanner; NULL scans as absent.
func (n *Null) ScanNumeric(v pgtype.Numeric) error {
	if !v.Valid {
		*n = Null{}
		return nil
	}
	if err := n.Decimal.ScanNumeric(v); err != nil {
		return err
	}
	n.Valid = true
	return nil
}

// Register makes m encode Decimal and Null as binary numeric without the
// big.Int arithmetic pgtype's NumericCodec does for every value (several
// allocations and divisions per price, most of a write's client CPU). Values
// whose coefficient needs a big.Int, other types and the text format are left
// to NumericCodec; the bytes are the ones NumericCodec writes.
func Register(m *pgtype.Map) {
	num := &pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: codec{}}
	m.RegisterType(num)
	m.RegisterType(&pgtype.Type{Name: "_numeric", OID: pgtype.NumericArrayOID, Codec: arrayCodec{&pgtype.ArrayCodec{ElementType: num}}})
}

// arrayCodec is numeric[]'s ArrayCodec with a direct binary encoding of
// []Decimal and []Null: ArrayCodec reaches each element through reflection
// and an interface, an allocation per price of a batch upsert.
type arrayCodec struct{ *pgtype.ArrayCodec }

// PlanEncode implements pgtype.Codec.
func (c arrayCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if format == pgtype.BinaryFormatCode {
		switch value.(type) {
		case []Decimal, []Null:
			return arrayPlan{num: pgtype.NumericCodec{}.PlanEncode(m, pgtype.NumericOID, format, Decimal{})}
		}
	}
	return c.ArrayCodec.PlanEncode(m, oid, format, value)
}

// arrayPlan writes a []Decimal or []Null as ArrayCodec does: nil as NULL,
// else a one-dimensional header (length, lower bound 1) and each element's
// length and bytes, -1 for NULL. Coefficients
// that need a big.Int go to NumericCodec's plan.
type arrayPlan struct{ num pgtype.EncodePlan }

// Encode implements pgtype.EncodePlan.
func (p arrayPlan) Encode(value any, buf []byte) ([]byte, error) {
	var err error
	switch v := value.(type) {
	case []Decimal:
		if v == nil {
			return nil, nil
		}
		buf = appendArrayHeader(buf, len(v))
		for _, d := range v {
			if buf, err = p.appendElem(buf, d); err != nil {
				return nil, err
			}
		}
		return buf, nil
	case []Null:
		if v == nil {
			return nil, nil
		}
		start := len(buf)
		buf = appendArrayHeader(buf, len(v))
		for _, n := range v {
			if !n.Valid {
				binary.BigEndian.PutUint32(buf[start+4:], 1)             // the header's "contains NULL"
				buf = binary.BigEndian.AppendUint32(buf, math.MaxUint32) // length -1
				continue
			}
			if buf, err = p.appendElem(buf, n.Decimal); err != nil {
				return nil, err
			}
		}
		return buf, nil
	}
	return nil, fmt.Errorf("encode numeric array: unexpected %T", value)
}

func appendArrayHeader(buf []byte, n int) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	buf = binary.BigEndian.AppendUint32(buf, 0) // contains NULL, set later
	buf = binary.BigEndian.AppendUint32(buf, pgtype.NumericOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(n)) //nolint:gosec // a slice length, far below 2^31 in any query
	return binary.BigEndian.AppendUint32(buf, 1)        // lower bound
}

func (p arrayPlan) appendElem(buf []byte, d Decimal) ([]byte, error) {
	at := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, 0) // length, set below
	if d.big != nil {
		var err error
		if buf, err = p.num.Encode(d, buf); err != nil {
			return nil, err
		}
	} else {
		buf = appendNumeric(buf, d.small, d.scale)
	}
	binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4)) //nolint:gosec // one numeric, a few dozen bytes
	return buf, nil
}

// codec is NumericCodec with a direct binary encoding of Decimal and Null.
type codec struct{ pgtype.NumericCodec }

// PlanEncode implements pgtype.Codec.
func (c codec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	inner := c.NumericCodec.PlanEncode(m, oid, format, value)
	if inner == nil || format != pgtype.BinaryFormatCode {
		return inner
	}
	switch value.(type) {
	case Decimal, Null, *Decimal, *Null:
		return encodePlan{inner: inner}
	}
	return inner
}

// encodePlan writes a Decimal or Null with an int64 coefficient itself and
// hands anything else to NumericCodec's plan.
type encodePlan struct{ inner pgtype.EncodePlan }

// Encode implements pgtype.EncodePlan.
func (p encodePlan) Encode(value any, buf []byte) ([]byte, error) {
	var d Decimal
	switch v := value.(type) {
	case Decimal:
		d = v
	case *Decimal: // a pointer reaches here without the copy an interface of a Decimal costs
		d = *v
	case Null:
		if !v.Valid {
			return nil, nil
		}
		d = v.Decimal
	case *Null:
		if !v.Valid {
			return nil, nil
		}
		d = v.Decimal
	default:
		return p.inner.Encode(value, buf)
	}
	if d.big != nil {
		return p.inner.Encode(value, buf)
	}
	return appendNumeric(buf, d.small, d.scale), nil
}

// appendNumeric appends the binary numeric of coef × 10^-scale: ndigits,
// weight, sign and dscale, then base-10000 digits. Like NumericCodec it
// writes every fractional group, zero ones included, and no leading zero
// group in the integer part.
func appendNumeric(buf []byte, coef int64, scale int32) []byte {
	var sign uint16
	mag := uint64(coef) //nolint:gosec // two's complement: negated below, MinInt64 included
	if coef < 0 {
		sign, mag = 0x4000, -mag
	}
	// Decimal digits of the magnitude, right-aligned, with room for a
	// fraction padded on the left with zeros and on the right to whole groups.
	var text [maxScale + 4 + 24]byte
	pad := (4 - int(scale)%4) % 4
	fracLen := int(scale) + pad // a multiple of 4
	end := len(text)
	i := end - pad
	for j := i; j < end; j++ {
		text[j] = '0'
	}
	for mag > 0 {
		i--
		text[i] = byte('0' + mag%10)
		mag /= 10
	}
	start := min(i, end-fracLen)
	for j := start; j < i; j++ {
		text[j] = '0'
	}
	whole, frac := text[start:end-fracLen], text[end-fracLen:end]
	for len(whole) > 0 && whole[0] == '0' {
		whole = whole[1:]
	}
	wholeGroups := (len(whole) + 3) / 4
	ndigits := wholeGroups + fracLen/4
	weight := wholeGroups - 1
	// ndigits ≤ 22, weight in -1..4 and scale in 0..maxScale: no conversion wraps.
	buf = binary.BigEndian.AppendUint16(buf, uint16(ndigits))       //nolint:gosec // bounded, see above
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight))) //nolint:gosec // bounded, see above
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(scale)) //nolint:gosec // bounded, see above
	// The first integer group takes what is left over from whole groups of 4.
	first := len(whole) - (wholeGroups-1)*4
	for g := range wholeGroups {
		lo := 0
		if g > 0 {
			lo = first + (g-1)*4
		}
		hi := first + g*4
		buf = binary.BigEndian.AppendUint16(buf, group(whole[lo:hi]))
	}
	for g := 0; g < fracLen; g += 4 {
		buf = binary.BigEndian.AppendUint16(buf, group(frac[g:g+4]))
	}
	return buf
}

// group reads up to four decimal digits.
func group(ds []byte) uint16 {
	var v uint16
	for _, c := range ds {
		v = v*10 + uint16(c-'0')
	}
	return v
}
