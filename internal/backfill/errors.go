package backfill

import (
	"errors"
	"sort"
	"strings"

	"github.com/syncd/syncd/internal/vendor"
)

// ErrGaveUp is wrapped by a series' error when a page failed MaxAttempts times.
var ErrGaveUp = errors.New("gave up after repeated failures")

// PartialError is returned by Run when some series could not be brought to
// their horizon; the others were. It matches each series' cause with errors.Is.
type PartialError struct {
	Failed map[vendor.Series]error
}

// Error names every failed series and why, sorted for stable output.
func (e *PartialError) Error() string {
	names := make([]string, 0, len(e.Failed))
	for s, err := range e.Failed {
		names = append(names, s.String()+": "+err.Error())
	}
	sort.Strings(names)
	return "backfill failed for " + strings.Join(names, "; ")
}

// Unwrap returns the causes.
func (e *PartialError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}
