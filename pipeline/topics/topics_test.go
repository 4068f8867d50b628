package topics_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/topics"
)

func TestApply(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	specs := []topics.Spec{
		{Name: k.Topic("events.v1"), Partitions: 3, ReplicationFactor: -1, Configs: map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}},
		{Name: k.Topic("state.v1"), Partitions: 1, ReplicationFactor: -1, Configs: map[string]string{"cleanup.policy": "compact", "retention.ms": "86400000"}},
	}

	dry, err := topics.Apply(ctx, k.Admin, specs, true)
	if err != nil || len(dry.Created) != 2 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if listed, _ := k.Admin.ListTopics(ctx); listed.Has(specs[0].Name) {
		t.Fatal("dry run created a topic")
	}

	first, err := topics.Apply(ctx, k.Admin, specs, false)
	if err != nil || len(first.Created) != 2 || len(first.Drift) != 0 {
		t.Fatalf("first apply: %+v, %v", first, err)
	}
	second, err := topics.Apply(ctx, k.Admin, specs, false)
	if err != nil || len(second.Created) != 0 || len(second.Current) != 2 || len(second.Drift) != 0 {
		t.Fatalf("second apply changed something: %+v, %v", second, err)
	}

	changed := append([]topics.Spec(nil), specs...)
	changed[1].Partitions = 4
	changed[1].Configs = map[string]string{"cleanup.policy": "delete", "retention.ms": "86400000"}
	drifted, err := topics.Apply(ctx, k.Admin, changed, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []topics.Drift{
		{Topic: specs[1].Name, Setting: "partitions", Want: "4", Have: "1"},
		{Topic: specs[1].Name, Setting: "cleanup.policy", Want: "delete", Have: "compact"},
	}
	if !reflect.DeepEqual(drifted.Drift, want) {
		t.Fatalf("drift = %+v, want %+v", drifted.Drift, want)
	}
}
