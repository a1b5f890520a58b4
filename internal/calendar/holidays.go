package calendar

import "time"

// The holiday tables below are deliberately small and bounded. No maintained
// Go exchange-calendar library could be adopted (see docs/simulator.md): the
// candidates are not served by the module proxy here, and the best of them
// derives Chinese holidays from lunar rules that miss State Council
// adjustments (it keeps SSE open on 2025-10-08) and has none for Shenzhen.
// Exchange holidays are announced year by year, so a table per year is the
// honest form; extend it when the exchanges publish the next year.
//
// Sources: the exchanges' published holiday schedules (NYSE, HKEX) and the
// SSE/SZSE closure notices that follow the State Council's holiday
// arrangements. Only weekday closures matter (weekends are closed anyway).

// usTable: NYSE/Nasdaq full closures and 13:00 early closes, 2024–2027.
func usTable() *table {
	t := &table{first: 2024, last: 2027, closed: map[date]string{}, early: map[date]int{}}
	add := func(y int, m time.Month, d int, name string) { t.closed[date{y, m, d}] = name }
	early := func(y int, m time.Month, d int) { t.early[date{y, m, d}] = h1300 }

	add(2024, time.January, 1, "New Year's Day")
	add(2024, time.January, 15, "Martin Luther King Jr. Day")
	add(2024, time.February, 19, "Washington's Birthday")
	add(2024, time.March, 29, "Good Friday")
	add(2024, time.May, 27, "Memorial Day")
	add(2024, time.June, 19, "Juneteenth")
	add(2024, time.July, 4, "Independence Day")
	add(2024, time.September, 2, "Labor Day")
	add(2024, time.November, 28, "Thanksgiving Day")
	add(2024, time.December, 25, "Christmas Day")
	early(2024, time.July, 3)
	early(2024, time.November, 29)
	early(2024, time.December, 24)

	add(2025, time.January, 1, "New Year's Day")
	add(2025, time.January, 9, "National Day of Mourning (President Carter)")
	add(2025, time.January, 20, "Martin Luther King Jr. Day")
	add(2025, time.February, 17, "Washington's Birthday")
	add(2025, time.April, 18, "Good Friday")
	add(2025, time.May, 26, "Memorial Day")
	add(2025, time.June, 19, "Juneteenth")
	add(2025, time.July, 4, "Independence Day")
	add(2025, time.September, 1, "Labor Day")
	add(2025, time.November, 27, "Thanksgiving Day")
	add(2025, time.December, 25, "Christmas Day")
	early(2025, time.July, 3)
	early(2025, time.November, 28)
	early(2025, time.December, 24)

	add(2026, time.January, 1, "New Year's Day")
	add(2026, time.January, 19, "Martin Luther King Jr. Day")
	add(2026, time.February, 16, "Washington's Birthday")
	add(2026, time.April, 3, "Good Friday")
	add(2026, time.May, 25, "Memorial Day")
	add(2026, time.June, 19, "Juneteenth")
	add(2026, time.July, 3, "Independence Day (observed)")
	add(2026, time.September, 7, "Labor Day")
	add(2026, time.November, 26, "Thanksgiving Day")
	add(2026, time.December, 25, "Christmas Day")
	early(2026, time.November, 27)
	early(2026, time.December, 24)

	add(2027, time.January, 1, "New Year's Day")
	add(2027, time.January, 18, "Martin Luther King Jr. Day")
	add(2027, time.February, 15, "Washington's Birthday")
	add(2027, time.March, 26, "Good Friday")
	add(2027, time.May, 31, "Memorial Day")
	add(2027, time.June, 18, "Juneteenth (observed)")
	add(2027, time.July, 5, "Independence Day (observed)")
	add(2027, time.September, 6, "Labor Day")
	add(2027, time.November, 25, "Thanksgiving Day")
	add(2027, time.December, 24, "Christmas Day (observed)")
	early(2027, time.November, 26)
	return t
}

