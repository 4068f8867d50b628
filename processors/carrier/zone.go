package carrier

import (
	"fmt"
	"math"
)

// Zones approximate the carriers' own zone charts, which are tables of
// origin and destination ZIP3 prefixes, from the distance between the
// prefixes' areas: each ZIP3 belongs to an area (a state, or a part of a
// large one) with the approximate centre of its population, and the zone is
// the band of the great-circle distance between the two centres. The same
// ZIP3 is zone 1; any other is at least zone 2. Every carrier gets the
// same zone. Alaska, Hawaii and the territories are zone 8 from anywhere
// else, as on the carriers' charts (whose zone 9 this leaves out). See
// docs/carriers.md for the table and the bands.

// zip3Area is a range of ZIP3 prefixes and the centre of its area; an
// area without a name has no zone (unassigned and military prefixes).
type zip3Area struct {
	first, last int
	name        string
	lat, lon    float64
}

// zip3Areas covers 000 to 999 in order, without gaps. Prefixes the USPS
// has not assigned fall in the area around them, except 000-004.
var zip3Areas = []zip3Area{
	{0, 4, "", 0, 0}, // not assigned
	{5, 5, "NY Holtsville", 40.82, -73.05},
	{6, 9, "PR, VI", 18.30, -66.20},
	{10, 13, "MA Springfield", 42.20, -72.60},
	{14, 27, "MA Boston, Worcester", 42.30, -71.40},
	{28, 29, "RI", 41.80, -71.40},
	{30, 38, "NH", 43.00, -71.50},
	{39, 49, "ME", 44.10, -70.00},
	{50, 54, "VT", 44.30, -72.80},
	{55, 55, "MA Andover", 42.65, -71.14},
	{56, 59, "VT", 44.30, -72.80},
	{60, 69, "CT", 41.50, -72.80},
	{70, 79, "NJ north", 40.80, -74.30},
	{80, 89, "NJ south", 39.90, -74.80},
	{90, 99, "", 0, 0}, // APO/FPO AE
	{100, 104, "NY New York City", 40.75, -73.95},
	{105, 109, "NY Westchester, Hudson Valley", 41.20, -73.90},
	{110, 119, "NY Long Island", 40.75, -73.30},
	{120, 129, "NY Albany", 42.70, -73.90},
	{130, 139, "NY Syracuse, Binghamton", 42.90, -76.00},
	{140, 149, "NY Buffalo, Rochester", 42.90, -78.10},
	{150, 168, "PA west", 40.60, -79.60},
	{169, 179, "PA central", 40.60, -77.00},
	{180, 196, "PA east", 40.20, -75.40},
	{197, 199, "DE", 39.50, -75.60},
	{200, 205, "DC", 38.90, -77.00},
	{206, 219, "MD", 39.20, -76.70},
	{220, 223, "VA north", 38.80, -77.30},
	{224, 246, "VA south and west", 37.50, -78.50},
	{247, 269, "WV", 38.60, -80.60},
	{270, 279, "NC east", 35.80, -78.90},
	{280, 289, "NC west", 35.50, -81.30},
	{290, 299, "SC", 33.90, -80.90},
	{300, 312, "GA north", 33.70, -84.20},
	{313, 319, "GA south", 31.60, -82.80},
	{320, 324, "FL north", 30.40, -83.50},
	{325, 325, "FL Pensacola", 30.40, -87.20},
	{326, 329, "FL Gainesville, Orlando", 28.80, -81.70},
	{330, 334, "FL Miami, Fort Lauderdale, West Palm Beach", 26.20, -80.20},
	{335, 339, "FL Tampa, Fort Myers", 27.60, -82.20},
	{340, 340, "", 0, 0}, // APO/FPO AA
	{341, 349, "FL central and south", 27.60, -81.60},
	{350, 369, "AL", 33.00, -86.70},
	{370, 379, "TN middle and east", 35.90, -85.70},
	{380, 385, "TN west", 35.40, -89.30},
	{386, 397, "MS", 32.60, -89.80},
	{398, 399, "GA southwest", 31.50, -84.20},
	{400, 429, "KY", 37.80, -85.40},
	{430, 459, "OH", 40.30, -82.80},
	{460, 479, "IN", 39.90, -86.30},
	{480, 492, "MI east", 42.70, -84.00},
	{493, 499, "MI west and north", 44.30, -85.80},
	{500, 528, "IA", 41.90, -93.40},
	{529, 549, "WI", 43.90, -89.30},
	{550, 568, "MN", 45.50, -93.80},
	{569, 569, "DC", 38.90, -77.00},
	{570, 579, "SD", 44.00, -99.50},
	{580, 589, "ND", 47.30, -100.30},
	{590, 599, "MT", 46.80, -110.20},
	{600, 608, "IL Chicago", 41.90, -87.90},
	{609, 629, "IL central and south", 40.00, -89.20},
	{630, 659, "MO", 38.40, -92.40},
	{660, 679, "KS", 38.50, -97.60},
	{680, 699, "NE", 41.30, -97.50},
	{700, 715, "LA", 30.80, -91.60},
	{716, 729, "AR", 34.80, -92.40},
	{730, 732, "OK Oklahoma City", 35.50, -97.50},
	{733, 733, "TX Austin", 30.30, -97.70},
	{734, 749, "OK", 35.70, -96.50},
	{750, 759, "TX Dallas, northeast", 32.80, -96.50},
	{760, 769, "TX Fort Worth, central", 32.20, -98.50},
	{770, 779, "TX Houston, southeast", 29.90, -95.30},
	{780, 789, "TX San Antonio, south", 29.20, -98.30},
	{790, 797, "TX panhandle, west", 33.00, -101.80},
	{798, 799, "TX El Paso", 31.80, -106.40},
	{800, 819, "CO", 39.40, -105.00},
	{820, 831, "WY", 42.90, -107.50},
	{832, 839, "ID", 43.60, -115.00},
	{840, 849, "UT", 40.60, -111.90},
	{850, 865, "AZ", 33.20, -111.70},
	{866, 884, "NM", 34.90, -106.40},
	{885, 885, "TX El Paso", 31.80, -106.40},
	{886, 891, "NV Las Vegas", 36.20, -115.20},
	{892, 899, "NV Reno, north", 39.80, -118.50},
	{900, 918, "CA Los Angeles", 34.10, -118.20},
	{919, 921, "CA San Diego", 32.80, -117.10},
	{922, 925, "CA Inland Empire", 33.90, -117.00},
	{926, 928, "CA Orange County", 33.70, -117.80},
	{929, 935, "CA central coast, Bakersfield", 35.00, -119.50},
	{936, 939, "CA Fresno, Salinas", 36.60, -120.50},
	{940, 951, "CA Bay Area", 37.60, -122.10},
	{952, 961, "CA Sacramento, north", 38.90, -121.50},
	{962, 966, "", 0, 0}, // APO/FPO AP
	{967, 968, "HI", 21.30, -157.90},
	{969, 969, "GU, MP", 13.50, 144.80},
	{970, 979, "OR", 44.80, -122.50},
	{980, 986, "WA west", 47.40, -122.40},
	{987, 994, "WA east", 47.10, -119.00},
	{995, 999, "AK", 61.20, -149.90},
}

