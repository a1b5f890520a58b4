package vendor

import (
	"fmt"
	"strings"
	"time"
)

// Timeframe is a bar length in syncd's own notation, the one users configure
// and the `candles.timeframe` column holds. Each vendor maps it to its own code.
type Timeframe string

// The timeframes syncd knows. Note "1m" is a minute and "1M" a month; XdTick's
// own "1m" means a month and is mapped explicitly by its client.
const (
	TF1m  Timeframe = "1m"
	TF5m  Timeframe = "5m"
	TF15m Timeframe = "15m"
	TF30m Timeframe = "30m"
	TF1h  Timeframe = "1h"
	TF2h  Timeframe = "2h"
	TF4h  Timeframe = "4h"
	TF1d  Timeframe = "1d"
	TF1w  Timeframe = "1w"
	TF1M  Timeframe = "1M"
)

// Timeframes lists every timeframe from shortest to longest.
var Timeframes = []Timeframe{TF1m, TF5m, TF15m, TF30m, TF1h, TF2h, TF4h, TF1d, TF1w, TF1M}

var fixedDur = map[Timeframe]time.Duration{
	TF1m: time.Minute, TF5m: 5 * time.Minute, TF15m: 15 * time.Minute, TF30m: 30 * time.Minute,
	TF1h: time.Hour, TF2h: 2 * time.Hour, TF4h: 4 * time.Hour, TF1d: 24 * time.Hour, TF1w: 7 * 24 * time.Hour,
}

// ParseTimeframe reads one of "1m 5m 15m 30m 1h 2h 4h 1d 1w 1M" (case matters:
// "1M" is a month). Surrounding spaces are ignored.
func ParseTimeframe(s string) (Timeframe, error) {
	tf := Timeframe(strings.TrimSpace(s))
	if tf.Valid() {
		return tf, nil
	}
	return "", fmt.Errorf("unknown timeframe %q (want one of 1m 5m 15m 30m 1h 2h 4h 1d 1w 1M)", s)
}

// Valid reports whether tf is one of Timeframes.
func (tf Timeframe) Valid() bool {
	if tf == TF1M {
		return true
	}
	_, ok := fixedDur[tf]
	return ok
}

// String returns the configured form.
func (tf Timeframe) String() string { return string(tf) }

// Duration is the nominal length: exact for 1m–1w, 30 days for 1M. Use Next for
// calendar-exact stepping of months.
func (tf Timeframe) Duration() time.Duration {
	if tf == TF1M {
		return 30 * 24 * time.Hour
	}
	return fixedDur[tf]
}

// Intraday reports whether bars are shorter than a day, i.e. aligned to UTC
// multiples of their length rather than to an exchange-local calendar day.
func (tf Timeframe) Intraday() bool { return tf.Valid() && tf.Duration() < 24*time.Hour }

// Next returns the open time of the bar after the one opening at t, stepping
// months by the calendar in t's location.
func (tf Timeframe) Next(t time.Time) time.Time {
	if tf == TF1M {
		return t.AddDate(0, 1, 0)
	}
	if tf == TF1d || tf == TF1w {
		// Calendar days in t's location, so exchange-local midnights survive DST.
		return t.AddDate(0, 0, int(tf.Duration()/(24*time.Hour)))
	}
	return t.Add(tf.Duration())
}

// Less orders timeframes from shortest to longest.
func (tf Timeframe) Less(o Timeframe) bool { return tf.Duration() < o.Duration() }
