package vendor

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors the engines act on. Vendor clients return errors that wrap
// exactly one of these (test with errors.Is), usually through *APIError.
var (
	// ErrRateLimited: the vendor refused the request for frequency. The governor
	// backs off every lane; the request is retried only through the gate.
	ErrRateLimited = errors.New("rate limited by vendor")
	// ErrQuotaExhausted: the key's daily cap is used up; wait for the reset.
	ErrQuotaExhausted = errors.New("daily quota exhausted")
	// ErrAuth: the key is invalid, expired or lacks permission for the plan.
	ErrAuth = errors.New("authentication failed")
	// ErrInvalidSymbol: the vendor does not know (or the plan may not see) a code.
	// See InvalidSymbolsError for which.
	ErrInvalidSymbol = errors.New("invalid symbol")
	// ErrBeyondRange: the requested time lies beyond the history the plan or
	// vendor serves. Backfill records the range as unavailable.
	ErrBeyondRange = errors.New("beyond the vendor's history range")
	// ErrUnsupported: the request asks for something the vendor or plan does not
	// offer (a timeframe, too many bars or groups).
	ErrUnsupported = errors.New("unsupported request")
	// ErrTransient: 5xx, timeout, connection reset, truncated body. Safe to retry
	// later through the gate.
	ErrTransient = errors.New("transient vendor failure")
	// ErrProtocol: a response that does not follow the vendor's documented format
	// (malformed JSON, unknown envelope, wrong series). Retry later; quarantine
	// the body.
	ErrProtocol = errors.New("vendor protocol error")
)

// APIError is a classified failure of one vendor request. It never holds the
// token: URLs are redacted before they get here.
type APIError struct {
	Vendor   string
	Endpoint Endpoint
	// HTTPStatus is the HTTP status, 0 when no response arrived.
	HTTPStatus int
	// Code is the vendor's own error code as text ("605", "513"), "" if none.
	Code string
	// Message is the vendor's message, clipped to a sane length.
	Message string
	// Kind is the sentinel this error wraps.
	Kind error
	// RetryAfter is the vendor's Retry-After hint, 0 if none.
	RetryAfter time.Duration
	// Err is an underlying cause (a network or decode error), or nil.
	Err error
}

// Error formats as "alltick history: rate limited by vendor (HTTP 200, code 605: too many requests)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Vendor)
	if e.Endpoint != "" {
		b.WriteString(" ")
		b.WriteString(string(e.Endpoint))
	}
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("error")
	}
	var detail []string
	if e.HTTPStatus != 0 {
		detail = append(detail, fmt.Sprintf("HTTP %d", e.HTTPStatus))
	}
	switch {
	case e.Code != "" && e.Message != "":
		detail = append(detail, "code "+e.Code+": "+e.Message)
	case e.Code != "":
		detail = append(detail, "code "+e.Code)
	case e.Message != "":
		detail = append(detail, e.Message)
	}
	if len(detail) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(detail, ", "))
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause, so errors.Is matches both.
func (e *APIError) Unwrap() []error {
	out := make([]error, 0, 2)
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// InvalidSymbolsError names the codes a vendor refused. It matches
// ErrInvalidSymbol with errors.Is.
type InvalidSymbolsError struct {
	Symbols []string
	// Err is the vendor's answer, usually an *APIError.
	Err error
}

// Error lists the codes.
func (e *InvalidSymbolsError) Error() string {
	msg := "invalid symbol(s) " + strings.Join(e.Symbols, ",")
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrInvalidSymbol and the vendor's answer.
func (e *InvalidSymbolsError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalidSymbol, e.Err}
	}
	return []error{ErrInvalidSymbol}
}

// Retryable reports whether err is worth retrying later without changing the
// request: transient, protocol and rate-limit failures.
func Retryable(err error) bool {
	return errors.Is(err, ErrTransient) || errors.Is(err, ErrProtocol) || errors.Is(err, ErrRateLimited)
}
