package broker

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
)

func start(t *testing.T, dir string) *Broker {
	t.Helper()
	b, err := Start(Config{Addr: "127.0.0.1:0", DataDir: dir, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func client(t *testing.T, b *Broker, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestPersistsAcrossRestart is the local stack's promise: after `make down &&
// make up` the records, the committed consumer offsets and the outcome of
// transactions are all still there.
func TestPersistsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	const topic, group = "persist.v1", "persist-group"

	b := start(t, dir)
	adm := kadm.NewClient(client(t, b))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	plain := client(t, b, kgo.DefaultProduceTopic(topic))
	for i := range 100 {
		if err := plain.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("plain-%03d", i))).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	txn := client(t, b, kgo.DefaultProduceTopic(topic), kgo.TransactionalID("persist-txn"))
	for _, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := txn.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("txn-%v-%d", bool(commit), i))).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}

	consumer := client(t, b, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group), kgo.DisableAutoCommit(),
		kgo.FetchMaxPartitionBytes(200), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var consumed int
	for consumed < 30 {
		fs := consumer.PollRecords(ctx, 30-consumed)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		recs := fs.Records()
		consumed += len(recs)
		if err := consumer.CommitRecords(ctx, recs...); err != nil {
			t.Fatal(err)
		}
	}
	before, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	consumer.Close()
	b.Close()

	b2 := start(t, dir)
	adm2 := kadm.NewClient(client(t, b2))
	after, err := adm2.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := offsetsOf(after), offsetsOf(before); got != want || want == "" {
		t.Fatalf("committed offsets after restart = %s, before = %s", got, want)
	}

	values := readAll(ctx, t, client(t, b2, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted())), 110)
	var plainN, committedN int
	for _, v := range values {
		switch {
		case strings.HasPrefix(v, "plain-"):
			plainN++
		case strings.HasPrefix(v, "txn-true-"):
			committedN++
		default:
			t.Fatalf("read_committed consumer saw %q from an aborted transaction", v)
		}
	}
	if plainN != 100 || committedN != 10 {
		t.Fatalf("after restart: %d plain and %d committed-txn records, want 100 and 10", plainN, committedN)
	}
}

// TestKcatInterop checks that an independent Kafka client, Debian's kcat,
// produces to and consumes from the embedded broker.
func TestKcatInterop(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		stacktest.Unavailable(t, "kcat", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := start(t, t.TempDir())
	const topic = "kcat.v1"
	if _, err := kadm.NewClient(client(t, b)).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}

	produce := exec.CommandContext(ctx, kcat, "-b", b.Addr(), "-t", topic, "-P", "-K:", "-X", "enable.idempotence=true", "-X", "acks=all")
	produce.Stdin = strings.NewReader("k1:from-kcat-1\nk2:from-kcat-2\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, out)
	}
	cl := client(t, b, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic(topic))
	got := readAll(ctx, t, cl, 2)
	if want := []string{"from-kcat-1", "from-kcat-2"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("franz-go read %v, want %v", got, want)
	}

	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("k3"), Value: []byte("from-franz")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, kcat, "-b", b.Addr(), "-t", topic, "-C", "-e", "-q", "-f", "%k=%s\n").Output()
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, out)
	}
	if want := "k1=from-kcat-1\nk2=from-kcat-2\nk3=from-franz\n"; string(out) != want {
		t.Fatalf("kcat read %q, want %q", out, want)
	}
}

func TestStartErrors(t *testing.T) {
	b := start(t, "")
	for _, addr := range []string{"nope", "127.0.0.1:99999", b.Addr()} {
		if _, err := Start(Config{Addr: addr}); err == nil {
			t.Errorf("Start(%q) succeeded, want an error", addr)
		}
	}
}

func readAll(ctx context.Context, t *testing.T, cl *kgo.Client, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("after %d of %d records: %v", len(out), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	sort.Strings(out)
	return out
}

func offsetsOf(r kadm.OffsetResponses) string {
	var parts []string
	r.Each(func(o kadm.OffsetResponse) {
		parts = append(parts, fmt.Sprintf("%s/%d=%d", o.Topic, o.Partition, o.At))
	})
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
