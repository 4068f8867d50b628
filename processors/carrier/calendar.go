package carrier

import (
	"slices"
	"time"
)

// day is a calendar date as a number of days since 1970-01-01, so that
// counting business days is integer arithmetic.
type day int64

const secondsPerDay = 24 * 60 * 60

// dayOf is t's date in loc and the time since that date's midnight.
func dayOf(t time.Time, loc *time.Location) (day, time.Duration) {
	t = t.In(loc)
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	clock := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
	return day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay), clock
}

// weekday: 1970-01-01 was a Thursday.
func (d day) weekday() time.Weekday {
	return time.Weekday(((int64(d)+int64(time.Thursday))%7 + 7) % 7)
}

// at is the start of the date in loc.
func (d day) at(loc *time.Location) time.Time {
	y, m, dd := time.Unix(int64(d)*secondsPerDay, 0).UTC().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// calendar says which days are business days: Monday to Friday, except
// holidays.
type calendar struct {
	loc      *time.Location
	holidays []day // sorted
}

func newCalendar(loc *time.Location, holidays []time.Time) calendar {
	c := calendar{loc: loc}
	if len(holidays) > 0 {
		c.holidays = make([]day, len(holidays))
		for i, h := range holidays {
			// A holiday is a date: its own location says which.
			y, m, d := h.Date()
			c.holidays[i] = day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
		}
		slices.Sort(c.holidays)
	}
	return c
}

func (c *calendar) business(d day) bool {
	if wd := d.weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := slices.BinarySearch(c.holidays, d)
	return !holiday
}

// onOrAfter is the first business day on or after d.
func (c *calendar) onOrAfter(d day) day {
	for !c.business(d) {
		d++
	}
	return d
}

// add is the business day n business days after d (d itself need not be
// one); n = 0 is onOrAfter(d).
func (c *calendar) add(d day, n int) day {
	d = c.onOrAfter(d)
	for ; n > 0; n-- {
		d = c.onOrAfter(d + 1)
	}
	return d
}
