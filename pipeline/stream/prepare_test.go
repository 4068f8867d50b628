package stream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
)

// TestPrepareTopicsConcurrently starts the topic preparation of several
// instances of both sides of a repartitioning at the same moment, a few
// times over: they race to create the same internal topic and, per side,
// the same changelogs; the losers' TOPIC_ALREADY_EXISTS is no error, and
// every one of them agrees on the partitions.
func TestPrepareTopicsConcurrently(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	in := k.Topic("in")
	k.CreateTopics(ctx, t, 2, in)
	for round := range 5 {
		internal := k.Topic(fmt.Sprintf("by-sku-%d", round))
		spec := TopicSpec{Name: internal, Partitions: 3, Retention: time.Hour}
		noop := func(*Context, *kgo.Record) error { return nil }
		sides := []Topology{
			{Application: fmt.Sprintf("%sproducer-%d", k.Prefix, round), Inputs: []string{in}, Outputs: []string{internal},
				Internal: []TopicSpec{spec}, Stores: []StoreSpec{{Name: "s"}}, Process: noop},
			{Application: fmt.Sprintf("%sconsumer-%d", k.Prefix, round), Inputs: []string{internal},
				Internal: []TopicSpec{spec}, Stores: []StoreSpec{{Name: "s"}}, Process: noop},
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		partitions := make([]int32, 8)
		errs := make([]error, 8)
		for i := range 8 {
			topo := sides[i%2]
			if err := topo.validate(); err != nil {
				t.Fatal(err)
			}
			r := &runner{topo: topo, cfg: Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}}}
			wg.Go(func() {
				<-start
				partitions[i], errs[i] = r.prepareTopics(ctx)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if want := []int32{2, 3}[i%2]; err != nil || partitions[i] != want {
				t.Fatalf("round %d, instance %d: %d partitions, %v; want %d", round, i, partitions[i], err, want)
			}
		}
		details, err := k.Admin.ListTopics(ctx, internal, sides[1].ChangelogTopic("s"))
		if err != nil {
			t.Fatal(err)
		}
		for topic, d := range details {
			if d.Err != nil || len(d.Partitions) != 3 {
				t.Fatalf("%s: %d partitions, %v", topic, len(d.Partitions), d.Err)
			}
		}
	}
}
