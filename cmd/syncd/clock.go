//go:build !e2e

package main

import "github.com/syncd/syncd/internal/clock"

// processClock is the time source of the whole process: the system clock. The
// e2e build (clock_e2e.go) can shift it for end-to-end tests.
func processClock([]string) (clock.Clock, error) { return clock.System{}, nil }
