package stream

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	in, out, dlq, late, aborts, timerErrors prometheus.Counter
	restored, retries                       prometheus.Counter
	commit, restore, latency                prometheus.Observer
	lag                                     *prometheus.GaugeVec
	// globalRecords counts the records read per global topic, resolved
	// once: the consumer counts every record.
	globalRecords map[string]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, app string, stores []string, size func(store string) float64,
	globals []string, globalSize func(topic string) float64) *metrics {
	labels := prometheus.Labels{"application": app}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_stream_" + name, Help: help, ConstLabels: labels})
	}
	histogram := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creatorflow_stream_" + name, Help: help, ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	}
	m := &metrics{
		in:          counter("records_in_total", "Input records processed."),
		out:         counter("records_out_total", "Records emitted to output topics."),
		dlq:         counter("dlq_records_total", "Records sent to the DLQ (failed, undecodable or late)."),
		late:        counter("late_records_total", "Records that arrived after all their windows closed."),
		aborts:      counter("transaction_aborts_total", "Transactions aborted (rebalances, failures)."),
		timerErrors: counter("timer_errors_total", "Timers whose handler failed."),
		restored:    counter("restored_records_total", "Changelog records read back into state stores (restore progress)."),
		retries:     counter("transient_retries_total", "Transactions aborted to retry after a transient failure of a callback."),
	}
	commit := histogram("transaction_duration_seconds", "Time from the start of a transaction to its commit.")
	restore := histogram("restore_duration_seconds", "Time to restore the stores of newly assigned partitions from their changelogs.")
	latency := histogram("end_to_end_latency_seconds", "Time from an input's event time to the emission of what it caused.")
	m.commit, m.restore, m.latency = commit, restore, latency
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "creatorflow_stream_consumer_lag_records", ConstLabels: labels,
		Help: "Records between the last processed offset and the end of each input partition."}, []string{"topic", "partition"})
	globalRecords := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_stream_global_records_total", ConstLabels: labels,
		Help: "Records read from each global topic into its global table, the restore's included."}, []string{"topic"})
	m.globalRecords = map[string]prometheus.Counter{}
	for _, g := range globals {
		m.globalRecords[g] = globalRecords.WithLabelValues(g)
	}
	if reg != nil {
		reg.MustRegister(m.in, m.out, m.dlq, m.late, m.aborts, m.timerErrors, m.restored, m.retries, commit, restore, latency, m.lag,
			globalRecords)
		for _, g := range globals {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creatorflow_stream_global_entries",
				Help:        "Entries of a global table: the keys of the global topic this instance has read and not seen deleted.",
				ConstLabels: prometheus.Labels{"application": app, "topic": g}}, func() float64 { return globalSize(g) }))
		}
		for _, store := range stores {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "creatorflow_stream_store_entries",
				Help:        "Committed entries of a state store over the partitions this instance owns.",
				ConstLabels: prometheus.Labels{"application": app, "store": store}}, func() float64 { return size(store) }))
		}
	}
	return m
}
