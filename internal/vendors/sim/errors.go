package sim

import "errors"

// Errors of the simulator core. Vendor handlers map them to each vendor's
// own answer for a bad request.
var (
	// ErrBadRequest: a parameter is out of range (an unknown timeframe, an
	// empty symbol, a non-positive count).
	ErrBadRequest = errors.New("bad request")
	// ErrTooLarge: the request would generate more bars than one call allows;
	// split the range.
	ErrTooLarge = errors.New("request too large")
)
