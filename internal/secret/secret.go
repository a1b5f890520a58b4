// Package secret keeps credentials out of logs, errors and metrics.
//
// A Value prints as "[REDACTED]" through every path a value usually escapes by:
// fmt verbs, %#v, JSON, text marshalling and zap. The clear text is reachable
// only through Reveal, so each use of it is easy to find in review.
package secret

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

const redacted = "[REDACTED]"

// Value is a secret string such as an API token or a database password.
type Value struct {
	clear string
}

// New wraps a clear-text secret.
func New(clear string) Value { return Value{clear: clear} }

// Reveal returns the clear text. Call it only where the secret goes on the wire.
func (v Value) Reveal() string { return v.clear }

// IsZero reports whether the secret is empty.
func (v Value) IsZero() bool { return v.clear == "" }

// String implements fmt.Stringer with a redacted form.
func (v Value) String() string { return redacted }

// GoString implements fmt.GoStringer, so %#v is redacted too.
func (v Value) GoString() string { return redacted }

// Format implements fmt.Formatter so that no verb (%s, %v, %q, %x, %d) leaks.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText implements encoding.TextMarshaler with the redacted form.
func (v Value) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON implements json.Marshaler with the redacted form.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// EnvDecode implements go-envconfig's Decoder so a config field of this type
// reads straight from the environment.
func (v *Value) EnvDecode(_ context.Context, val string) error {
	v.clear = val
	return nil
}

// Fingerprint identifies the secret without revealing it: the first 16 hex
// digits of its SHA-256. Used to key per-token state such as daily quota usage.
func (v Value) Fingerprint() string {
	sum := sha256.Sum256([]byte(v.clear))
	return hex.EncodeToString(sum[:8])
}
