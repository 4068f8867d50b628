package scenario

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// rng is a random stream with the draws the model needs. Every part of a
// scenario (an item's plan, its readings, a SKU's orders) has its own
// stream derived from the seed and the part's name, so parts can be
// generated in any order, or in parallel, and still come out the same.
type rng struct{ *rand.Rand }

// stream returns the stream of one part of the scenario.
func stream(seed int64, part string, index int) rng {
	h := fnv.New64a()
	h.Write([]byte(part))
	var b [8]byte
	for i := range b {
		b[i] = byte(uint64(index) >> (8 * i))
	}
	h.Write(b[:])
	return rng{rand.New(rand.NewPCG(uint64(seed), h.Sum64()))}
}

// uniform draws from r uniformly.
func (r rng) uniform(x Range) float64 { return x.Min + r.Float64()*(x.Max-x.Min) }

// logUniform draws from r uniformly on a log scale: as many SKUs sell 0.2
// to 1 orders an hour as 1 to 5. x.Min must be positive.
func (r rng) logUniform(x Range) float64 {
	return x.Min * math.Exp(r.Float64()*math.Log(x.Max/x.Min))
}

// chance returns true with probability p.
func (r rng) chance(p float64) bool { return r.Float64() < p }

// between draws a time uniformly in [from, to), to the millisecond.
func (r rng) between(from, to time.Time) time.Time {
	if !to.After(from) {
		return from
	}
	return from.Add(time.Duration(r.Int64N(int64(to.Sub(from)/time.Millisecond))) * time.Millisecond)
}

// weighted returns an index drawn with probability proportional to w.
func (r rng) weighted(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u := r.Float64() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return 0
}

// poisson draws a Poisson count: exactly for small means (Knuth), by the
// normal approximation for large ones, where it is indistinguishable and
// the exact draw would cost a multiplication per unit.
func (r rng) poisson(mean float64) int64 {
	switch {
	case !(mean > 0):
		return 0
	case mean < 30:
		limit, p, k := math.Exp(-mean), r.Float64(), int64(0)
		for p > limit {
			p *= r.Float64()
			k++
		}
		return k
	}
	return max(0, int64(math.Round(mean+math.Sqrt(mean)*r.NormFloat64())))
}

// gamma draws from Gamma(shape, 1) (Marsaglia and Tsang; shape >= 1, and
// below 1 through the usual boost).
func (r rng) gamma(shape float64) float64 {
	if shape < 1 {
		return r.gamma(shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// gammaPoisson draws an overdispersed count around mean: Poisson with a
// rate that is itself gamma-distributed (a negative binomial), the usual
// model of engagement counts, burstier than Poisson.
func (r rng) gammaPoisson(mean, shape float64) int64 {
	if !(mean > 0) {
		return 0
	}
	return r.poisson(mean * r.gamma(shape) / shape)
}
