package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/pipeline/config"
	"github.com/creatorflow/creatorflow/pipeline/ops"
)

var runCommand = command{
	name:    "run",
	summary: "run every role of the pipeline in one process (or those named by --roles)",
	run: func(ctx context.Context, e *env, args []string) error {
		return runRoles(ctx, e, args, "run", allRoles)
	},
}

// allRoles are the roles `creatorflow run` starts by default, in start order.
var allRoles = []string{"ingest", "enrichment", "poller", "velocity", "inventory", "lifecycle", "priority", "shipping", "orderstate", "sink"}

var roleUsage = map[string]string{
	"run": `usage: creatorflow run [flags]

Runs the pipeline's roles in one process against the local stack by default,
or real clusters with --brokers and --clickhouse-url. Roles:
ingest (webhook endpoints into Kafka), enrichment (order webhooks into order
events with the Order API's details), poller (content counters of the catalog's
videos into Kafka), velocity (engagement velocity of each video into
content signals), inventory (stock, burn rate, viral and stock alerts,
reorders and listed stock per SKU), lifecycle (each order's state machine,
label cancels, orders that became shippable), priority (HIGH, STANDARD or
MANUAL_REVIEW per shippable order), shipping (carrier choice and label
commands), orderstate (order states into
PostgreSQL) and sink (Kafka into ClickHouse). Each
role logs a start-up line with its address; SIGTERM stops them cleanly.`,
	"ingest": `usage: creatorflow ingest [flags]

Serves POST /webhooks/tiktok: verifies the HMAC signature, validates the
envelope and answers 200 only once Kafka has acknowledged the webhook.`,
	"sink": `usage: creatorflow sink [flags]

Consumes the topics and writes them to ClickHouse in batches, committing Kafka
offsets only after ClickHouse accepted a batch.`,
}

// role is one long-running part of the pipeline.
type role struct {
	name string
	run  func(ctx context.Context) error
}

// runRoles parses the flags of the roles a command can run, starts them and
// the ops server, and waits. The first role to fail stops the others.
func runRoles(ctx context.Context, e *env, args []string, cmd string, available []string) error {
	var (
		logs   logFlags
		kafka  kafkaFlags
		opsf   opsFlags
		ingest ingestFlags
		app    tiktokAppFlags
		api    tiktokAPIFlags
		stream streamFlags
		pollf  pollerFlags
		pg     postgresFlags
		viral  viralFlags
		ship   shippingFlags
		sinkf  sinkFlags
		ch     clickhouseFlags
		roles  = config.List(slices.Clone(available))
	)
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	logs.register(fs)
	kafka.register(fs)
	opsf.register(fs)
	usesAPI := slices.Contains(available, "enrichment") || slices.Contains(available, "poller")
	streams := usesAPI || slices.ContainsFunc(available, func(r string) bool {
		return r == "velocity" || r == "inventory" || r == "lifecycle" || r == "priority" || r == "shipping"
	})
	if slices.Contains(available, "ingest") || usesAPI {
		app.register(fs)
	}
	if usesAPI {
		api.register(fs)
	}
	if usesAPI || slices.Contains(available, "inventory") || slices.Contains(available, "orderstate") || slices.Contains(available, "shipping") {
		pg.register(fs) // the catalog: shop ciphers, content to poll, SKU plans
	}
	if slices.Contains(available, "poller") {
		pollf.register(fs)
	}
	if slices.Contains(available, "ingest") {
		ingest.register(fs)
	}
	if streams {
		stream.register(fs)
	}
	if slices.Contains(available, "velocity") || slices.Contains(available, "inventory") {
		viral.register(fs)
	}
	if slices.Contains(available, "shipping") {
		ship.register(fs)
	}
	if slices.Contains(available, "sink") {
		sinkf.register(fs)
		ch.register(fs)
	}
	if len(available) > 1 {
		fs.Var(&roles, "roles", fmt.Sprintf("roles to run, comma-separated, from %v", available))
	}
	if err := parse(fs, roleUsage[cmd], e, args); err != nil {
		return err
	}
	for i, r := range roles {
		if !slices.Contains(available, r) {
			return usageError{fmt.Errorf("unknown role %q; roles are %v", r, available)}
		}
		if slices.Contains(roles[:i], r) {
			return usageError{fmt.Errorf("role %q named twice", r)}
		}
	}
	if err := checkListen("metrics-addr", opsf.addr); err != nil {
		return err
	}
	log, err := logs.logger(e)
	if err != nil {
		return err
	}

	reg := ops.NewRegistry()
	health := ops.NewHandler(reg, 2*time.Second)
	if opsf.pprof {
		health.EnableProfiling()
	}
	// One TikTok client for the process: its rate limiter is the app's,
	// however many roles call the API.
	var tt *tiktok.Client
	if slices.Contains(roles, "enrichment") || slices.Contains(roles, "poller") {
		if tt, err = api.client(&app, reg, log); err != nil {
			return err
		}
	}
	var started []role
	for _, name := range roles {
		var (
			r   role
			err error
		)
		rlog := log.With("role", name)
		switch name {
		case "ingest":
			r, err = ingestRole(&ingest, &app, &kafka, reg, health, rlog)
		case "enrichment":
			r, err = enrichmentRole(tt, api.url, &stream, &kafka, &pg, reg, rlog)
		case "poller":
			r, err = pollerRole(ctx, &pollf, tt, api.url, &kafka, &pg, reg, rlog)
		case "velocity":
			r, err = velocityRole(&viral, &stream, &kafka, reg, rlog)
		case "inventory":
			r, err = inventoryRole(&viral, &stream, &kafka, &pg, reg, rlog)
		case "lifecycle":
			r, err = lifecycleRole(&stream, &kafka, shippableTopic(&kafka), reg, rlog)
		case "priority":
			r, err = priorityRole(&stream, &kafka, reg, rlog)
		case "shipping":
			r, err = shippingRole(&ship, &stream, &kafka, &pg, reg, rlog)
		case "orderstate":
			r, err = orderStateRole(&kafka, &pg, reg, rlog)
		case "sink":
			r, err = sinkRole(ctx, &sinkf, &kafka, &ch, reg, health, rlog)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		started = append(started, r)
	}
	started = append(started, role{name: "ops", run: func(ctx context.Context) error {
		return ops.Serve(ctx, opsf.addr, health, 5*time.Second, log, func(a net.Addr) {
			log.Info("metrics and health listening", "addr", a.String(), "paths", "/metrics /healthz /readyz")
		})
	}})
	return supervise(ctx, log, started)
}

// supervise runs the roles until ctx is done or one fails, then stops all of
// them and waits for each to finish.
func supervise(ctx context.Context, log *slog.Logger, roles []role) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, r := range roles {
		wg.Go(func() {
			err := r.run(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("role failed; stopping the others", "role", r.name, "err", err)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
				mu.Unlock()
			}
			cancel()
		})
	}
	<-ctx.Done()
	log.Info("shutting down")
	wg.Wait()
	return errors.Join(errs...)
}
