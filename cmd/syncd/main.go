// Command syncd keeps a PostgreSQL table of market-data candles complete and
// current for AllTick, XdTick, Infoway and QOS.
//
// This file is the process boundary: signals, the real environment and the
// exit code. Everything else runs in-process through run, so tests drive the
// whole command layer without building a binary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes. Scripts and supervisors tell "fix your configuration" (2) from
// "something failed at run time, maybe retry" (1).
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signalContext(os.Stderr)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalError is the cancellation cause when SIGINT or SIGTERM arrives, so the
// command layer can tell a requested stop from a failure.
type signalError struct{ sig os.Signal }

func (s signalError) Error() string { return "received " + s.sig.String() }

// signalContext returns a context cancelled (with a signalError cause) by the
// first SIGINT or SIGTERM. A second signal exits at once with exitFailure,
// for an operator who does not want to wait for the graceful stop.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel(signalError{sig: sig})
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			_, _ = fmt.Fprintf(stderr, "syncd: second %s, exiting without waiting for a graceful stop\n", sig)
			os.Exit(exitFailure)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
