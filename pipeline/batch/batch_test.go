package batch_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/batch"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
)

// TestAbandonedBatchIsReadAgain: a batch given up for a rebalance is read
// again by the member that keeps its partition, not skipped.
func TestAbandonedBatchIsReadAgain(t *testing.T) {
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := k.Topic("in")
	k.CreateTopics(ctx, t, 1, topic)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	c, err := batch.NewConsumer([]kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, k.Topic("group"), []string{topic}, nil)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	seen, abandoned := 0, false
	err = c.Run(runCtx, 100, func(ctx context.Context, got []*kgo.Record) error {
		if len(got) == 0 {
			return nil
		}
		if !abandoned {
			abandoned = true
			return batch.ErrAbandoned
		}
		seen += len(got)
		if seen >= 10 {
			stop()
		}
		return c.Client().CommitRecords(ctx, got...)
	})
	if err != nil || seen != 10 || !abandoned {
		t.Fatalf("run: %v, %d records after the abandoned batch, want 10", err, seen)
	}
}

// TestRetry: op is tried until it succeeds, a permanent error ends it, and
// each retry is reported with its wait.
func TestRetry(t *testing.T) {
	c, err := batch.NewConsumer([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, "g", []string{"t"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	tries := 0
	err = c.Retry(context.Background(), time.Millisecond, 3*time.Millisecond, nil,
		func(_ error, w time.Duration) { waits = append(waits, w) },
		func(context.Context) error {
			if tries++; tries < 4 {
				return errors.New("down")
			}
			return nil
		})
	if err != nil || tries != 4 || len(waits) != 3 || waits[2] != 3*time.Millisecond {
		t.Fatalf("err %v tries %d waits %v", err, tries, waits)
	}
	refused := errors.New("refused")
	err = c.Retry(context.Background(), time.Millisecond, time.Millisecond, func(e error) bool { return e == refused },
		func(error, time.Duration) { t.Error("a permanent error was retried") },
		func(context.Context) error { return refused })
	if err != refused {
		t.Fatalf("permanent: %v", err)
	}
}
