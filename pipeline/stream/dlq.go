package stream

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Headers a record carries on the DLQ besides its own: why it failed and
// where it came from, so it can be inspected and replayed to its topic.
const (
	HeaderDLQError     = "dlq_error"
	HeaderDLQTopic     = "dlq_topic"
	HeaderDLQPartition = "dlq_partition"
	HeaderDLQOffset    = "dlq_offset"
	HeaderDLQConsumer  = "dlq_consumer"
)

// DeadLetter returns rec addressed to the DLQ topic: same key, value, time
// and headers, plus the cause and the record's origin. Every consumer of
// the pipeline (processors, sinks) writes its dead letters with it.
func DeadLetter(rec *kgo.Record, topic, consumer string, cause error) *kgo.Record {
	headers := append(append(make([]kgo.RecordHeader, 0, len(rec.Headers)+5), rec.Headers...),
		kgo.RecordHeader{Key: HeaderDLQError, Value: []byte(cause.Error())},
		kgo.RecordHeader{Key: HeaderDLQTopic, Value: []byte(rec.Topic)},
		kgo.RecordHeader{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(int(rec.Partition)))},
		kgo.RecordHeader{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		kgo.RecordHeader{Key: HeaderDLQConsumer, Value: []byte(consumer)},
	)
	return &kgo.Record{Topic: topic, Key: rec.Key, Value: rec.Value, Headers: headers, Timestamp: rec.Timestamp}
}
