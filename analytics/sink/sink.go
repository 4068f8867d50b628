// Package sink lands Kafka topics in ClickHouse for analysts. It writes in
// batches and commits Kafka offsets only after ClickHouse accepted a batch, so
// nothing is lost; a batch written twice (after a crash between insert and
// commit, or a replay) is collapsed by the tables' ReplacingMergeTree on the
// event id, so nothing is counted twice.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/batch"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// Table maps the records of one topic to rows of one ClickHouse table.
type Table struct {
	// Name is the ClickHouse table.
	Name string
	// Columns are named in every INSERT (ClickHouse 18.16 needs them over
	// the native protocol, and it keeps inserts valid as tables grow).
	Columns []string
	// Row returns the column values of a record, in Columns order. An error
	// means the record can never be written: it goes to the DLQ.
	Row func(r *kgo.Record, env schemas.Envelope) ([]any, error)
}

// TikTokWebhooks maps tiktok.webhooks.v1 to the tiktok_webhooks table.
var TikTokWebhooks = Table{
	Name: "tiktok_webhooks",
	Columns: []string{"event_id", "event_time", "ingest_time", "shop_id", "order_id", "notification_id",
		"webhook_type", "order_status", "kafka_partition", "kafka_offset", "body"},
	Row: func(r *kgo.Record, env schemas.Envelope) ([]any, error) {
		if err := dateTimeRange(env.Time, env.IngestTime); err != nil {
			return nil, err
		}
		hook, err := schemas.ParseTikTokWebhook(r.Value)
		if err != nil {
			return nil, err
		}
		order, _ := hook.OrderStatusChange()
		return []any{env.ID.String(), env.Time, env.IngestTime, hook.ShopID, order.OrderID, hook.NotificationID,
			uint16(hook.Type), string(order.OrderStatus), r.Partition, r.Offset, string(r.Value)}, nil
	},
}

// ClickHouse's DateTime holds seconds from 1970 to 2105; the driver would
// wrap a later time around silently, so such a record is refused instead.
var (
	minDateTime = time.Unix(0, 0)
	maxDateTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
)

func dateTimeRange(ts ...time.Time) error {
	for _, t := range ts {
		if t.Before(minDateTime) || t.After(maxDateTime) {
			return fmt.Errorf("time %s is outside ClickHouse DateTime's range (1970 to 2105)", t.Format(time.RFC3339))
		}
	}
	return nil
}

// Config configures a sink.
type Config struct {
	// Group is the consumer group; instances in one group share partitions.
	Group string
	// Topics maps each consumed topic (with any deployment prefix) to its
	// table.
	Topics map[string]Table
	// DLQTopic receives records that can never be written.
	DLQTopic string
	// BatchSize is the most records written in one INSERT.
	BatchSize int
	// RetryBackoff is the first wait after ClickHouse refuses a batch; it
	// doubles up to MaxRetryBackoff while ClickHouse stays down.
	RetryBackoff, MaxRetryBackoff time.Duration
}

// Sink consumes topics into ClickHouse.
type Sink struct {
	cfg    Config
	tables map[string]Table // by table name
	// consumer gives up a batch stuck retrying against a ClickHouse
	// outage when the group wants to rebalance, and reads it again.
	consumer *batch.Consumer
	kafka    *kgo.Client // the consumer's
	ch       driver.Conn
	log      *slog.Logger
	metrics  metrics
}

type metrics struct {
	rows         *prometheus.CounterVec
	commitFailed prometheus.Counter
	dlq          prometheus.Counter
	retries      prometheus.Counter
	batch        prometheus.Histogram
}

// New creates a sink whose Kafka client is built from base (brokers, client
// id, security) plus the consumer settings the sink relies on.
func New(cfg Config, base []kgo.Opt, ch driver.Conn, reg prometheus.Registerer, log *slog.Logger) (*Sink, error) {
	if cfg.Group == "" || len(cfg.Topics) == 0 || cfg.DLQTopic == "" || cfg.BatchSize <= 0 {
		return nil, errors.New("sink: group, topics, DLQ topic and a positive batch size are required")
	}
	topics := make([]string, 0, len(cfg.Topics))
	tables := map[string]Table{}
	for t, table := range cfg.Topics {
		topics = append(topics, t)
		tables[table.Name] = table
	}
	consumer, err := batch.NewConsumer(base, cfg.Group, topics, log)
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	m := metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creatorflow_sink_rows_total", Help: "Rows written to ClickHouse, by table.",
		}, []string{"table"}),
		dlq: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "creatorflow_sink_dlq_records_total", Help: "Records the sink could not write and sent to the DLQ.",
		}),
		commitFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "creatorflow_sink_commit_failures_total", Help: "Offset commits that failed; their rows are written again (deduplicated).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "creatorflow_sink_insert_retries_total", Help: "Batches ClickHouse refused and that are retried.",
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "creatorflow_sink_batch_duration_seconds", Help: "Time to write one batch, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	reg.MustRegister(m.rows, m.commitFailed, m.dlq, m.retries, m.batch)
	return &Sink{cfg: cfg, tables: tables, consumer: consumer, kafka: consumer.Client(), ch: ch, log: log, metrics: m}, nil
}

