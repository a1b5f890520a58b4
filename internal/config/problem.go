package config

import (
	"strings"
)

// Problem is one thing wrong with the configuration, written for the operator:
// the variable, what is wrong with its value and an example of a good one.
type Problem struct {
	// Var is the variable's full name, e.g. "SYNCD_SYMBOLS".
	Var string
	// Message says what is wrong, usually starting with the value as given:
	// `"90x" is not a time, date or look-back`. It never contains a secret.
	Message string
	// Example is a good value; "" to take the example from the variable's
	// documentation.
	Example string
}

// String formats the problem as one line:
//
//	SYNCD_BACKFILL_SINCE: "90x" is not a time, date or look-back (example: 90d, 36h, 2024-01-01, 2024-01-01T00:00:00Z)
func (p Problem) String() string {
	ex := p.Example
	if ex == "" {
		if v, ok := Lookup(p.Var); ok {
			ex = v.Example
		}
	}
	if ex == "" {
		return p.Var + ": " + p.Message
	}
	return p.Var + ": " + p.Message + " (example: " + ex + ")"
}

// Error is the configuration's validation failure: every problem found, so an
// operator fixes them all in one go rather than one per restart. Commands map
// it to exit code 2.
type Error struct {
	Problems []Problem
}

// Error returns one line per problem.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Check is a validation that needs knowledge from outside this package, such
// as plan presets or what a vendor can serve ("poll faster than the plan
// allows", "qos does not serve 2h"). Load runs the checks after its own and
// reports their problems together with its own.
//
// A Check must read cfg.Scope and return nil for scopes it does not concern
// (a plan check has nothing to say to `migrate`). A field whose own value was
// invalid has already been reported and is left at its zero value, so a Check
// skips zero fields instead of reporting them again.
type Check func(cfg *Config) []Problem
