package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/priority"
	"github.com/creatorflow/creatorflow/schemas"
)

const priorityApplication = "creatorflow-priority"

// shippableTopic is where the lifecycle role sends orders that became
// shippable, re-keyed by buyer, for the priority role.
func shippableTopic(kafka *kafkaFlags) stream.TopicSpec {
	return priority.ShippableTopic(kafka.topic(priorityApplication))
}

// priorityRole decides each shippable order's priority class.
func priorityRole(sf *streamFlags, kafka *kafkaFlags, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	topo, err := priority.Topology(priority.StageConfig{Application: kafka.topic(priorityApplication), Shippable: shippableTopic(kafka),
		Prioritized: kafka.topic(schemas.TopicOrdersPrioritized), ViralAlerts: kafka.topic(schemas.TopicViralAlerts),
		StockAlerts: kafka.topic(schemas.TopicStockAlerts), Registerer: reg})
	if err != nil {
		return role{}, usageError{err}
	}
	return role{name: "priority", run: func(ctx context.Context) error {
		log.Info("priority processing", "from", topo.Inputs[0], "to", topo.Outputs[0], "globals", topo.Globals, "instance", sf.instance)
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}