// Ping reports whether the broker answers, for readiness.
func (s *Sink) Ping(ctx context.Context) error { return s.kafka.Ping(ctx) }

// Run consumes until ctx is done, then leaves the group. Offsets of records
// not yet written are not committed: they are read again on restart.
func (s *Sink) Run(ctx context.Context) error {
	return s.consumer.Run(ctx, s.cfg.BatchSize, s.write)
}

// write lands one polled batch and commits its offsets.
func (s *Sink) write(ctx context.Context, records []*kgo.Record) error {
	if len(records) == 0 {
		return nil
	}
	start := time.Now()
	rows := map[string][][]any{}
	var dead []*kgo.Record
	for _, r := range records {
		table := s.cfg.Topics[r.Topic]
		row, err := decode(table, r)
		if err != nil {
			dead = append(dead, stream.DeadLetter(r, s.cfg.DLQTopic, s.cfg.Group, err))
			continue
		}
		rows[table.Name] = append(rows[table.Name], row)
	}
	for name, batch := range rows {
		if err := s.insertRetrying(ctx, s.tables[name], batch); err != nil {
			return err // ErrAbandoned included: the batch is read again
		}
	}
	if len(dead) > 0 {
		if err := s.kafka.ProduceSync(ctx, dead...).FirstErr(); err != nil {
			return fmt.Errorf("sink: write to DLQ: %w", err)
		}
		s.metrics.dlq.Add(float64(len(dead)))
		s.log.Warn("records sent to the DLQ", "count", len(dead), "first_error", string(header(dead[0], stream.HeaderDLQError)))
	}
	if err := s.kafka.CommitRecords(ctx, records...); err != nil {
		// The rows are in ClickHouse; whoever owns the partitions now
		// reads them again and the duplicates collapse by event id. A
		// member kicked from the group after a long outage rejoins.
		s.metrics.commitFailed.Inc()
		s.log.Warn("offset commit failed; the batch will be written again", "records", len(records), "err", err)
	}
	s.metrics.batch.Observe(time.Since(start).Seconds())
	return nil
}

// insertRetrying writes one batch, waiting out a ClickHouse outage with
// exponential backoff. Only this batch is held meanwhile: the consumer is not
// polled, so memory stays bounded.
func (s *Sink) insertRetrying(ctx context.Context, table Table, rows [][]any) error {
	err := s.consumer.Retry(ctx, s.cfg.RetryBackoff, s.cfg.MaxRetryBackoff, nil,
		func(err error, wait time.Duration) {
			s.metrics.retries.Inc()
			s.log.Warn("ClickHouse refused a batch; retrying", "table", table.Name, "rows", len(rows), "retry_in", wait, "err", err)
		},
		func(ctx context.Context) error { return s.insert(ctx, table, rows) })
	if err == nil {
		s.metrics.rows.WithLabelValues(table.Name).Add(float64(len(rows)))
	}
	return err
}

func (s *Sink) insert(ctx context.Context, table Table, rows [][]any) error {
	batch, err := s.ch.PrepareBatch(ctx, "INSERT INTO "+table.Name+" ("+strings.Join(table.Columns, ", ")+")")
	if err != nil {
		return err
	}
	for _, row := range rows {
		if err := batch.Append(row...); err != nil {
			_ = batch.Abort()
			return err
		}
	}
	return batch.Send()
}

func decode(table Table, r *kgo.Record) ([]any, error) {
	if table.Row == nil {
		return nil, fmt.Errorf("no table for topic %s", r.Topic)
	}
	env, err := schemas.ParseHeaders(r.Headers)
	if err != nil {
		return nil, err
	}
	return table.Row(r, env)
}

func header(r *kgo.Record, key string) []byte {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}
