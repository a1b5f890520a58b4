package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/syncd/syncd/internal/vendor"
)

// keyWatch passes requests through to a gate and remembers whether the
// vendor refuses the key: set by an authentication failure, cleared by the
// next request that succeeds. /readyz reports it, since a daemon whose key
// is refused is up but syncs nothing.
type keyWatch struct {
	vendor.Gate

	mu  sync.Mutex
	err error
}

// Report records an authentication failure or a success, then reports to
// the wrapped gate.
func (k *keyWatch) Report(ep vendor.Endpoint, err error) {
	k.mu.Lock()
	switch {
	case err == nil:
		k.err = nil
	case errors.Is(err, vendor.ErrAuth):
		k.err = err
	}
	k.mu.Unlock()
	k.Gate.Report(ep, err)
}

// Check is the readiness check: an error while the vendor refuses the key.
func (k *keyWatch) Check(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err != nil {
		return fmt.Errorf("vendor refuses the API key: %w", k.err)
	}
	return nil
}
