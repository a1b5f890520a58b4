package quota

import "time"

// slot is one granted request as the windows and spacings see it: at is its
// grant time while pending (not yet reported sent), then its send time.
type slot struct {
	at      time.Time
	pending bool
}

// window keeps the n most recent requests, to enforce "at most n in any
// span". Starting full (evenly spread over the span before start) means a
// process that just started paces itself as if its predecessor had used the
// whole window, so a restart never bursts.
//
// Requests are kept by send time, which is known only once they leave, and
// they need not leave in grant order. A pending request counts as the most
// recent of all: whatever it is, it is no earlier than now. So one more
// request fits once span has passed since the earliest resolved one of the
// last n; when all n are pending, nothing fits until one is resolved.
type window struct {
	n      int
	span   time.Duration
	slots  []*slot
	oldest int // index of the earliest resolved slot; -1 when all are pending
}

func newWindow(n int, span time.Duration, start time.Time) *window {
	if n <= 0 {
		return &window{}
	}
	w := &window{n: n, span: span, slots: make([]*slot, n)}
	for i := range n {
		w.slots[i] = &slot{at: start.Add(-span + time.Duration(i+1)*span/time.Duration(n))}
	}
	w.resolved()
	return w
}

// nextFree is the earliest time one more request keeps every span-long window
// at n or fewer; held is true when that depends on requests still pending.
func (w *window) nextFree() (at time.Time, held bool) {
	if w.n == 0 {
		return time.Time{}, false
	}
	if w.oldest < 0 {
		return time.Time{}, true
	}
	return w.slots[w.oldest].at.Add(w.span), false
}

// add replaces the earliest resolved request with s. The caller has checked
// nextFree, so one exists. Evicting the earliest keeps the window exact: every
// request dropped is no later than any kept, and no later than any pending one
// will turn out to be (those are sent after now).
func (w *window) add(s *slot) {
	if w.n == 0 {
		return
	}
	w.slots[w.oldest] = s
	w.resolved()
}

// resolved finds the earliest resolved slot again, after one was added or
// became resolved.
func (w *window) resolved() {
	w.oldest = -1
	for i, s := range w.slots {
		if !s.pending && (w.oldest < 0 || s.at.Before(w.slots[w.oldest].at)) {
			w.oldest = i
		}
	}
}
