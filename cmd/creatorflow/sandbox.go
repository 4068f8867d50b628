package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/connectors/sandbox"
	"github.com/creatorflow/creatorflow/pipeline/ops"
)

var sandboxCommand = command{
	name:    "sandbox",
	summary: "serve a sandbox of the TikTok Shop API with controllable latency and failures",
	run:     runSandbox,
}

const sandboxUsage = `usage: creatorflow sandbox [flags]

Serves a stand-in for the TikTok Shop API: orders, order search, shipping
info, products and inventory, video metrics and token refresh, in TikTok's
paths and JSON shapes. It checks signatures, timestamps, access tokens and
rate limits as TikTok does, and injects latency, errors, throttling and
outages on a schedule that --seed fixes: the same requests meet the same
faults. Orders, catalog products and videos nobody registered are made up
from the seed (--synthesize).

The seller authorization starts as access token sandbox-access-0 and refresh
token sandbox-refresh-0. The admin API under /sandbox/ (no auth, no faults)
registers orders, products and videos, sets order statuses, expires tokens
and lists the requests received. See docs/sandbox.md.`

// sandboxMetricsAddr is the sandbox's own default metrics address: it runs
// next to the pipeline, whose processes default to 127.0.0.1:9464.
const sandboxMetricsAddr = "127.0.0.1:9469"

// maxSandboxLatency keeps the injected latency under ops.Serve's write
// timeout (30 s), past which the answer would be cut off.
const maxSandboxLatency = 25 * time.Second

// outagesFlag collects --outage windows: the flag repeated, or a
// comma-separated list (which is how CREATORFLOW_OUTAGE gives several).
type outagesFlag []sandbox.Outage

// String implements flag.Value.
func (o *outagesFlag) String() string {
	parts := make([]string, len(*o))
	for i, w := range *o {
		parts[i] = w.String()
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value; each use adds its windows.
func (o *outagesFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		w, err := sandbox.ParseOutage(part)
		if err != nil {
			return err
		}
		*o = append(*o, w)
	}
	return nil
}

func runSandbox(ctx context.Context, e *env, args []string) error {
	var (
		logs    logFlags
		opsf    opsFlags
		addr    string
		outages outagesFlag
		cfg     = sandbox.DefaultConfig()
	)
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.StringVar(&addr, "addr", "127.0.0.1:8090", "address of the sandbox API and of its admin routes under /sandbox/")
	fs.StringVar(&cfg.AppKey, "tiktok-app-key", cfg.AppKey, "app key whose requests are accepted")
	fs.StringVar(&cfg.AppSecret, "tiktok-app-secret", cfg.AppSecret, "secret of that app, which requests are signed with")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the fault schedule and of the made-up orders, products and videos")
	fs.DurationVar(&cfg.Latency, "latency", 0, "delay added to every API request")
	fs.DurationVar(&cfg.LatencyJitter, "latency-jitter", 0, "up to this much more delay, drawn per request from the seed")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "fraction of API requests answered 500")
	fs.Float64Var(&cfg.ThrottleRate, "throttle-rate", 0, "fraction of API requests answered 429 even under the rate limits")
	fs.Var(&outages, "outage", "outage window after the start as START+DURATION, e.g. 10m+2m (repeatable, or comma-separated): every API request in it is answered 503")
	fs.IntVar(&cfg.AppRate, "app-rate", cfg.AppRate, "API requests a minute for the app, 429 above (0: unlimited)")
	fs.IntVar(&cfg.ShopRate, "shop-rate", 0, "API requests a minute for each shop, 429 above (0: unlimited)")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", cfg.TokenTTL, "lifetime of an access token")
	fs.BoolVar(&cfg.Synthesize, "synthesize", true, "make up orders, catalog products and videos that were not registered")
	logs.register(fs)
	opsf.register(fs)
	// The shared ops flags default to the pipeline's port; the sandbox
	// takes its own so both run on one machine without flags. Setting the
	// default (not the flag) keeps CREATORFLOW_METRICS_ADDR working.
	opsf.addr = sandboxMetricsAddr
	fs.Lookup("metrics-addr").DefValue = sandboxMetricsAddr
	if err := parse(fs, sandboxUsage, e, args); err != nil {
		return err
	}
	if err := checkListen("addr", addr); err != nil {
		return err
	}
	if err := checkListen("metrics-addr", opsf.addr); err != nil {
		return err
	}
	cfg.Outages = outages
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	switch {
	case cfg.TokenTTL <= 0:
		return usageError{errors.New("--token-ttl must be positive")}
	case cfg.Latency+cfg.LatencyJitter > maxSandboxLatency:
		return usageError{fmt.Errorf("--latency plus --latency-jitter must stay within %s", maxSandboxLatency)}
	}
	log, err := logs.logger(e)
	if err != nil {
		return err
	}
	reg := ops.NewRegistry()
	cfg.Registerer = reg
	cfg.Logger = log.With("role", "sandbox")
	srv, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	health := ops.NewHandler(reg, 2*time.Second)
	if opsf.pprof {
		health.EnableProfiling()
	}
	return supervise(ctx, log, []role{
		{name: "sandbox", run: func(ctx context.Context) error {
			return ops.Serve(ctx, addr, srv, 10*time.Second, log, func(a net.Addr) {
				log.Info("sandbox listening", "addr", a.String(), "admin", fmt.Sprintf("http://%s/sandbox/", a),
					"app_key", cfg.AppKey, "seed", cfg.Seed, "app_rate", cfg.AppRate, "shop_rate", cfg.ShopRate,
					"latency", cfg.Latency, "latency_jitter", cfg.LatencyJitter, "error_rate", cfg.ErrorRate,
					"throttle_rate", cfg.ThrottleRate, "outages", outages.String(), "synthesize", cfg.Synthesize)
			})
		}},
		{name: "ops", run: func(ctx context.Context) error {
			return ops.Serve(ctx, opsf.addr, health, 5*time.Second, log, func(a net.Addr) {
				log.Info("metrics and health listening", "addr", a.String(), "paths", "/metrics /healthz /readyz")
			})
		}},
	})
}