// offshore are the areas outside the 48 contiguous states.
var offshore = map[string]bool{"PR, VI": true, "HI": true, "GU, MP": true, "AK": true}

// zoneBands are the upper bounds in miles of zones 2 to 7 (the USPS's own
// bands); farther is zone 8.
var zoneBands = [...]float64{150, 300, 600, 1000, 1400, 1800}

var (
	// areaOf is the index in zip3Areas of each ZIP3's area, -1 when it has
	// no zone.
	areaOf [1000]int16
	// areaZone is the zone between two areas (2 to 8), by their indexes.
	areaZone [][]uint8
)

func init() {
	for i, a := range zip3Areas {
		for z := a.first; z <= a.last; z++ {
			areaOf[z] = int16(i)
			if a.name == "" {
				areaOf[z] = -1
			}
		}
	}
	areaZone = make([][]uint8, len(zip3Areas))
	for i, a := range zip3Areas {
		areaZone[i] = make([]uint8, len(zip3Areas))
		for j, b := range zip3Areas {
			areaZone[i][j] = distanceZone(miles(a.lat, a.lon, b.lat, b.lon))
			if i != j && (offshore[a.name] || offshore[b.name]) {
				areaZone[i][j] = Zones
			}
		}
	}
}

// earthRadiusMiles is the mean radius of the Earth.
const earthRadiusMiles = 3958.8

// miles is the great-circle distance between two points (haversine).
func miles(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusMiles * math.Asin(math.Min(1, math.Sqrt(h)))
}

// distanceZone is the zone of a distance between two different ZIP3s.
func distanceZone(mi float64) uint8 {
	for i, limit := range zoneBands {
		if mi <= limit {
			return uint8(i + 2)
		}
	}
	return Zones
}

// ZIP3 checks a ZIP code, five digits ("10001") or ZIP+4 ("10001-1234"),
// and returns its first three digits as a number. A prefix that has no
// zone (000-004, military APO/FPO) is refused too.
func ZIP3(zip string) (int, error) {
	ok := len(zip) == 5 || len(zip) == 10 && zip[5] == '-'
	for i := 0; ok && i < len(zip); i++ {
		ok = i == 5 || zip[i] >= '0' && zip[i] <= '9'
	}
	if !ok {
		if len(zip) > 20 {
			zip = zip[:20] + "..."
		}
		return 0, fmt.Errorf("%w: %q is not a ZIP code of 5 digits or ZIP+4 (12345-6789)", ErrBadZIP, zip)
	}
	z := int(zip[0]-'0')*100 + int(zip[1]-'0')*10 + int(zip[2]-'0')
	if areaOf[z] < 0 {
		return 0, fmt.Errorf("%w: %q: prefix %03d has no zone (unassigned or military APO/FPO)", ErrBadZIP, zip, z)
	}
	return z, nil
}

// Zone is the zone from one ZIP code to another: 1 for the same ZIP3, else
// 2 to 8 by the distance between the ZIP3s' areas.
func Zone(origin, destination string) (int, error) {
	a, err := ZIP3(origin)
	if err != nil {
		return 0, fmt.Errorf("origin: %w", err)
	}
	b, err := ZIP3(destination)
	if err != nil {
		return 0, fmt.Errorf("destination: %w", err)
	}
	return zip3Zone(a, b), nil
}

// zip3Zone is the zone between two ZIP3s that have one.
func zip3Zone(a, b int) int {
	if a == b {
		return 1
	}
	return int(areaZone[areaOf[a]][areaOf[b]])
}

// AreaName names the area of a ZIP3 (as in docs/carriers.md), or "" when
// it has no zone.
func AreaName(zip3 int) string {
	if zip3 < 0 || zip3 > 999 || areaOf[zip3] < 0 {
		return ""
	}
	return zip3Areas[areaOf[zip3]].name
}
