// Package orderstate keeps the PostgreSQL table order_states (migration
// 0005) in sync with the lifecycle processor's compacted state topic, so
// that the current state of every order is a SQL query away.
//
// It consumes the topic in a consumer group (read_committed), writes each
// polled batch in one upsert, and commits the offsets only after the batch
// is written. A row is replaced only by a later state of its order (a later
// update time, or the same and a greater version), so a replay of the
// topic, a redelivery after a crash between write and commit, or records
// of one order arriving out of order change nothing. While PostgreSQL is
// down the batch is retried with back-off and nothing further is read;
// a record that can never be written goes to the DLQ. Tombstones (an order
// the processor forgot after 90 days) leave the row alone: the table keeps
// every order.
package orderstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/batch"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/lifecycle"
)

// Config configures a sink.
type Config struct {
	// Group is the consumer group; instances in one group share the
	// topic's partitions.
	Group string
	// Topic is the state topic (lifecycle.StateTopic(application).Name).
	Topic string
	// DLQTopic receives records that can never be written.
	DLQTopic string
	// PostgresURL is the database holding order_states.
	PostgresURL string
	// BatchSize is the most records read and written at once; zero means
	// 1,000.
	BatchSize int
	// RetryBackoff is the first wait after a failed write (zero: 100 ms);
	// it doubles up to MaxRetryBackoff (zero: 10 s) while PostgreSQL
	// stays down.
	RetryBackoff, MaxRetryBackoff time.Duration
	// Registerer receives the sink's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives the sink's logs; nil discards them.
	Logger *slog.Logger
}

// Sink consumes the state topic into PostgreSQL.
type Sink struct {
	cfg      Config
	consumer *batch.Consumer
	kafka    *kgo.Client // the consumer's
	pg       *pgx.Conn   // nil until connected, and after a failure
	log      *slog.Logger
	metrics  metrics
}

type metrics struct {
	records      *prometheus.CounterVec
	retries      prometheus.Counter
	commitFailed prometheus.Counter
	batch        prometheus.Histogram
}

// Results of a record, the label of creatorflow_orderstate_records_total.
const (
	resultWritten   = "written"   // inserted or updated a row
	resultUnchanged = "unchanged" // not newer than the row (a replay, a redelivery, a stale record)
	resultTombstone = "tombstone" // an order forgotten by the processor: the row stays
	resultDLQ       = "dlq"       // could never be written
)

// New creates a sink whose Kafka client is built from base (brokers, client
// id, security) plus the consumer settings the sink relies on. It does not
// connect to PostgreSQL: Run does, and again after every failure.
func New(cfg Config, base []kgo.Opt) (*Sink, error) {
	if cfg.Group == "" || cfg.Topic == "" || cfg.DLQTopic == "" || cfg.PostgresURL == "" {
		return nil, errors.New("orderstate: group, topic, DLQ topic and PostgreSQL URL are required")
	}
	if cfg.BatchSize < 0 || cfg.RetryBackoff < 0 || cfg.MaxRetryBackoff < 0 {
		return nil, errors.New("orderstate: batch size and back-offs must not be negative")
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 1000
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	if cfg.MaxRetryBackoff == 0 {
		cfg.MaxRetryBackoff = 10 * time.Second
	}
	cfg.MaxRetryBackoff = max(cfg.MaxRetryBackoff, cfg.RetryBackoff)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := pgx.ParseConfig(cfg.PostgresURL); err != nil {
		return nil, fmt.Errorf("orderstate: PostgreSQL URL: %w", err)
	}
	consumer, err := batch.NewConsumer(base, cfg.Group, []string{cfg.Topic}, log)
	if err != nil {
		return nil, fmt.Errorf("orderstate: %w", err)
	}
	m := metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_orderstate_records_total",
			Help: "State records consumed, by result: written (a row inserted or updated), unchanged (not newer than the row: replays, redeliveries), tombstone (left alone), dlq."},
			[]string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_orderstate_write_retries_total",
			Help: "Batch writes that failed (PostgreSQL unreachable or refusing) and were retried after a back-off."}),
		commitFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_orderstate_commit_failures_total",
			Help: "Offset commits that failed after their batch was written; the batch is read again and changes nothing."}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creatorflow_orderstate_batch_duration_seconds",
			Help: "Time to write and commit one batch, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(m.records, m.retries, m.commitFailed, m.batch)
	}
	return &Sink{cfg: cfg, consumer: consumer, kafka: consumer.Client(), log: log, metrics: m}, nil
}

// Ping reports whether the broker answers, for readiness.
func (s *Sink) Ping(ctx context.Context) error { return s.kafka.Ping(ctx) }

// Run consumes until ctx is done, then leaves the group and closes its
// connections. Offsets of records not yet written are not committed: they
// are read again on restart.
func (s *Sink) Run(ctx context.Context) error {
	defer s.closePostgres()
	return s.consumer.Run(ctx, s.cfg.BatchSize, s.write)
}

// row is one record to write.
type row struct {
	state lifecycle.OrderState
	rec   *kgo.Record
}

