package orderstate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/orderstate"
	"github.com/creatorflow/creatorflow/pipeline/migrate"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/lifecycle"
	"github.com/creatorflow/creatorflow/schemas"
	"github.com/creatorflow/creatorflow/schemas/migrations"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// state is the v-th state of order i: its status moves along the flow
// every other version, its label in between (the same update time).
func state(i, v int) lifecycle.OrderState {
	path := []schemas.OrderStatus{schemas.OrderStatusUnpaid, schemas.OrderStatusAwaitingShipment,
		schemas.OrderStatusInTransit, schemas.OrderStatusDelivered, schemas.OrderStatusCompleted}
	step := (v - 1) / 2
	st := lifecycle.OrderState{OrderID: fmt.Sprint(579000000 + i), ShopID: "shop-1", BuyerID: fmt.Sprint("buyer-", i%9),
		Status: path[step], UpdateTime: t0.Add(time.Duration(i)*time.Second + time.Duration(step)*time.Minute),
		CreateTime: t0.Add(-time.Hour), LabelState: lifecycle.LabelNone, Version: int64(v)}
	if step > 0 {
		st.PreviousStatus = path[step-1]
		st.ShippingDueTime = t0.Add(72 * time.Hour)
	}
	if v >= 4 {
		st.LabelCommandID, st.LabelState = "buy-"+st.OrderID, lifecycle.LabelRequested
	}
	st.UpdatedAt = st.UpdateTime.Add(time.Duration(v-2*step-1) * time.Second)
	return st
}

func record(topic string, st lifecycle.OrderState) *kgo.Record {
	value, _ := json.Marshal(st)
	env := schemas.Envelope{ID: schemas.EventID(st.UpdatedAt, topic, st.OrderID, fmt.Sprint(st.Version)), Type: "order.state",
		SchemaVersion: 1, Source: "creatorflow/lifecycle", Time: st.UpdatedAt, IngestTime: st.UpdatedAt}
	return &kgo.Record{Topic: topic, Key: []byte(st.OrderID), Value: value, Headers: env.Headers()}
}

