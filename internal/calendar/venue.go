package calendar

import "time"

// date is a civil (wall-calendar) date in some venue's zone.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(lt time.Time) date {
	y, m, d := lt.Date()
	return date{y, m, d}
}

func (d date) noon() time.Time { return time.Date(d.y, d.m, d.d, 12, 0, 0, 0, time.UTC) }

func (d date) next() date { return dateOf(d.noon().AddDate(0, 0, 1)) }

func (d date) prev() date { return dateOf(d.noon().AddDate(0, 0, -1)) }

func (d date) before(o date) bool {
	if d.y != o.y {
		return d.y < o.y
	}
	if d.m != o.m {
		return d.m < o.m
	}
	return d.d < o.d
}

func (d date) weekday() time.Weekday { return d.noon().Weekday() }

// at returns the instant of local wall-clock minute min (0–1440) on d in loc.
// time.Date normalises minute 1440 to the next midnight and resolves DST.
func (d date) at(min int, loc *time.Location) time.Time {
	return time.Date(d.y, d.m, d.d, 0, min, 0, 0, loc)
}

// span is a session within one local date, in minutes after local midnight;
// end may be 1440 (the next midnight).
type span struct{ start, end int }

// daySpans is one date's sessions, at most two (a lunch break splits them).
// A fixed array keeps the hot paths free of allocation.
type daySpans struct {
	d date
	n int
	s [2]span
}

func spans(d date, ss ...span) daySpans {
	out := daySpans{d: d, n: len(ss)}
	copy(out.s[:], ss)
	return out
}

func (ds daySpans) abs(i int, loc *time.Location) Interval {
	return Interval{Start: ds.d.at(ds.s[i].start, loc), End: ds.d.at(ds.s[i].end, loc)}
}

// startsAt reports whether the date's first session starts at instant t.
func (ds daySpans) startsAt(t time.Time, loc *time.Location) bool {
	return ds.n > 0 && ds.d.at(ds.s[0].start, loc).Equal(t)
}

// table is a venue's holidays and early closes for a bounded range of years.
type table struct {
	first, last int
	closed      map[date]string // full-day closures, with the holiday's name
	early       map[date]int    // local minute at which trading ends that day
}

// venue is one market's session model.
type venue struct {
	loc    *time.Location // zone the sessions are defined in
	dayLoc *time.Location // zone of exchange-local daily bars
	always bool           // never closes
	known  bool
	spans  func(d date, wd time.Weekday) daySpans // regular sessions
	table  *table                                 // nil: weekends only
}

// day returns d's sessions after holidays and early closes.
func (v *venue) day(d date) daySpans {
	ds := v.spans(d, d.weekday())
	if v.table == nil || ds.n == 0 {
		return ds
	}
	if _, ok := v.table.closed[d]; ok {
		return daySpans{d: d}
	}
	if end, ok := v.table.early[d]; ok {
		out := daySpans{d: d}
		for _, s := range ds.s[:ds.n] {
			if s.start >= end {
				continue
			}
			out.s[out.n] = span{s.start, min(s.end, end)}
			out.n++
		}
		return out
	}
	return ds
}

func weekend(wd time.Weekday) bool { return wd == time.Saturday || wd == time.Sunday }

const (
	h0930 = 9*60 + 30
	h1130 = 11*60 + 30
	h1200 = 12 * 60
	h1230 = 12*60 + 30
	h1300 = 13 * 60
	h1500 = 15 * 60
	h1530 = 15*60 + 30
	h1600 = 16 * 60
	h1700 = 17 * 60
	h2400 = 24 * 60
)

// fxSpans: Sunday 17:00 to Friday 17:00 New York, the conventional FX week
// (and QOS's Mon 05:00 – Sat 05:00 UTC+8, 06:00 in winter).
func fxSpans(d date, wd time.Weekday) daySpans {
	switch wd {
	case time.Saturday:
		return daySpans{d: d}
	case time.Sunday:
		return spans(d, span{h1700, h2400})
	case time.Friday:
		return spans(d, span{0, h1700})
	}
	return spans(d, span{0, h2400})
}

func usSpans(d date, wd time.Weekday) daySpans {
	if weekend(wd) {
		return daySpans{d: d}
	}
	return spans(d, span{h0930, h1600})
}

func hkSpans(d date, wd time.Weekday) daySpans {
	if weekend(wd) {
		return daySpans{d: d}
	}
	return spans(d, span{h0930, h1200}, span{h1300, h1600})
}

func cnSpans(d date, wd time.Weekday) daySpans {
	if weekend(wd) {
		return daySpans{d: d}
	}
	return spans(d, span{h0930, h1130}, span{h1300, h1500})
}

// jpSpans: the Tokyo Stock Exchange moved its close from 15:00 to 15:30 on
// 2024-11-05.
func jpSpans(d date, wd time.Weekday) daySpans {
	if weekend(wd) {
		return daySpans{d: d}
	}
	closeAt := h1530
	if d.before(date{2024, time.November, 5}) {
		closeAt = h1500
	}
	return spans(d, span{9 * 60, h1130}, span{h1230, closeAt})
}
