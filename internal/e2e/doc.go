// Package e2e holds the end-to-end tests: they build the real syncd binary
// once, run it as a subprocess against the vendor simulator (package sim,
// served in-process by httptest) and a real PostgreSQL (package pgtest, one
// schema per test), and compare the candles table row by row with the
// simulator's ground truth.
//
// The binary is built with the e2e tag, which lets SYNCD_TEST_CLOCK_OFFSET
// shift its clock onto the simulator's (sim.Config.AsOf): a weekend, a
// session, or two hours after a stop, without waiting for real time. Release
// builds do not read that variable.
//
// The package has no non-test code besides this file.
package e2e
