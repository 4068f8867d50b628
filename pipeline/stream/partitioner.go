package stream

import "github.com/twmb/franz-go/pkg/kgo"

// changelogPartitioner writes a changelog record to the partition of the
// input partition it belongs to, so a restore reads one changelog partition
// per input partition, and hashes every other record by key as Kafka does.
type changelogPartitioner struct {
	changelogs map[string]bool
}

func (p changelogPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if p.changelogs[topic] {
		return kgo.ManualPartitioner().ForTopic(topic)
	}
	return kgo.StickyKeyPartitioner(nil).ForTopic(topic)
}
