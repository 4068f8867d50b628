package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/connectors/orderstate"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/lifecycle"
	"github.com/creatorflow/creatorflow/schemas"
)

// Application names of the order lifecycle and its PostgreSQL sink.
const (
	lifecycleApplication = "creatorflow-lifecycle"
	orderStateGroup      = "creatorflow-orderstate"
)

// lifecycleRole runs the order state machine: order events and BUY
// commands in; order states (a compacted topic), shippable orders (to the
// priority stage's topic shippable) and CANCEL commands out.
func lifecycleRole(sf *streamFlags, kafka *kafkaFlags, shippable stream.TopicSpec, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	topo, err := lifecycle.Topology(lifecycle.Config{
		Application:  kafka.topic(lifecycleApplication),
		Orders:       kafka.topic(schemas.TopicOrders),
		LabelActions: kafka.topic(schemas.TopicLabelActions),
		Shippable:    shippable,
		Registerer:   reg,
	})
	if err != nil {
		return role{}, usageError{err}
	}
	return role{name: "lifecycle", run: func(ctx context.Context) error {
		log.Info("lifecycle processing", "from", topo.Inputs, "to", topo.Outputs, "instance", sf.instance)
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}

// orderStateRole keeps the PostgreSQL table order_states in sync with the
// lifecycle's state topic.
func orderStateRole(kafka *kafkaFlags, pg *postgresFlags, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	topic := lifecycle.StateTopic(kafka.topic(lifecycleApplication)).Name
	group := kafka.topic(orderStateGroup)
	s, err := orderstate.New(orderstate.Config{Group: group, Topic: topic, DLQTopic: kafka.topic(schemas.TopicDLQ),
		PostgresURL: pg.url, Registerer: reg, Logger: log}, kafka.opts())
	if err != nil {
		return role{}, usageError{err}
	}
	return role{name: "orderstate", run: func(ctx context.Context) error {
		log.Info("order states to PostgreSQL", "topic", topic, "group", group, "postgres", redact(pg.url))
		return s.Run(ctx)
	}}, nil
}
