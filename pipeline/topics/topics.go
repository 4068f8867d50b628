// Package topics makes a Kafka cluster's topics match a declared list: it
// creates the missing ones and reports drift in the existing ones, leaving
// their repair to an operator, because the fixes (more partitions, a
// different cleanup policy) move keys or delete data.
package topics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Spec is a topic as it should be.
type Spec struct {
	Name       string
	Partitions int32
	// ReplicationFactor of -1 takes the broker's default.
	ReplicationFactor int16
	// Configs are topic-level configs such as cleanup.policy and
	// retention.ms; only these are compared for drift.
	Configs map[string]string
}

// Drift is one difference between a spec and the cluster.
type Drift struct {
	Topic, Setting, Want, Have string
}

func (d Drift) String() string {
	return fmt.Sprintf("%s: %s is %s, catalog says %s", d.Topic, d.Setting, d.Have, d.Want)
}

// Report says what Apply found and did.
type Report struct {
	Created []string // created by this run (or that would be, with dryRun)
	Current []string // existing and as specified
	Drift   []Drift
}

// Apply creates every topic of specs that the cluster lacks and compares the
// others with their spec. With dryRun it only reports.
func Apply(ctx context.Context, adm *kadm.Client, specs []Spec, dryRun bool) (Report, error) {
	var rep Report
	existing, err := adm.ListTopics(ctx)
	if err != nil {
		return rep, fmt.Errorf("list topics: %w", err)
	}
	var present []string
	for _, s := range specs {
		if existing.Has(s.Name) {
			present = append(present, s.Name)
			continue
		}
		if dryRun {
			rep.Created = append(rep.Created, s.Name)
			continue
		}
		configs := map[string]*string{}
		for k, v := range s.Configs {
			configs[k] = &v
		}
		resp, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, configs, s.Name)
		if err == nil {
			err = resp.Err
		}
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists):
			// Created since the listing (another applier, or a listing
			// served from the client's metadata cache): compare it.
			present = append(present, s.Name)
		case err != nil:
			return rep, fmt.Errorf("create topic %s: %w", s.Name, err)
		default:
			rep.Created = append(rep.Created, s.Name)
		}
	}
	if len(present) == 0 {
		return rep, nil
	}
	details, err := adm.ListTopics(ctx, present...)
	if err != nil {
		return rep, fmt.Errorf("describe topics: %w", err)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, present...)
	if err != nil {
		return rep, fmt.Errorf("describe topic configs: %w", err)
	}
	bySpec := map[string]Spec{}
	for _, s := range specs {
		bySpec[s.Name] = s
	}
	for _, name := range present {
		s := bySpec[name]
		drift := compare(s, details[name], configs)
		if len(drift) == 0 {
			rep.Current = append(rep.Current, name)
		}
		rep.Drift = append(rep.Drift, drift...)
	}
	return rep, nil
}

func compare(s Spec, detail kadm.TopicDetail, configs kadm.ResourceConfigs) []Drift {
	var out []Drift
	if have := int32(len(detail.Partitions)); have != s.Partitions {
		out = append(out, Drift{Topic: s.Name, Setting: "partitions", Want: fmt.Sprint(s.Partitions), Have: fmt.Sprint(have)})
	}
	rc, err := configs.On(s.Name, nil)
	if err != nil {
		return append(out, Drift{Topic: s.Name, Setting: "configs", Want: "readable", Have: err.Error()})
	}
	have := map[string]string{}
	for _, c := range rc.Configs {
		have[c.Key] = c.MaybeValue()
	}
	keys := make([]string, 0, len(s.Configs))
	for k := range s.Configs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if want := s.Configs[k]; !strings.EqualFold(have[k], want) {
			out = append(out, Drift{Topic: s.Name, Setting: k, Want: want, Have: orUnset(have[k])})
		}
	}
	return out
}

func orUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}
