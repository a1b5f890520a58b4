package quota

import "time"

// window remembers the last n grants, to enforce "at most n in any span".
// Starting full (evenly spread over the span before start) means a process
// that just started paces itself as if its predecessor had used the whole
// window, so a restart never bursts.
type window struct {
	n    int
	span time.Duration
	ring []time.Time // the last n grant times, oldest at head
	head int
}

func newWindow(n int, span time.Duration, start time.Time) *window {
	if n <= 0 {
		return &window{}
	}
	w := &window{n: n, span: span, ring: make([]time.Time, n)}
	for i := range n {
		w.ring[i] = start.Add(-span + time.Duration(i+1)*span/time.Duration(n))
	}
	return w
}

// nextFree is the earliest time one more grant keeps every span-long window at
// n or fewer: span after the oldest of the last n grants.
func (w *window) nextFree(now time.Time) time.Time {
	if w.n == 0 {
		return now
	}
	return w.ring[w.head].Add(w.span)
}

func (w *window) add(t time.Time) {
	if w.n == 0 {
		return
	}
	w.ring[w.head] = t
	w.head = (w.head + 1) % w.n
}