// write lands one polled batch and commits its offsets.
func (s *Sink) write(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	start := time.Now()
	latest := map[string]row{} // per order, the newest state of the batch
	var dead []*kgo.Record
	tombstones := 0
	for _, r := range recs {
		if len(r.Value) == 0 {
			tombstones++
			continue
		}
		st, err := Decode(r)
		if err != nil {
			dead = append(dead, stream.DeadLetter(r, s.cfg.DLQTopic, s.cfg.Group, err))
			continue
		}
		if prev, ok := latest[st.OrderID]; !ok || st.Newer(prev.state) {
			latest[st.OrderID] = row{st, r}
		}
	}
	rows := make([]row, 0, len(latest))
	for _, r := range latest {
		rows = append(rows, r)
	}
	// One order of rows, so that two instances writing overlapping
	// batches lock rows in the same order.
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.state.OrderID, b.state.OrderID) })
	written, refused, err := s.upsertRetrying(ctx, rows)
	if err != nil {
		return err
	}
	for _, r := range refused {
		dead = append(dead, stream.DeadLetter(r.rec, s.cfg.DLQTopic, s.cfg.Group, r.err))
	}
	if len(dead) > 0 {
		if err := s.retry(ctx, "write to the DLQ", func(ctx context.Context) error {
			return s.kafka.ProduceSync(ctx, dead...).FirstErr()
		}); err != nil {
			return err
		}
		s.log.Warn("records sent to the DLQ", "count", len(dead), "first_error", header(dead[0], stream.HeaderDLQError))
	}
	if err := s.kafka.CommitRecords(ctx, recs...); err != nil {
		// The rows are written; whoever owns the partitions now reads
		// them again, and they change nothing.
		s.metrics.commitFailed.Inc()
		s.log.Warn("offset commit failed; the batch will be read again", "records", len(recs), "err", err)
	}
	s.metrics.records.WithLabelValues(resultWritten).Add(float64(written))
	s.metrics.records.WithLabelValues(resultUnchanged).Add(float64(len(recs) - written - tombstones - len(dead)))
	s.metrics.records.WithLabelValues(resultTombstone).Add(float64(tombstones))
	s.metrics.records.WithLabelValues(resultDLQ).Add(float64(len(dead)))
	s.metrics.batch.Observe(time.Since(start).Seconds())
	return nil
}

// refusal is a row PostgreSQL refuses for its data (a constraint, a value
// out of range), whatever the retries: it goes to the DLQ.
type refusal struct {
	rec *kgo.Record
	err error
}

// upsertRetrying writes rows and returns how many rows changed and the
// rows refused for their data. A batch refused for its data is written row
// by row, to tell the refused rows from the others; any other failure
// (PostgreSQL down, a lost connection) is retried with back-off, holding
// only this batch meanwhile (the consumer is not polled, so memory stays
// bounded).
func (s *Sink) upsertRetrying(ctx context.Context, rows []row) (int, []refusal, error) {
	if len(rows) == 0 {
		return 0, nil, nil
	}
	var written int
	err := s.retry(ctx, "write order states", func(ctx context.Context) error {
		n, err := s.upsert(ctx, rows)
		written = n
		return err
	})
	if err == nil || !refused(err) {
		return written, nil, err
	}
	written = 0
	var out []refusal
	for _, r := range rows {
		var n int
		err := s.retry(ctx, "write an order state", func(ctx context.Context) error {
			var err error
			n, err = s.upsert(ctx, []row{r})
			if refused(err) {
				out = append(out, refusal{r.rec, fmt.Errorf("order_states refused order %s: %w", r.state.OrderID, err)})
				return nil
			}
			return err
		})
		if err != nil {
			return 0, nil, err
		}
		written += n
	}
	return written, out, nil
}

// retry runs op, each try within 30 s, until it succeeds or PostgreSQL
// refuses it for its data (returned, for the caller), with exponential
// back-off; it gives up when ctx ends or, with batch.ErrAbandoned, when the
// group wants to rebalance.
func (s *Sink) retry(ctx context.Context, what string, op func(context.Context) error) error {
	return s.consumer.Retry(ctx, s.cfg.RetryBackoff, s.cfg.MaxRetryBackoff, refused,
		func(err error, wait time.Duration) {
			s.metrics.retries.Inc()
			s.log.Warn("failed; retrying", "what", what, "retry_in", wait, "err", err)
		},
		func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			return op(ctx)
		})
}

// upsertSQL writes a batch of states in one statement. A row is replaced
// only by a later state: a later update time, or the same one and a
// greater version; an equal state is the same state, and is not written
// again (synced_at stays).
const upsertSQL = `
INSERT INTO order_states AS t (order_id, shop_id, buyer_id, status, previous_status, update_time, create_time,
	shipping_due_time, label_command_id, label_state, version, updated_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
	$8::timestamptz[], $9::text[], $10::text[], $11::bigint[], $12::timestamptz[])
ON CONFLICT (order_id) DO UPDATE
SET shop_id = excluded.shop_id, buyer_id = excluded.buyer_id, status = excluded.status,
	previous_status = excluded.previous_status, update_time = excluded.update_time, create_time = excluded.create_time,
	shipping_due_time = excluded.shipping_due_time, label_command_id = excluded.label_command_id,
	label_state = excluded.label_state, version = excluded.version, updated_at = excluded.updated_at, synced_at = now()
WHERE (excluded.update_time, excluded.version) > (t.update_time, t.version)`

