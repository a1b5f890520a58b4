//go:build e2e

package main

import (
	"fmt"
	"time"

	"github.com/syncd/syncd/internal/clock"
)

// envTestClockOffset shifts the process clock in the e2e build only, so that
// end-to-end tests run the binary on the simulator's clock (sim.Config.AsOf):
// a weekend, a session close, or "two hours later" after a stop. Release
// builds never read it.
const envTestClockOffset = "SYNCD_TEST_CLOCK_OFFSET"

// processClock is the system clock shifted by SYNCD_TEST_CLOCK_OFFSET (a Go
// duration such as -50h30m; unset or empty means no shift).
func processClock(environ []string) (clock.Clock, error) {
	v := environMap(environ)[envTestClockOffset]
	if v == "" {
		return clock.System{}, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %q is not a Go duration (example: -50h30m)", envTestClockOffset, v)
	}
	return clock.NewScaled(clock.System{}, time.Now().Add(d), 1), nil
}
