// Package lenient has JSON field types for vendors whose documented types and
// actual answers disagree: a price documented as a string that some
// endpoints send as a bare number, a timestamp documented as an integer that
// arrives quoted. Decoding accepts both spellings without losing a digit;
// encoding uses the documented one.
package lenient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/syncd/syncd/internal/decimal"
)

// jsonNull is JSON's null literal.
const jsonNull = "null"

// Str is a field documented as a JSON string. Decoding also accepts a bare
// JSON number (its digits kept as text, so decimals stay exact) and treats
// null as absent (""); it encodes as a JSON string.
type Str string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Str) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("decode string field: empty value")
	case string(b) == jsonNull:
		return nil
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("decode string field: %w", err)
		}
		*s = Str(v)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*s = Str(b)
		return nil
	}
	return fmt.Errorf("decode string field: %.20s is neither a string nor a number", b)
}

// Int is a field documented as a JSON integer. Decoding also accepts the
// integer quoted as a string and treats null as absent (0); it encodes as a
// JSON number.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	if string(b) == jsonNull {
		return nil
	}
	if len(b) >= 2 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("decode integer field: %w", err)
	}
	*n = Int(v)
	return nil
}

// ErrEscaped is Dec's refusal of a string with escapes, which Str reads.
var ErrEscaped = errors.New("decode decimal field: escaped string")

// Dec is a Str field holding a decimal, read straight from the JSON bytes:
// no string is made, so a vendor page decoded in one pass costs no
// allocation per price. It accepts what Str accepts and decimal.Parse then
// reads, except strings with escapes (ErrEscaped): a decoder that needs
// those falls back to Str. null leaves it unchanged, as it does Str; ""
// makes it absent.
type Dec struct {
	Decimal decimal.Decimal
	// Set is false when the field was absent, null or "".
	Set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Dec) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("decode decimal field: empty value")
	case string(b) == jsonNull:
		return nil
	case b[0] == '"':
		inner := b[1 : len(b)-1]
		if len(inner) == 0 {
			*d = Dec{}
			return nil
		}
		if bytes.IndexByte(inner, '\\') >= 0 {
			return ErrEscaped
		}
		b = inner
	case b[0] != '-' && (b[0] < '0' || b[0] > '9'):
		return fmt.Errorf("decode decimal field: %.20s is neither a string nor a number", b)
	}
	v, err := decimal.ParseBytes(b)
	if err != nil {
		return fmt.Errorf("decode decimal field: %w", err)
	}
	*d = Dec{Decimal: v, Set: true}
	return nil
}

// Unused is a Str field a decoder checks but does not keep: it accepts what
// Str accepts and makes no string.
type Unused struct{}

// UnmarshalJSON implements json.Unmarshaler.
func (Unused) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (string(b) != jsonNull && b[0] != '"' && b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return fmt.Errorf("decode string field: %.20s is neither a string nor a number", b)
	}
	return nil
}
