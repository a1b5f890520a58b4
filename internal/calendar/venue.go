package calendar

import (
	"sync/atomic"
	"time"
)

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

// Date arithmetic is done on the civil date itself: it runs once per day of
// every session search, where time.Date and AddDate (zone lookups and
// normalisation) cost more than the rest of the search.

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if leap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func (d date) next() date {
	switch {
	case d.d < daysIn(d.y, d.m):
		return date{d.y, d.m, d.d + 1}
	case d.m < time.December:
		return date{d.y, d.m + 1, 1}
	}
	return date{d.y + 1, time.January, 1}
}

func (d date) prev() date {
	switch {
	case d.d > 1:
		return date{d.y, d.m, d.d - 1}
	case d.m > time.January:
		return date{d.y, d.m - 1, daysIn(d.y, d.m-1)}
	}
	return date{d.y - 1, time.December, 31}
}

// days returns the number of days from 1970-01-01 to d (negative before),
// by the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
func (d date) days() int {
	y, m := d.y, int(d.m)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d.d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// floorDiv returns a/b rounded down, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// utcDate returns the UTC date of Unix time u. A venue's local date is this
// one or one either side, as zones lie within ±14 hours of UTC.
func utcDate(u int64) date { return dateOfDays(int(floorDiv(u, 24*60*60))) }

// dateOfDays is the inverse of days: the date n days after 1970-01-01 (H.
// Hinnant's civil_from_days).
func dateOfDays(n int) date {
	z := n + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return date{y, time.Month(m), d}
}

// yday returns d's day of the year, 0 for 1 January. It indexes the memo
// of every session lookup, so it adds up the months from a table instead of
// subtracting two day counts.
func (d date) yday() int {
	n := daysBefore[d.m-1] + d.d - 1
	if d.m > time.February && leap(d.y) {
		n++
	}
	return n
}

// daysBefore[m] is the number of days before month m+1 in a common year.
var daysBefore = [12]int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334} //nolint:gochecknoglobals // immutable table

func (d date) before(o date) bool {
	if d.y != o.y {
		return d.y < o.y
	}
	if d.m != o.m {
		return d.m < o.m
	}
	return d.d < o.d
}

func (d date) weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday(((d.days()+4)%7 + 7) % 7)
}

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
	perDay int                                    // most sessions on one date
	// years memoises times per year, built on first use: a daily page of
	// the simulator asks for some 800 days, and placing a day's sessions in
	// the zone (time.Date) was most of the calendar's cost. Built tables are
	// never changed, so readers need no lock; two goroutines building the
	// same year build equal tables, and either may win.
	years [memoYears]atomic.Pointer[yearTimes]
}

// The years whose days are memoised; others are computed on each call.
const (
	memoFirst = 1900
	memoYears = 400
)

// dayTimes is one local date's sessions as instants, in Unix seconds (every
// boundary is a whole minute), and the instant of its local midnight.
type dayTimes struct {
	n        int
	s        [2][2]int64
	midnight int64
}

type yearTimes [366]dayTimes

// session returns session i (< n) of the day as an interval in loc.
func (dt *dayTimes) session(i int, loc *time.Location) Interval {
	return Interval{Start: time.Unix(dt.s[i][0], 0).In(loc), End: time.Unix(dt.s[i][1], 0).In(loc)}
}

// startsAt reports whether the day's first session starts at instant t.
func (dt *dayTimes) startsAt(t time.Time) bool {
	return dt.n > 0 && t.Unix() == dt.s[0][0] && t.Nanosecond() == 0
}

// times returns d's sessions after holidays and early closes, as instants.
func (v *venue) times(d date) dayTimes {
	i := d.y - memoFirst
	if i < 0 || i >= memoYears {
		return v.computeTimes(d)
	}
	yt := v.years[i].Load()
	if yt == nil {
		yt = new(yearTimes)
		for dd := (date{d.y, time.January, 1}); dd.y == d.y; dd = dd.next() {
			yt[dd.yday()] = v.computeTimes(dd)
		}
		v.years[i].CompareAndSwap(nil, yt)
	}
	return yt[d.yday()]
}

func (v *venue) computeTimes(d date) dayTimes {
	ds := v.day(d)
	dt := dayTimes{n: ds.n, midnight: d.at(0, v.loc).Unix()}
	for i := range ds.n {
		iv := ds.abs(i, v.loc)
		dt.s[i] = [2]int64{iv.Start.Unix(), iv.End.Unix()}
	}
	return dt
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
