// Package stacktest gives integration tests their own corner of the local
// stack (`make up`): a topic prefix on the Kafka broker, a fresh PostgreSQL
// database and a fresh ClickHouse database, each removed when the test ends,
// so tests run in parallel without seeing each other's data.
//
// When the stack is not reachable the test is skipped, unless
// CREATORFLOW_TEST_STACK=require (set by `make test`), in which case it fails:
// CI must never pass by skipping its integration tests.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults are the local stack's addresses (CONTRACTS.md); each can be
// overridden with the environment variable named beside it.
const (
	DefaultBrokers       = "127.0.0.1:19092"                                                // CREATORFLOW_TEST_BROKERS
	DefaultPostgresURL   = "postgres://creatorflow:creatorflow@127.0.0.1:15432/creatorflow" // CREATORFLOW_TEST_POSTGRES_URL
	DefaultClickHouseURL = "clickhouse://127.0.0.1:19000/creatorflow"                       // CREATORFLOW_TEST_CLICKHOUSE_URL
)

func setting(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Unavailable skips the test, or fails it under CREATORFLOW_TEST_STACK=require,
// because something the stack provides (a service, a tool such as kcat) is
// not there.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s of the local stack is not reachable (run `make up`): %v", service, err)
	if os.Getenv("CREATORFLOW_TEST_STACK") == "require" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Name returns a name unique to this test run, made of lowercase letters,
// digits and underscores, that starts with the test's name: readable in a
// broker's topic list or a database list when a test leaves something behind.
func Name(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	base := strings.ToLower(nonWord.ReplaceAllString(t.Name(), "_"))
	if len(base) > 30 {
		base = base[:30]
	}
	return "t_" + base + "_" + hex.EncodeToString(b)
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// Kafka is a test's view of the broker.
type Kafka struct {
	// Brokers are the seed addresses.
	Brokers []string
	// Prefix is prepended to every topic name of the test.
	Prefix string
	// Admin is an admin client, closed when the test ends.
	Admin *kadm.Client
}

// Topic returns the test's name for a catalog topic.
func (k Kafka) Topic(name string) string { return k.Prefix + name }

// CreateTopics creates topics of the test with the given partition count.
func (k Kafka) CreateTopics(ctx context.Context, t testing.TB, partitions int32, topics ...string) {
	t.Helper()
	resps, err := k.Admin.CreateTopics(ctx, partitions, -1, nil, topics...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("create topics %v: %v", topics, err)
	}
}

// RunUntil runs run (a processor, a role) until until reports true, then
// cancels it and checks that it stopped cleanly. A run that ends by itself
// first, or ctx ending, fails the test.
func RunUntil(ctx context.Context, t testing.TB, run func(context.Context) error, until func() bool) {
	t.Helper()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- run(runCtx) }()
	for !until() {
		select {
		case err := <-errc:
			t.Fatalf("run ended by itself: %v", err)
		case <-ctx.Done():
			t.Fatal("did not finish in time")
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	if err := <-errc; err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

// ReadCommitted reads a topic's committed records, from its start to the end
// offsets at the time of the call. Transaction markers are read too (and left
// out), since they often hold a partition's last offset.
func (k Kafka) ReadCommitted(ctx context.Context, t testing.TB, topic string) []*kgo.Record {
	t.Helper()
	ends, err := k.Admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, remaining := map[int32]int64{}, map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		end[o.Partition] = o.Offset
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	if len(remaining) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(topic), kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if e, ok := remaining[r.Partition]; ok && r.Offset >= e-1 {
				delete(remaining, r.Partition)
			}
			if !r.Attrs.IsControl() && r.Offset < end[r.Partition] {
				out = append(out, r)
			}
		})
	}
	return out
}

// Consumed reports whether group has committed every record of topic.
func (k Kafka) Consumed(ctx context.Context, t testing.TB, group, topic string) bool {
	t.Helper()
	return k.consumed(ctx, t, group, topic, 0)
}

// ConsumedTransactional is Consumed for a topic written in transactions,
// whose last offset is often a commit marker that no consumer commits
// past: it accepts a committed offset one short of the end.
func (k Kafka) ConsumedTransactional(ctx context.Context, t testing.TB, group, topic string) bool {
	t.Helper()
	return k.consumed(ctx, t, group, topic, 1)
}

func (k Kafka) consumed(ctx context.Context, t testing.TB, group, topic string, slack int64) bool {
	t.Helper()
	committed, err := k.Admin.FetchOffsets(ctx, group)
	if err != nil {
		return false
	}
	ends, err := k.Admin.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	all := true
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(topic, o.Partition)
		if o.Offset > 0 && (!ok || c.At < o.Offset-slack) {
			all = false
		}
	})
	return all
}

// Broker connects to the stack's broker and returns a topic prefix of the
// test's own; topics created under it are deleted when the test ends.
func Broker(t testing.TB) Kafka {
	t.Helper()
	brokers := strings.Split(setting("CREATORFLOW_TEST_BROKERS", DefaultBrokers), ",")
	if err := dial(brokers[0]); err != nil {
		Unavailable(t, "the Kafka broker", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := adm.ListBrokers(ctx); err != nil {
		cl.Close()
		Unavailable(t, "the Kafka broker", err)
	}
	k := Kafka{Brokers: brokers, Prefix: Name(t) + ".", Admin: adm}
	t.Cleanup(func() {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		topics, err := adm.ListTopics(ctx)
		if err != nil {
			t.Logf("cleanup: list topics: %v", err)
			return
		}
		var mine []string
		for _, name := range topics.Names() {
			if strings.HasPrefix(name, k.Prefix) {
				mine = append(mine, name)
			}
		}
		if len(mine) > 0 {
			if _, err := adm.DeleteTopics(ctx, mine...); err != nil {
				t.Logf("cleanup: delete topics: %v", err)
			}
		}
	})
	return k
}

// Postgres creates a fresh database owned by the stack's user and returns its
// URL; the database is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := setting("CREATORFLOW_TEST_POSTGRES_URL", DefaultPostgresURL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	defer conn.Close(context.Background())
	name := Name(t)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("cleanup: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// ClickHouse creates a fresh database and returns a URL whose default
// database it is; the database is dropped when the test ends.
func ClickHouse(t testing.TB) string {
	t.Helper()
	admin := setting("CREATORFLOW_TEST_CLICKHOUSE_URL", DefaultClickHouseURL)
	opts, err := clickhouse.ParseDSN(admin)
	if err != nil {
		t.Fatal(err)
	}
	opts.Auth.Database = "default"
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		Unavailable(t, "ClickHouse", err)
	}
	name := Name(t)
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := clickhouse.Open(opts)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Logf("cleanup: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// ClickHouseConn opens a connection to the database of url (from
// ClickHouse), closed when the test ends.
func ClickHouseConn(t testing.TB, url string) driver.Conn {
	t.Helper()
	opts, err := clickhouse.ParseDSN(url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
