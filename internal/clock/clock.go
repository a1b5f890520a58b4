// Package clock provides the time source that decides behaviour: bar finality,
// schedules, quotas and horizons. Production code takes a Clock; tests pass a
// Fake or run under testing/synctest with System.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time. Consumers that need only this may declare their
// own one-method interface; Clock is here for wiring.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// Scaled runs "as of" a chosen instant and optionally faster than real time:
// Now = Start + (real elapsed since creation) × Speed. The simulator uses it to
// replay a session close or a weekend in a test.
type Scaled struct {
	start time.Time
	base  time.Time
	speed float64
	real  Clock
}

// NewScaled returns a clock that reads start now and advances speed times as
// fast as real. A speed of 0 or less means 1.
func NewScaled(real Clock, start time.Time, speed float64) *Scaled {
	if speed <= 0 {
		speed = 1
	}
	return &Scaled{start: start, base: real.Now(), speed: speed, real: real}
}

// Now returns the scaled time.
func (s *Scaled) Now() time.Time {
	elapsed := s.real.Now().Sub(s.base)
	return s.start.Add(time.Duration(float64(elapsed) * s.speed))
}

// Speed returns the scaling factor.
func (s *Scaled) Speed() float64 { return s.speed }

// Fake is a manually advanced clock for tests. It is safe for concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake reading t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set moves the clock to t (backwards too, to test clock steps).
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d and returns the new time.
func (f *Fake) Advance(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	return f.now
}
