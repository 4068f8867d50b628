// Package loadgen drives the webhook ingest with realistic signed TikTok
// webhooks, closed-loop (as fast as the connections go) or open-loop (at a
// fixed rate, latency measured from when each request was due, so a slow
// server cannot hide its queueing), and reports throughput and latency
// percentiles. It also serves the baseline the ingest is compared with: a
// minimal handler that only verifies the signature and produces
// synchronously.
package loadgen

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/ksuid"

	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/schemas"
)

// Config describes one load run.
type Config struct {
	// URL is the TikTok webhook endpoint.
	URL string
	// App signs the webhooks.
	App webhook.App
	// Shops and Orders size the catalogue the webhooks are drawn from.
	Shops, Orders int
	// Connections is the number of concurrent connections (closed loop) or
	// the most requests in flight (open loop).
	Connections int
	// Duration is how long requests are sent.
	Duration time.Duration
	// Rate is requests per second for an open-loop run; 0 runs closed-loop.
	Rate float64
	// Seed makes the webhook sequence repeatable.
	Seed uint64
	// KeepAccepted records the event id of every webhook answered 200, for
	// checking afterwards that each is in the topic.
	KeepAccepted bool
}

// Result is what a run measured.
type Result struct {
	Mode     string        `json:"mode"`
	Sent     int           `json:"sent"`
	Codes    map[int]int   `json:"codes"`
	Errors   int           `json:"errors"`
	Missed   int           `json:"missed"` // open loop: due while all connections were busy
	Elapsed  time.Duration `json:"elapsed_ns"`
	PerSec   float64       `json:"requests_per_second"`
	OKPerSec float64       `json:"accepted_per_second"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
	P999     time.Duration `json:"p999_ns"`
	Max      time.Duration `json:"max_ns"`
	Accepted []ksuid.KSUID `json:"-"`
	firstErr error
}

// String renders the result as one line.
func (r Result) String() string {
	return fmt.Sprintf("%s: %d requests in %.1fs = %.0f req/s (%.0f accepted/s), p50 %s p99 %s p99.9 %s max %s, codes %v, errors %d, missed %d",
		r.Mode, r.Sent, r.Elapsed.Seconds(), r.PerSec, r.OKPerSec, ms(r.P50), ms(r.P99), ms(r.P999), ms(r.Max), r.Codes, r.Errors, r.Missed)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// Run sends webhooks until cfg.Duration has passed or ctx is done.
func Run(ctx context.Context, cfg Config) (Result, error) {
	switch {
	case cfg.URL == "":
		return Result{}, errors.New("loadgen: no URL")
	case cfg.App.Key == "" || cfg.App.Secret == "":
		return Result{}, errors.New("loadgen: the app key and secret to sign with are required")
	case cfg.Shops < 1 || cfg.Orders < 1 || cfg.Connections < 1 || cfg.Duration <= 0 || cfg.Rate < 0:
		return Result{}, errors.New("loadgen: shops, orders, connections and duration must be positive, the rate not negative")
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: cfg.Connections,
			MaxConnsPerHost:     cfg.Connections,
		},
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	gen := newGenerator(cfg)
	workers := make([]*worker, cfg.Connections)
	for i := range workers {
		workers[i] = &worker{codes: map[int]int{}}
	}
	start := time.Now()
	var missed int
	if cfg.Rate == 0 {
		runClosed(ctx, client, cfg, gen, workers)
	} else {
		missed = runOpen(ctx, client, cfg, gen, workers)
	}
	return summarize(cfg, workers, time.Since(start), missed)
}

// worker is one connection's tally; each is touched by one goroutine.
type worker struct {
	latencies []time.Duration
	codes     map[int]int
	errors    int
	firstErr  error
	accepted  []ksuid.KSUID
}

func (w *worker) send(ctx context.Context, client *http.Client, cfg Config, wh webhookReq, due time.Time) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(wh.body))
	if err != nil {
		w.fail(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", wh.signature)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.fail(err)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	w.latencies = append(w.latencies, time.Since(due))
	w.codes[resp.StatusCode]++
	if resp.StatusCode == http.StatusOK && cfg.KeepAccepted {
		w.accepted = append(w.accepted, wh.id)
	}
}

func (w *worker) fail(err error) {
	w.errors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

func runClosed(ctx context.Context, client *http.Client, cfg Config, gen *generator, workers []*worker) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				w.send(ctx, client, cfg, gen.next(), time.Now())
			}
		})
	}
	wg.Wait()
}

// runOpen issues requests on a fixed schedule. A request that is due while
// every connection is busy is counted as missed rather than delayed, so the
// schedule, and with it the offered load, never bends to the server.
func runOpen(ctx context.Context, client *http.Client, cfg Config, gen *generator, workers []*worker) int {
	type job struct {
		wh  webhookReq
		due time.Time
	}
	jobs := make(chan job, len(workers))
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for j := range jobs {
				w.send(ctx, client, cfg, j.wh, j.due)
			}
		})
	}
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	missed := 0
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- job{wh: gen.next(), due: due}:
		default:
			missed++
		}
	}
	close(jobs)
	wg.Wait()
	return missed
}

func summarize(cfg Config, workers []*worker, elapsed time.Duration, missed int) (Result, error) {
	res := Result{Mode: "closed-loop", Codes: map[int]int{}, Elapsed: elapsed, Missed: missed}
	if cfg.Rate > 0 {
		res.Mode = fmt.Sprintf("open-loop %.0f/s", cfg.Rate)
	}
	var all []time.Duration
	for _, w := range workers {
		all = append(all, w.latencies...)
		for code, n := range w.codes {
			res.Codes[code] += n
		}
		res.Errors += w.errors
		if res.firstErr == nil {
			res.firstErr = w.firstErr
		}
		res.Accepted = append(res.Accepted, w.accepted...)
	}
	res.Sent = len(all)
	if res.Sent == 0 {
		return res, fmt.Errorf("loadgen: no request was answered (first error: %v)", res.firstErr)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	res.P50, res.P99, res.P999, res.Max = pct(0.50), pct(0.99), pct(0.999), all[len(all)-1]
	res.PerSec = float64(res.Sent) / elapsed.Seconds()
	res.OKPerSec = float64(res.Codes[http.StatusOK]) / elapsed.Seconds()
	return res, nil
}

// generator makes signed order-status webhooks across the catalogue, each
// with a fresh notification id so the ingest produces every one.
type generator struct {
	cfg   Config
	run   string
	mu    sync.Mutex
	rng   *rand.Rand
	count uint64
}

type webhookReq struct {
	body      []byte
	signature string
	id        ksuid.KSUID
}

var statuses = []schemas.OrderStatus{
	schemas.OrderStatusUnpaid, schemas.OrderStatusAwaitingShipment, schemas.OrderStatusAwaitingShipment,
	schemas.OrderStatusAwaitingCollection, schemas.OrderStatusInTransit, schemas.OrderStatusDelivered,
	schemas.OrderStatusCompleted, schemas.OrderStatusCancelled,
}

func newGenerator(cfg Config) *generator {
	return &generator{cfg: cfg, run: ksuid.New().String()[:10], rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}
}

func (g *generator) next() webhookReq {
	g.mu.Lock()
	g.count++
	n, shop, order, status := g.count, g.rng.IntN(g.cfg.Shops), g.rng.IntN(g.cfg.Orders), statuses[g.rng.IntN(len(statuses))]
	g.mu.Unlock()
	now := time.Now().Unix()
	shopID := fmt.Sprintf("7495%09d", shop)
	notification := fmt.Sprintf("%s-%d", g.run, n)
	body := fmt.Appendf(nil, `{"type":1,"tts_notification_id":%q,"shop_id":%q,"timestamp":%d,"data":{"order_id":"5764%014d","order_status":%q,"is_on_hold_order":false,"update_time":%d}}`,
		notification, shopID, now, order, status, now)
	return webhookReq{
		body:      body,
		signature: hex.EncodeToString(webhook.Sign(g.cfg.App, body)),
		id:        schemas.EventID(time.Unix(now, 0), shopID, notification),
	}
}
