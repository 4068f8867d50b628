// Package processors will hold CreatorFlow's stateful business processors
// (order lifecycle, engagement velocity, burn rate, priority, carrier choice),
// each a topology on the pipeline runtime: exactly-once, event time, state in
// stores backed by changelog topics. They depend on pipeline and schemas, and
// nothing depends on them but cmd.
package processors
