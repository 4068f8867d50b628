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

// keyPartition is the partition Kafka's default partitioner gives a keyed
// record among n: the positive murmur2 hash of the key modulo n, as the Java
// client's BuiltInPartitioner and franz-go's StickyKeyPartitioner(nil) do, so
// the Driver puts a key where a producer would.
func keyPartition(key []byte, n int32) int32 {
	return int32(murmur2(key)&0x7fffffff) % n
}

// murmur2 is Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2,
// the hash of the default partitioner), on little-endian 4-byte blocks with
// Kafka's seed.
func murmur2(b []byte) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	h := seed ^ uint32(len(b))
	for ; len(b) >= 4; b = b[4:] {
		k := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch len(b) {
	case 3:
		h ^= uint32(b[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
