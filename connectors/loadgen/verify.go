package loadgen

import (
	"context"
	"fmt"

	"github.com/segmentio/ksuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/schemas"
)

// EndOffsets returns where each partition of topic ends now: taken before a
// run, it is where the run's records begin.
func EndOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := map[int32]int64{}
	var perr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			perr = o.Err
		}
		out[o.Partition] = o.Offset
	})
	return out, perr
}

// Verify reads topic from the offsets from to its current end and returns
// the accepted event ids it did not find: webhooks answered 200 that are not
// in Kafka, which must never happen.
func Verify(ctx context.Context, brokers []string, topic string, from map[int32]int64, accepted []ksuid.KSUID) (missing []ksuid.KSUID, read int, err error) {
	probe, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, 0, err
	}
	to, err := EndOffsets(ctx, probe, topic)
	probe.Close()
	if err != nil {
		return nil, 0, err
	}
	start := map[int32]kgo.Offset{}
	remaining := 0
	for p, end := range to {
		if at := from[p]; at < end {
			start[p] = kgo.NewOffset().At(at)
			remaining++
		}
	}
	want := make(map[ksuid.KSUID]bool, len(accepted))
	for _, id := range accepted {
		want[id] = true
	}
	if remaining > 0 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}))
		if err != nil {
			return nil, 0, err
		}
		defer cl.Close()
		for remaining > 0 {
			fs := cl.PollFetches(ctx)
			if err := fs.Err0(); err != nil {
				return nil, read, fmt.Errorf("read %s: %w", topic, err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				read++
				if env, err := schemas.ParseHeaders(r.Headers); err == nil {
					delete(want, env.ID)
				}
				if r.Offset == to[r.Partition]-1 {
					remaining--
				}
			})
		}
	}
	for id := range want {
		missing = append(missing, id)
	}
	return missing, read, nil
}
