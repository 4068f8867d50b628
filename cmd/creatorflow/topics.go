package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/topics"
	"github.com/creatorflow/creatorflow/schemas"
)

var topicsCommand = command{
	name:    "topics",
	summary: "create the catalog's topics and report drift (topics apply)",
	run:     runTopics,
}

const topicsUsage = `usage: creatorflow topics apply [flags]

Creates every topic of the catalog (schemas/topics.go, CONTRACTS.md) that the
cluster lacks, with its partitions, cleanup policy and retention, and reports
existing topics whose settings differ from the catalog. Drift is reported, not
repaired: more partitions move keys and a new cleanup policy can delete data,
so an operator decides. Exit status 1 when drift remains.`

// errDrift is returned when topics differ from the catalog.
var errDrift = errors.New("topics differ from the catalog")

func runTopics(ctx context.Context, e *env, args []string) error {
	if err := subcommand(e, args, topicsUsage, "apply"); err != nil {
		return err
	}
	var (
		kafka       kafkaFlags
		dryRun      bool
		replication int
	)
	fs := flag.NewFlagSet("topics apply", flag.ContinueOnError)
	kafka.register(fs)
	fs.BoolVar(&dryRun, "dry-run", false, "report what would be created without creating it")
	fs.IntVar(&replication, "replication-factor", -1, "replication factor of created topics; -1 takes the broker's default")
	if err := parse(fs, topicsUsage, e, args[1:]); err != nil {
		return err
	}
	cl, err := kgo.NewClient(kafka.opts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	specs := make([]topics.Spec, 0, len(schemas.Catalog))
	for _, t := range schemas.Catalog {
		specs = append(specs, topics.Spec{
			Name: kafka.topic(t.Name), Partitions: t.Partitions, ReplicationFactor: int16(replication), Configs: t.Configs(),
		})
	}
	rep, err := topics.Apply(ctx, kadm.NewClient(cl), specs, dryRun)
	verb := "created"
	if dryRun {
		verb = "would create"
	}
	for _, name := range rep.Created {
		fmt.Fprintf(e.stdout, "%s %s\n", verb, name)
	}
	if err != nil {
		return err
	}
	for _, d := range rep.Drift {
		fmt.Fprintf(e.stdout, "drift %s\n", d)
	}
	fmt.Fprintf(e.stdout, "topics: %d %s, %d as in the catalog, %d settings drifted\n", len(rep.Created), verb, len(rep.Current), len(rep.Drift))
	if len(rep.Drift) > 0 {
		return errDrift
	}
	return nil
}
