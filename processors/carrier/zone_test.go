package carrier

import (
	"errors"
	"testing"
)

// TestZIP3Areas checks that the area table covers 000 to 999 in order,
// without gaps, and every area with a zone has a plausible centre.
func TestZIP3Areas(t *testing.T) {
	next := 0
	for _, a := range zip3Areas {
		if a.first != next || a.last < a.first {
			t.Fatalf("area %+v: want it to start at %03d", a, next)
		}
		next = a.last + 1
		if a.name != "" && (a.lat < 10 || a.lat > 72 || a.lon < -180 || a.lon > 180) {
			t.Errorf("area %+v: centre out of the US", a)
		}
	}
	if next != 1000 {
		t.Fatalf("areas end at %03d, want 999", next-1)
	}
}

func TestZone(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		want     int
	}{
		// The zones of the USPS's own chart from 100 (Manhattan), which the
		// approximation matches for these.
		{"10001", "10001", 1},
		{"10001", "10001-2345", 1},
		{"10001", "10301", 2}, // Staten Island: same area, another ZIP3
		{"10001", "19103", 2}, // Philadelphia
		{"10001", "02108", 3}, // Boston
		{"10001", "20001", 3}, // Washington
		{"10001", "60601", 5}, // Chicago
		{"10001", "30301", 5}, // Atlanta
		{"10001", "75201", 6}, // Dallas
		{"10001", "80202", 7}, // Denver
		{"10001", "90001", 8}, // Los Angeles
		{"10001", "96813", 8}, // Honolulu
		{"10001", "00901", 8}, // San Juan (1600 miles, but offshore)
		{"98101", "99501", 8}, // Seattle - Anchorage (1450 miles, but offshore)
		{"96813", "96720", 2}, // Honolulu - Hilo
		{"90001", "94105", 4}, // Los Angeles - San Francisco
		{"85001", "90001", 4}, // Phoenix - Los Angeles
		{"94105", "98101", 5}, // San Francisco - Seattle
		{"77001", "75201", 3}, // Houston - Dallas
		{"33101", "32801", 3}, // Miami - Orlando
		{"60601", "46204", 3}, // Chicago - Indianapolis
		{"02108", "04101", 2}, // Boston - Portland, Maine
	} {
		got, err := Zone(tt.from, tt.to)
		if err != nil || got != tt.want {
			t.Errorf("Zone(%s, %s) = %d, %v; want %d", tt.from, tt.to, got, err, tt.want)
		}
		if back, _ := Zone(tt.to, tt.from); back != got {
			t.Errorf("Zone(%s, %s) = %d, but %d the other way", tt.to, tt.from, back, got)
		}
	}
}

// TestZoneAll checks every pair of ZIP3s with a zone: 1 only for the same
// ZIP3, 2 to 8 otherwise, the same both ways.
func TestZoneAll(t *testing.T) {
	for a := range 1000 {
		if areaOf[a] < 0 {
			continue
		}
		for b := range 1000 {
			if areaOf[b] < 0 {
				continue
			}
			z := zip3Zone(a, b)
			if (z == 1) != (a == b) || z < 1 || z > Zones || z != zip3Zone(b, a) {
				t.Fatalf("zone(%03d, %03d) = %d, the other way %d", a, b, z, zip3Zone(b, a))
			}
		}
	}
}

func TestZIP3(t *testing.T) {
	for _, tt := range []struct {
		zip  string
		want int // -1: refused
	}{
		{"10001", 100},
		{"00501", 5},
		{"99950", 999},
		{"10001-1234", 100},
		{"1000", -1},
		{"100011", -1},
		{"100011234", -1},  // ZIP+4 without its hyphen
		{"10001 1234", -1}, // nor with a space
		{"10001-123", -1},
		{"1000A", -1},
		{" 10001", -1},
		{"１０００１", -1}, // full-width digits
		{"", -1},
		{"SW1A 1AA", -1},
		{"00123", -1}, // 001: not assigned
		{"09012", -1}, // APO AE
		{"34001", -1}, // APO AA
		{"96201", -1}, // APO AP
	} {
		got, err := ZIP3(tt.zip)
		switch {
		case tt.want < 0 && !errors.Is(err, ErrBadZIP):
			t.Errorf("ZIP3(%q) = %d, %v; want ErrBadZIP", tt.zip, got, err)
		case tt.want >= 0 && (err != nil || got != tt.want):
			t.Errorf("ZIP3(%q) = %d, %v; want %d", tt.zip, got, err, tt.want)
		}
	}
	if _, err := Zone("10001", "0"); !errors.Is(err, ErrBadZIP) || err.Error() != `destination: bad ZIP code: "0" is not a ZIP code of 5 digits or ZIP+4 (12345-6789)` {
		t.Errorf("error %v", err)
	}
	if name := AreaName(606); name != "IL Chicago" {
		t.Errorf("AreaName(606) = %q", name)
	}
}
