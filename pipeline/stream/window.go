package stream

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Windows describes event-time windows: tumbling when Advance equals Size,
// hopping when it is smaller. A window [Start, End) accepts records until
// stream time reaches End+Grace; a record that arrives for windows that are
// all closed by then is late: counted and sent to the DLQ, never dropped
// silently.
type Windows struct {
	Size, Advance, Grace time.Duration
}

// Tumbling returns back-to-back windows of one size.
func Tumbling(size, grace time.Duration) Windows {
	return Windows{Size: size, Advance: size, Grace: grace}
}

// Hopping returns windows of size starting every advance.
func Hopping(size, advance, grace time.Duration) Windows {
	return Windows{Size: size, Advance: advance, Grace: grace}
}

func (w Windows) validate() error {
	if w.Size <= 0 || w.Advance <= 0 || w.Advance > w.Size || w.Grace < 0 {
		return fmt.Errorf("windows: size %v and advance %v must be positive, advance at most size, grace %v not negative", w.Size, w.Advance, w.Grace)
	}
	return nil
}

// Window is one window, [Start, End).
type Window struct {
	Start, End time.Time
}

// For returns the windows containing t, oldest first. Windows are aligned
// to the Unix epoch, so every instance and every replay agrees on them.
func (w Windows) For(t time.Time) []Window { return w.appendFor(nil, t) }

// appendFor appends the windows containing t to dst[len(dst):] and returns
// them, reusing dst's spare capacity.
func (w Windows) appendFor(dst []Window, t time.Time) []Window {
	ns := t.UnixNano()
	size, adv := w.Size.Nanoseconds(), w.Advance.Nanoseconds()
	last := floorDiv(ns, adv) * adv // latest window start at or before t
	out := dst[len(dst):]
	for start := last - ((size-1)/adv)*adv; start <= last; start += adv {
		if start+size > ns {
			out = append(out, Window{Start: time.Unix(0, start).UTC(), End: time.Unix(0, start+size).UTC()})
		}
	}
	return out
}

// Open reports whether a window still accepts records at stream time now.
func (w Windows) Open(win Window, now time.Time) bool {
	return now.Before(win.End.Add(w.Grace))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// WindowKey is the store key of key in the window starting at start: the
// start in fixed-width decimal first, so a store's keys sort by window.
func WindowKey(start time.Time, key string) string {
	ns := start.UnixNano()
	// Fixed width with leading zeros; negative starts (before 1970) are
	// not windows anyone aggregates.
	var digits [windowPrefix - 1]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	var b strings.Builder // one allocation: every windowed write makes a key
	b.Grow(windowPrefix + len(key))
	b.Write(digits[:])
	b.WriteByte('|')
	b.WriteString(key)
	return b.String()
}

// windowPrefix is the length of a WindowKey's window part, separator
// included.
const windowPrefix = 21

// ParseWindowKey splits a WindowKey.
func ParseWindowKey(k string) (start time.Time, key string, ok bool) {
	if len(k) < windowPrefix || k[windowPrefix-1] != '|' {
		return time.Time{}, "", false
	}
	ns, err := strconv.ParseInt(k[:windowPrefix-1], 10, 64)
	if err != nil {
		return time.Time{}, "", false
	}
	return time.Unix(0, ns).UTC(), k[windowPrefix:], true
}
