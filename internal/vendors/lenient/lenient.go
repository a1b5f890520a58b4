// Package lenient has JSON field types for vendors whose documented types and
// actual answers disagree: a price documented as a string that some
// endpoints send as a bare number, a timestamp documented as an integer that
// arrives quoted. Decoding accepts both spellings without losing a digit;
// encoding uses the documented one.
package lenient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Str is a field documented as a JSON string. Decoding also accepts a bare
// JSON number (its digits kept as text, so decimals stay exact) and treats
// null as absent (""); it encodes as a JSON string.
type Str string

// UnmarshalJSON implements json.Unmarshaler.
func (s *Str) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("decode string field: empty value")
	case string(b) == "null":
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
	if string(b) == "null" {
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