// hkTable: HKEX securities market closures and half days (morning session
// only, trading ends 12:00) on Christmas Eve, New Year's Eve and Lunar New
// Year's Eve when they fall on weekdays, 2024–2026.
func hkTable() *table {
	t := &table{first: 2024, last: 2026, closed: map[date]string{}, early: map[date]int{}}
	add := func(y int, m time.Month, d int, name string) { t.closed[date{y, m, d}] = name }
	half := func(y int, m time.Month, d int) { t.early[date{y, m, d}] = h1200 }

	add(2024, time.January, 1, "New Year's Day")
	add(2024, time.February, 12, "Lunar New Year (3rd day)")
	add(2024, time.February, 13, "Lunar New Year (4th day)")
	add(2024, time.March, 29, "Good Friday")
	add(2024, time.April, 1, "Easter Monday")
	add(2024, time.April, 4, "Ching Ming Festival")
	add(2024, time.May, 1, "Labour Day")
	add(2024, time.May, 15, "Buddha's Birthday")
	add(2024, time.June, 10, "Tuen Ng Festival")
	add(2024, time.July, 1, "HKSAR Establishment Day")
	add(2024, time.September, 18, "Day following Mid-Autumn Festival")
	add(2024, time.October, 1, "National Day")
	add(2024, time.October, 11, "Chung Yeung Festival")
	add(2024, time.December, 25, "Christmas Day")
	add(2024, time.December, 26, "First weekday after Christmas Day")
	half(2024, time.February, 9)
	half(2024, time.December, 24)
	half(2024, time.December, 31)

	add(2025, time.January, 1, "New Year's Day")
	add(2025, time.January, 29, "Lunar New Year's Day")
	add(2025, time.January, 30, "Lunar New Year (2nd day)")
	add(2025, time.January, 31, "Lunar New Year (3rd day)")
	add(2025, time.April, 4, "Ching Ming Festival")
	add(2025, time.April, 18, "Good Friday")
	add(2025, time.April, 21, "Easter Monday")
	add(2025, time.May, 1, "Labour Day")
	add(2025, time.May, 5, "Buddha's Birthday")
	add(2025, time.July, 1, "HKSAR Establishment Day")
	add(2025, time.October, 1, "National Day")
	add(2025, time.October, 7, "Day following Mid-Autumn Festival")
	add(2025, time.October, 29, "Chung Yeung Festival")
	add(2025, time.December, 25, "Christmas Day")
	add(2025, time.December, 26, "First weekday after Christmas Day")
	half(2025, time.January, 28)
	half(2025, time.December, 24)
	half(2025, time.December, 31)

	add(2026, time.January, 1, "New Year's Day")
	add(2026, time.February, 17, "Lunar New Year's Day")
	add(2026, time.February, 18, "Lunar New Year (2nd day)")
	add(2026, time.February, 19, "Lunar New Year (3rd day)")
	add(2026, time.April, 3, "Good Friday")
	add(2026, time.April, 6, "Day following Ching Ming Festival")
	add(2026, time.April, 7, "Day following Easter Monday")
	add(2026, time.May, 1, "Labour Day")
	add(2026, time.May, 25, "Day following Buddha's Birthday")
	add(2026, time.June, 19, "Tuen Ng Festival")
	add(2026, time.July, 1, "HKSAR Establishment Day")
	add(2026, time.October, 1, "National Day")
	add(2026, time.October, 19, "Day following Chung Yeung Festival")
	add(2026, time.December, 25, "Christmas Day")
	half(2026, time.February, 16)
	half(2026, time.December, 24)
	half(2026, time.December, 31)
	return t
}

// cnTable: Shanghai and Shenzhen weekday closures, 2024–2026. The exchanges
// never trade on the weekend "make-up working days" of the State Council's
// arrangements, so those need no entry.
func cnTable() *table {
	t := &table{first: 2024, last: 2026, closed: map[date]string{}}
	add := func(name string, y int, m time.Month, days ...int) {
		for _, d := range days {
			t.closed[date{y, m, d}] = name
		}
	}
	add("New Year's Day", 2024, time.January, 1)
	add("Spring Festival", 2024, time.February, 9, 12, 13, 14, 15, 16)
	add("Qingming Festival", 2024, time.April, 4, 5)
	add("Labour Day", 2024, time.May, 1, 2, 3)
	add("Dragon Boat Festival", 2024, time.June, 10)
	add("Mid-Autumn Festival", 2024, time.September, 16, 17)
	add("National Day", 2024, time.October, 1, 2, 3, 4, 7)

	add("New Year's Day", 2025, time.January, 1)
	add("Spring Festival", 2025, time.January, 28, 29, 30, 31)
	add("Spring Festival", 2025, time.February, 3, 4)
	add("Qingming Festival", 2025, time.April, 4)
	add("Labour Day", 2025, time.May, 1, 2, 5)
	add("Dragon Boat Festival", 2025, time.June, 2)
	add("National Day and Mid-Autumn Festival", 2025, time.October, 1, 2, 3, 6, 7, 8)

	add("New Year's Day", 2026, time.January, 1, 2)
	add("Spring Festival", 2026, time.February, 16, 17, 18, 19, 20, 23)
	add("Qingming Festival", 2026, time.April, 6)
	add("Labour Day", 2026, time.May, 1, 4, 5)
	add("Dragon Boat Festival", 2026, time.June, 19)
	add("Mid-Autumn Festival", 2026, time.September, 25)
	add("National Day", 2026, time.October, 1, 2, 5, 6, 7)
	return t
}
