package stream

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// session is what the processing loop needs of Kafka: franz-go's
// GroupTransactSession for exactly-once, atLeastOnce otherwise. End commits
// (true) or drops (false) the outputs and offsets of everything polled since
// the last End; the caller asks for the drop when a produce failed.
type session interface {
	PollRecords(ctx context.Context, max int) kgo.Fetches
	Begin() error
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
	// Flush waits until every produced record is acknowledged or failed.
	Flush(ctx context.Context) error
	End(ctx context.Context, commit kgo.TransactionEndTry) (bool, error)
	AllowRebalance()
	Close()
}

// exactlyOnce is franz-go's GroupTransactSession.
type exactlyOnce struct{ *kgo.GroupTransactSession }

func (s exactlyOnce) Flush(ctx context.Context) error { return s.Client().Flush(ctx) }

// atLeastOnce commits offsets once the batch's records are acknowledged.
// Rebalances wait while a batch is in flight, so offsets are only committed
// for partitions still owned.
type atLeastOnce struct {
	*kgo.Client
	// first is where the batch started in each partition: an aborted
	// batch rewinds there, also in partitions with no commit yet. A batch
	// is everything polled since the last End.
	first map[string]map[int32]kgo.EpochOffset
}

func (a *atLeastOnce) PollRecords(ctx context.Context, max int) kgo.Fetches {
	fs := a.Client.PollRecords(ctx, max)
	if a.first == nil {
		a.first = map[string]map[int32]kgo.EpochOffset{}
	}
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		if a.first[p.Topic] == nil {
			a.first[p.Topic] = map[int32]kgo.EpochOffset{}
		}
		if _, seen := a.first[p.Topic][p.Partition]; !seen {
			r := p.Records[0]
			a.first[p.Topic][p.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
		}
	})
	return fs
}

func newAtLeastOnce(opts []kgo.Opt) (*atLeastOnce, error) {
	cl, err := kgo.NewClient(append(opts, kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll())...)
	if err != nil {
		return nil, err
	}
	return &atLeastOnce{Client: cl}, nil
}

func (a *atLeastOnce) Begin() error { return nil }

func (a *atLeastOnce) End(ctx context.Context, commit kgo.TransactionEndTry) (bool, error) {
	defer a.AllowRebalance()
	defer func() { a.first = nil }() // the next poll starts the next batch
	if err := a.Flush(ctx); err != nil {
		return false, err
	}
	if !bool(commit) {
		// Nothing to undo: what was produced stays. Rewind so the batch
		// is processed again.
		a.SetOffsets(a.first)
		return false, nil
	}
	if err := a.CommitUncommittedOffsets(ctx); err != nil {
		return false, err
	}
	return true, nil
}

func (a *atLeastOnce) Close() { a.CloseAllowingRebalance() }
