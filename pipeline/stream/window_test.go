package stream

import (
	"testing"
	"time"
)

func TestWindowsFor(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 7, 30, 0, time.UTC)
	tests := []struct {
		name   string
		w      Windows
		starts []string
	}{
		{"tumbling 5m", Tumbling(5*time.Minute, 0), []string{"10:05:00"}},
		{"hopping 10m every 5m", Hopping(10*time.Minute, 5*time.Minute, 0), []string{"10:00:00", "10:05:00"}},
		{"hopping 5m every 2m", Hopping(5*time.Minute, 2*time.Minute, 0), []string{"10:04:00", "10:06:00"}},
		{"hopping 1h every 15m", Hopping(time.Hour, 15*time.Minute, 0), []string{"09:15:00", "09:30:00", "09:45:00", "10:00:00"}},
	}
	for _, tt := range tests {
		var got []string
		for _, win := range tt.w.For(at) {
			if !(win.Start.Compare(at) <= 0 && at.Before(win.End)) {
				t.Errorf("%s: %v does not contain %v", tt.name, win, at)
			}
			got = append(got, win.Start.Format("15:04:05"))
		}
		if len(got) != len(tt.starts) {
			t.Fatalf("%s: windows %v, want %v", tt.name, got, tt.starts)
		}
		for i := range got {
			if got[i] != tt.starts[i] {
				t.Fatalf("%s: windows %v, want %v", tt.name, got, tt.starts)
			}
		}
	}
	if w := Tumbling(time.Minute, 0).For(time.Unix(-1, 0)); len(w) != 1 || w[0].Start.Unix() != -60 {
		t.Fatalf("before the epoch: %v", w)
	}
}

func TestWindowOpenAndKeys(t *testing.T) {
	w := Tumbling(time.Minute, 10*time.Second)
	win := w.For(time.Unix(90, 0))[0] // [60s, 120s)
	if !w.Open(win, time.Unix(129, 0)) || w.Open(win, time.Unix(130, 0)) {
		t.Fatal("grace not applied")
	}
	k := WindowKey(win.Start, "sku|1")
	start, key, ok := ParseWindowKey(k)
	if !ok || !start.Equal(win.Start) || key != "sku|1" {
		t.Fatalf("ParseWindowKey(%q) = %v %q %v", k, start, key, ok)
	}
	if WindowKey(time.Unix(9, 0), "") >= WindowKey(time.Unix(10, 0), "") {
		t.Fatal("window keys do not sort by start")
	}
	for _, bad := range []string{"", "123", "00000000000000000060x"} {
		if _, _, ok := ParseWindowKey(bad); ok {
			t.Errorf("ParseWindowKey(%q) accepted", bad)
		}
	}
}
