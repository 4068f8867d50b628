// Package batch is the consumer loop of a sink: a consumer group whose
// every poll is written to a store outside Kafka (ClickHouse, PostgreSQL)
// and then committed, at least once. The store must take a batch twice
// without harm (rows deduplicated or upserted), since a crash between the
// write and the commit repeats it.
//
// What the package adds over a plain group consumer is the handling of a
// batch stuck retrying against an outage while the group wants to
// rebalance: the batch is given up (not committed) so that the member is
// not kicked for holding the rebalance, and read again from where it
// started, by this member if it keeps the partitions.
package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrAbandoned is returned by Retry when the group wants to rebalance: the
// write must stop and return it, and Run reads the batch again.
var ErrAbandoned = errors.New("batch abandoned for a rebalance")

// Consumer polls a consumer group in batches.
type Consumer struct {
	cl *kgo.Client
	// rebalance is signalled when the group wants to rebalance while a
	// batch is held.
	rebalance chan struct{}
	log       *slog.Logger
}

// NewConsumer joins group on topics with the base options (brokers,
// security), reading committed records from the start of each topic, with
// rebalances held while a batch is between its poll and its commit: were a
// partition to move then, both members could commit offsets past each
// other's rows.
func NewConsumer(base []kgo.Opt, group string, topics []string, log *slog.Logger) (*Consumer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Consumer{rebalance: make(chan struct{}, 1), log: log}
	cl, err := kgo.NewClient(append(slices.Clone(base),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) {
			select {
			case c.rebalance <- struct{}{}:
			default:
			}
		}),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	c.cl = cl
	return c, nil
}

// Client is the consumer's client, for commits, the DLQ and pings.
func (c *Consumer) Client() *kgo.Client { return c.cl }

// Run polls batches of up to max records and hands each to write, which
// writes them and commits their offsets, until ctx ends (nil) or write
// fails with something other than ErrAbandoned. It closes the client when
// it returns: what was polled and not committed is read again by the next
// owner, so leaving the group mid-batch is safe.
func (c *Consumer) Run(ctx context.Context, max int, write func(ctx context.Context, records []*kgo.Record) error) error {
	defer c.cl.CloseAllowingRebalance()
	for {
		fetches := c.cl.PollRecords(ctx, max)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			c.log.Warn("fetch failed", "topic", topic, "partition", p, "err", err)
		})
		recs := fetches.Records()
		err := write(ctx, recs)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrAbandoned):
			c.rewind(recs)
			c.log.Warn("batch given up for a rebalance; it will be read again", "records", len(recs))
		case err != nil:
			return err
		}
		// A signal that arrived while the batch went through is spent:
		// the rebalance proceeds now.
		select {
		case <-c.rebalance:
		default:
		}
		c.cl.AllowRebalance()
	}
}

// Retry runs op until it succeeds or fails for good (permanent says which
// errors are final; they are returned), waiting backoff, doubling up to
// maxBackoff, between tries, each reported to onRetry. It gives up with
// ctx's error when ctx ends, and with ErrAbandoned when the group wants to
// rebalance meanwhile.
func (c *Consumer) Retry(ctx context.Context, backoff, maxBackoff time.Duration, permanent func(error) bool,
	onRetry func(err error, wait time.Duration), op func(context.Context) error) error {
	for {
		err := op(ctx)
		if err == nil || permanent != nil && permanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		onRetry(err, backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.rebalance:
			return ErrAbandoned
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// rewind moves the partitions of a given-up batch back to its first
// records, so that this member, if it keeps them, reads the batch again
// instead of going on past it (which a later commit would make a loss).
func (c *Consumer) rewind(recs []*kgo.Record) {
	first := map[string]map[int32]kgo.EpochOffset{}
	for _, r := range recs {
		if first[r.Topic] == nil {
			first[r.Topic] = map[int32]kgo.EpochOffset{}
		}
		if o, ok := first[r.Topic][r.Partition]; !ok || r.Offset < o.Offset {
			first[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: -1, Offset: r.Offset}
		}
	}
	c.cl.SetOffsets(first)
}