func TestDecode(t *testing.T) {
	good := state(1, 4)
	if st, err := orderstate.Decode(record("s", good)); err != nil || !reflect.DeepEqual(st, good) {
		t.Fatalf("Decode = %+v, %v", st, err)
	}
	for name, mutate := range map[string]func(*lifecycle.OrderState){
		"no order id":      func(s *lifecycle.OrderState) { s.OrderID = "" },
		"NUL in buyer":     func(s *lifecycle.OrderState) { s.BuyerID = "b\x00" },
		"unknown status":   func(s *lifecycle.OrderState) { s.Status = "SHIPPED" },
		"unknown previous": func(s *lifecycle.OrderState) { s.PreviousStatus = "X" },
		"unknown label":    func(s *lifecycle.OrderState) { s.LabelState = "VOID" },
		"version 0":        func(s *lifecycle.OrderState) { s.Version = 0 },
		"no update time":   func(s *lifecycle.OrderState) { s.UpdateTime = time.Time{} },
		"before 1970":      func(s *lifecycle.OrderState) { s.CreateTime = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		st := good
		mutate(&st)
		r := record("s", st)
		r.Key = []byte(good.OrderID)
		if _, err := orderstate.Decode(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := orderstate.Decode(&kgo.Record{Key: []byte("x"), Value: []byte("{")}); err == nil {
		t.Error("bad JSON: no error")
	}
	r := record("s", good)
	r.Key = []byte("other")
	if _, err := orderstate.Decode(r); err == nil || !strings.Contains(err.Error(), "not the key") {
		t.Errorf("key mismatch: %v", err)
	}
}

// database returns the URL of a fresh, migrated database and a connection
// to it.
func database(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	url := stacktest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	ms, err := migrate.Load(migrations.FS, migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Run(ctx, migrate.Postgres{Conn: conn}, ms); err != nil {
		t.Fatal(err)
	}
	return url, conn
}

// rows reads the whole table, synced_at included: a row written again would
// show.
func rows(t *testing.T, conn *pgx.Conn) map[string]string {
	t.Helper()
	rs, err := conn.Query(context.Background(), `SELECT order_id, row_to_json(o)::text FROM order_states o`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rs.Next() {
		var id, row string
		if err := rs.Scan(&id, &row); err != nil {
			t.Fatal(err)
		}
		out[id] = row
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// current reads an order's row back as a state.
func current(t *testing.T, conn *pgx.Conn, id string) (lifecycle.OrderState, bool) {
	t.Helper()
	var st lifecycle.OrderState
	var prev, command *string
	var created, due *time.Time
	err := conn.QueryRow(context.Background(), `SELECT order_id, shop_id, buyer_id, status, previous_status, update_time,
		create_time, shipping_due_time, label_command_id, label_state, version, updated_at FROM order_states WHERE order_id = $1`, id).
		Scan(&st.OrderID, &st.ShopID, &st.BuyerID, &st.Status, &prev, &st.UpdateTime, &created, &due, &command, &st.LabelState, &st.Version, &st.UpdatedAt)
	if err == pgx.ErrNoRows {
		return st, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if prev != nil {
		st.PreviousStatus = schemas.OrderStatus(*prev)
	}
	if command != nil {
		st.LabelCommandID = *command
	}
	if created != nil {
		st.CreateTime = created.UTC()
	}
	if due != nil {
		st.ShippingDueTime = due.UTC()
	}
	st.UpdateTime, st.UpdatedAt = st.UpdateTime.UTC(), st.UpdatedAt.UTC()
	return st, true
}

// runUntil runs a sink until its group has committed the whole topic.
func runUntil(ctx context.Context, t *testing.T, k stacktest.Kafka, cfg orderstate.Config) {
	t.Helper()
	s, err := orderstate.New(cfg, []kgo.Opt{kgo.SeedBrokers(k.Brokers...)})
	if err != nil {
		t.Fatal(err)
	}
	stacktest.RunUntil(ctx, t, s.Run, func() bool { return k.Consumed(ctx, t, cfg.Group, cfg.Topic) })
}

// TestReplay writes the state topic to PostgreSQL, then replays the whole
// topic twice under new consumer groups: the rows are the newest state of
// every order and the replays leave them as they were, to synced_at; a
// stale record does not overwrite a row, a newer one does; tombstones
// leave the row; an invalid record goes to the DLQ.
func TestReplay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	url, conn := database(t)
	topic, dlq := k.Topic("lifecycle-order-state"), k.Topic(schemas.TopicDLQ)
	k.CreateTopics(ctx, t, 3, topic, dlq)

	const orders = 300
	var recs []*kgo.Record
	newest := map[string]lifecycle.OrderState{}
	for i := range orders {
		versions := 1 + i%7
		for v := 1; v <= versions; v++ {
			recs = append(recs, record(topic, state(i, v)))
		}
		newest[state(i, versions).OrderID] = state(i, versions)
		if i%10 == 0 { // the processor forgot it: the row stays
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(state(i, 1).OrderID)})
		}
	}
	// Records of one order out of order within a batch and across
	// batches: an older state after the newest.
	for i := 3; i < orders; i += 7 {
		recs = append(recs, record(topic, state(i, 1)))
	}
	bad := state(1, 1)
	bad.Status = "SHIPPED"
	recs = append(recs, record(topic, bad))
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cfg := orderstate.Config{Topic: topic, DLQTopic: dlq, PostgresURL: url, BatchSize: 50,
		RetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond}
	var snapshots []map[string]string
	for run := range 3 {
		cfg.Group = fmt.Sprint(k.Prefix, "orderstate-", run)
		reg := prometheus.NewRegistry()
		cfg.Registerer = reg
		runUntil(ctx, t, k, cfg)
		snapshots = append(snapshots, rows(t, conn))
		written := counter(t, reg, "written")
		if run == 0 && written < orders {
			t.Fatalf("first run wrote %v rows", written)
		}
		if run > 0 && written != 0 {
			t.Fatalf("replay %d wrote %v rows, want none", run, written)
		}
		if got := counter(t, reg, "dlq"); got != 1 {
			t.Fatalf("run %d: %v records to the DLQ, want the invalid one", run, got)
		}
	}
	if len(snapshots[0]) != orders || !reflect.DeepEqual(snapshots[0], snapshots[1]) || !reflect.DeepEqual(snapshots[0], snapshots[2]) {
		t.Fatalf("rows: %d, then %d and %d; replays changed them", len(snapshots[0]), len(snapshots[1]), len(snapshots[2]))
	}
	for id, want := range newest {
		if got, ok := current(t, conn, id); !ok || !reflect.DeepEqual(got, want) {
			t.Fatalf("order %s: row %+v, want %+v", id, got, want)
		}
	}
	dead := k.ReadCommitted(ctx, t, dlq)
	if len(dead) != 3 || !strings.Contains(header(dead[0], stream.HeaderDLQError), "unknown status") {
		t.Fatalf("%d dead letters, want the invalid record once per run", len(dead))
	}

	// A stale state (same update time, lower version; or an earlier
	// update time) changes nothing; a newer one replaces the row.
	id := state(6, 7).OrderID
	stale1, stale2, newer := state(6, 6), state(6, 7), state(6, 7)
	stale1.LabelState = lifecycle.LabelCancelRequested
	stale2.UpdateTime, stale2.Version = stale2.UpdateTime.Add(-time.Second), 99
	newer.Version, newer.LabelState = 8, lifecycle.LabelCancelRequested
	if err := cl.ProduceSync(ctx, record(topic, stale1), record(topic, stale2)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cfg.Group, cfg.Registerer = k.Prefix+"orderstate-0", nil
	runUntil(ctx, t, k, cfg)
	if got := rows(t, conn); !reflect.DeepEqual(got, snapshots[0]) {
		t.Fatalf("stale records changed order %s: %s, was %s", id, got[id], snapshots[0][id])
	}
	if err := cl.ProduceSync(ctx, record(topic, newer)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	runUntil(ctx, t, k, cfg)
	if got, _ := current(t, conn, id); !reflect.DeepEqual(got, newer) {
		t.Fatalf("newer state not written: %+v", got)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "creatorflow_orderstate_records_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// proxy is a TCP proxy to PostgreSQL that a test takes down (closing every
// connection and refusing new ones) and brings back.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
		clear(p.conns)
	}
}

// TestPostgresDown: with PostgreSQL out of reach the sink retries with
// back-off and commits nothing; once PostgreSQL is back every record is
// written, none lost. The connection is cut again while it writes.
func TestPostgresDown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	url, conn := database(t)
	topic, dlq := k.Topic("lifecycle-order-state"), k.Topic(schemas.TopicDLQ)
	k.CreateTopics(ctx, t, 3, topic, dlq)

	cfgURL, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, fmt.Sprintf("%s:%d", cfgURL.Host, cfgURL.Port))
	proxied := strings.Replace(url, fmt.Sprintf("%s:%d", cfgURL.Host, cfgURL.Port), p.ln.Addr().String(), 1)
	p.setDown(true)

	const orders = 500
	var recs []*kgo.Record
	for i := range orders {
		recs = append(recs, record(topic, state(i, 1)), record(topic, state(i, 2)))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := orderstate.Config{Group: k.Prefix + "orderstate", Topic: topic, DLQTopic: dlq, PostgresURL: proxied, BatchSize: 40,
		RetryBackoff: 5 * time.Millisecond, MaxRetryBackoff: 50 * time.Millisecond, Registerer: reg}
	s, err := orderstate.New(cfg, []kgo.Opt{kgo.SeedBrokers(k.Brokers...)})
	if err != nil {
		t.Fatal(err)
	}
	retries := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "creatorflow_orderstate_write_retries_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return 0
	}
	flaps := 0
	stacktest.RunUntil(ctx, t, s.Run, func() bool {
		switch {
		case retries() < 5:
			// Down: nothing may be committed.
			if offsets, err := k.Admin.FetchOffsets(ctx, cfg.Group); err == nil {
				offsets.Each(func(o kadm.OffsetResponse) {
					if o.At > 0 {
						t.Fatalf("offset %d of partition %d committed while PostgreSQL is down", o.At, o.Partition)
					}
				})
			}
			return false
		case flaps == 0:
			p.setDown(false)
			flaps++
		case flaps < 4 && counter(t, reg, "written") > float64(flaps*100):
			p.setDown(true) // cut while it writes, and back
			time.Sleep(20 * time.Millisecond)
			p.setDown(false)
			flaps++
		}
		return k.Consumed(ctx, t, cfg.Group, topic)
	})
	got := rows(t, conn)
	if len(got) != orders {
		t.Fatalf("%d rows, want %d", len(got), orders)
	}
	for i := range orders {
		if st, _ := current(t, conn, state(i, 2).OrderID); !reflect.DeepEqual(st, state(i, 2)) {
			t.Fatalf("order %d: %+v", i, st)
		}
	}
	if flaps < 2 {
		t.Logf("the connection was cut %d times while writing", flaps-1)
	}
}

// TestRefusedRow: a row PostgreSQL refuses for its data (here a constraint
// the test adds) goes to the DLQ with PostgreSQL's reason; the rest of its
// batch is written.
func TestRefusedRow(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	url, conn := database(t)
	if _, err := conn.Exec(ctx, `ALTER TABLE order_states ADD CONSTRAINT test_refused CHECK (buyer_id <> 'refused')`); err != nil {
		t.Fatal(err)
	}
	topic, dlq := k.Topic("lifecycle-order-state"), k.Topic(schemas.TopicDLQ)
	k.CreateTopics(ctx, t, 1, topic, dlq)
	var recs []*kgo.Record
	for i := range 20 {
		st := state(i, 3)
		if i == 7 {
			st.BuyerID = "refused"
		}
		recs = append(recs, record(topic, st))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	runUntil(ctx, t, k, orderstate.Config{Group: k.Prefix + "orderstate", Topic: topic, DLQTopic: dlq, PostgresURL: url,
		BatchSize: 100, Registerer: reg})
	if got := rows(t, conn); len(got) != 19 {
		t.Fatalf("%d rows, want 19", len(got))
	}
	dead := k.ReadCommitted(ctx, t, dlq)
	if len(dead) != 1 || string(dead[0].Key) != state(7, 3).OrderID || !strings.Contains(header(dead[0], stream.HeaderDLQError), "test_refused") {
		t.Fatalf("%d dead letters, want order 7's with PostgreSQL's reason", len(dead))
	}
	if counter(t, reg, "written") != 19 || counter(t, reg, "dlq") != 1 {
		t.Fatalf("written %v, dlq %v", counter(t, reg, "written"), counter(t, reg, "dlq"))
	}
}