// upsert writes rows (one per order) and returns how many rows changed.
func (s *Sink) upsert(ctx context.Context, rows []row) (int, error) {
	conn, err := s.connect(ctx)
	if err != nil {
		return 0, err
	}
	n := len(rows)
	ids, shops, buyers, statuses, labelStates := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	previous, commands := make([]*string, n), make([]*string, n)
	updateTimes, updatedAt := make([]time.Time, n), make([]time.Time, n)
	createTimes, dueTimes := make([]*time.Time, n), make([]*time.Time, n)
	versions := make([]int64, n)
	for i, r := range rows {
		st := r.state
		ids[i], shops[i], buyers[i], statuses[i], labelStates[i] = st.OrderID, st.ShopID, st.BuyerID, string(st.Status), string(st.LabelState)
		previous[i], commands[i] = optional(string(st.PreviousStatus)), optional(st.LabelCommandID)
		updateTimes[i], updatedAt[i] = st.UpdateTime, st.UpdatedAt
		createTimes[i], dueTimes[i] = optionalTime(st.CreateTime), optionalTime(st.ShippingDueTime)
		versions[i] = st.Version
	}
	tag, err := conn.Exec(ctx, upsertSQL, ids, shops, buyers, statuses, previous, updateTimes, createTimes, dueTimes,
		commands, labelStates, versions, updatedAt)
	if err != nil {
		if !refused(err) {
			s.closePostgres() // whatever broke, the next attempt starts afresh
		}
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// connect returns the connection, opening one if there is none.
func (s *Sink) connect(ctx context.Context) (*pgx.Conn, error) {
	if s.pg != nil && !s.pg.IsClosed() {
		return s.pg, nil
	}
	conn, err := pgx.Connect(ctx, s.cfg.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	s.pg = conn
	return conn, nil
}

func (s *Sink) closePostgres() {
	if s.pg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.pg.Close(ctx)
	s.pg = nil
}

// refused reports whether PostgreSQL refused a statement for its data
// (SQLSTATE classes 22, data exception, and 23, integrity constraint
// violation), which no retry changes.
func refused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23"))
}

// Bounds of the times a state may hold: those the lifecycle accepts.
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Decode reads and checks a state record: a lifecycle.OrderState keyed by
// its order id, with known statuses, a version from 1 and times from 1970
// to 9999, and no text PostgreSQL would refuse.
func Decode(r *kgo.Record) (lifecycle.OrderState, error) {
	var st lifecycle.OrderState
	if err := json.Unmarshal(r.Value, &st); err != nil {
		return st, fmt.Errorf("order state: %w", err)
	}
	var errs []error
	if st.OrderID == "" || string(r.Key) != st.OrderID {
		errs = append(errs, fmt.Errorf("order_id %q is empty or not the key %q", st.OrderID, r.Key))
	}
	for _, f := range []struct{ name, v string }{{"order_id", st.OrderID}, {"shop_id", st.ShopID},
		{"buyer_id", st.BuyerID}, {"label_command_id", st.LabelCommandID}} {
		if strings.IndexFunc(f.v, unicode.IsControl) >= 0 {
			errs = append(errs, fmt.Errorf("%s holds control characters", f.name))
		}
	}
	if !slices.Contains(lifecycle.Statuses, st.Status) {
		errs = append(errs, fmt.Errorf("unknown status %.64q", st.Status))
	}
	if st.PreviousStatus != "" && !slices.Contains(lifecycle.Statuses, st.PreviousStatus) {
		errs = append(errs, fmt.Errorf("unknown previous_status %.64q", st.PreviousStatus))
	}
	switch st.LabelState {
	case lifecycle.LabelNone, lifecycle.LabelRequested, lifecycle.LabelCancelRequested:
	default:
		errs = append(errs, fmt.Errorf("unknown label_state %.64q", st.LabelState))
	}
	if st.Version < 1 {
		errs = append(errs, fmt.Errorf("version %d, want 1 or more", st.Version))
	}
	for _, t := range []struct {
		name     string
		v        time.Time
		required bool
	}{{"update_time", st.UpdateTime, true}, {"updated_at", st.UpdatedAt, true},
		{"create_time", st.CreateTime, false}, {"shipping_due_time", st.ShippingDueTime, false}} {
		if (t.required || !t.v.IsZero()) && (t.v.Before(minTime) || t.v.After(maxTime)) {
			errs = append(errs, fmt.Errorf("%s %s is missing or not between 1970 and 9999", t.name, t.v.Format(time.RFC3339)))
		}
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = err.Error()
		}
		return st, fmt.Errorf("order state: %s", strings.Join(msgs, "; "))
	}
	return st, nil
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
