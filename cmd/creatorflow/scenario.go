package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/connectors/scenario"
)

var scenarioCommand = command{
	name:    "scenario",
	summary: "generate labelled content-metric and order streams with ground truth (scenario generate)",
	run:     runScenario,
}

// scenarioSubcommand is one subcommand of creatorflow scenario.
type scenarioSubcommand struct {
	// name is the word after "scenario".
	name string
	// summary is its line in scenario --help.
	summary string
	// usage is its --help text, starting "usage: creatorflow scenario NAME".
	usage string
	// run runs it with the arguments after its name.
	run func(ctx context.Context, e *env, args []string) error
}

// scenarioSubcommands are the subcommands of creatorflow scenario, in the
// order scenario --help lists them. A subcommand lives in a file of its own
// and adds itself from that file's init function:
//
//	func init() {
//		scenarioSubcommands = append(scenarioSubcommands, scenarioSubcommand{
//			name: "eval", summary: "...", usage: scenarioEvalUsage, run: runScenarioEval})
//	}
//
// Its run parses its flags with parse(fs, usage, e, args) and returns a
// usageError for bad usage (exit status 2), like every command.
var scenarioSubcommands = []scenarioSubcommand{
	{name: "generate", summary: "write a scenario's catalog, ground truth and events to a directory",
		usage: scenarioGenerateUsage, run: runScenarioGenerate},
}

// scenarioUsage is scenario --help: the subcommands of the table.
func scenarioUsage() string {
	var b strings.Builder
	b.WriteString("usage: creatorflow scenario <subcommand> [flags]\n\n")
	b.WriteString("A scenario is a deterministic, labelled stream of TikTok content readings and\n")
	b.WriteString("orders with the ground truth behind it: which items went viral and when, which\n")
	b.WriteString("were bot bursts or counter glitches, when each SKU runs out. See docs/scenario.md.\n\nSubcommands:\n")
	for _, sc := range scenarioSubcommands {
		fmt.Fprintf(&b, "  %-9s %s\n", sc.name, sc.summary)
	}
	b.WriteString("\nRun 'creatorflow scenario <subcommand> --help' for its flags.")
	return b.String()
}

func runScenario(ctx context.Context, e *env, args []string) error {
	names := make([]string, len(scenarioSubcommands))
	for i, sc := range scenarioSubcommands {
		names[i] = sc.name
	}
	if err := subcommand(e, args, scenarioUsage(), names...); err != nil {
		return err
	}
	for _, sc := range scenarioSubcommands {
		if sc.name == args[0] {
			return sc.run(ctx, e, args[1:])
		}
	}
	panic("unreachable: subcommand checked the name")
}

const scenarioGenerateUsage = `usage: creatorflow scenario generate --out DIR [--seed N] [--items N] [--shops N]
           [--duration D] [--warmup D] [--start TIME] [--mix KIND=SHARE,...]

Generates a scenario and writes it to DIR (created if need be):

  catalog.json  the shops, suppliers, SKUs and content (creatorflow catalog import reads it)
  truth.json    the config, every item's truth (kind, onset, peak, faults) and every
                SKU's (viral, onset, stock, lead time, stock-out, whether a reorder at
                the onset could prevent it)
  events.jsonl  the records of tiktok.content-metrics.v1 and orders.v1, one JSON
                object a line, in arrival order

The same flags always write the same bytes. Kinds are spike, slow_burn, burst,
glitch, always_hot, quiet and steady; the model is described in docs/scenario.md.`

// mixFlag is --mix: kind=share pairs, comma-separated.
type mixFlag map[scenario.Kind]float64

// String implements flag.Value, kinds in scenario.Kinds order.
func (m *mixFlag) String() string {
	var parts []string
	for _, k := range scenario.Kinds {
		if share, ok := (*m)[k]; ok {
			parts = append(parts, string(k)+"="+strconv.FormatFloat(share, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value; the kinds given replace the whole mix.
func (m *mixFlag) Set(s string) error {
	out := mixFlag{}
	for part := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%q is not kind=share", part)
		}
		kind := scenario.Kind(strings.TrimSpace(name))
		if !slices.Contains(scenario.Kinds, kind) {
			return fmt.Errorf("unknown kind %q (kinds: %s)", name, kindList())
		}
		share, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || share < 0 {
			return fmt.Errorf("share of %s: %q is not a number >= 0", kind, value)
		}
		out[kind] = share
	}
	*m = out
	return nil
}

func kindList() string {
	names := make([]string, len(scenario.Kinds))
	for i, k := range scenario.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func runScenarioGenerate(_ context.Context, e *env, args []string) error {
	var (
		cfg   = scenario.Config{Seed: 1}
		out   string
		start string
		mix   = mixFlag(scenario.DefaultMix())
	)
	fs := flag.NewFlagSet("scenario generate", flag.ContinueOnError)
	fs.Int64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the scenario: the same seed and flags give the same files")
	fs.IntVar(&cfg.Items, "items", scenario.DefaultItems, "content items")
	fs.IntVar(&cfg.Shops, "shops", scenario.DefaultShops, "shops the items and SKUs are spread over")
	fs.DurationVar(&cfg.Duration, "duration", scenario.DefaultDuration, "length of the scenario")
	fs.DurationVar(&cfg.Warmup, "warmup", scenario.DefaultWarmup, "quiet start without onsets, bursts, glitches or faults, for detectors to learn baselines")
	fs.StringVar(&start, "start", scenario.DefaultStart.Format(time.RFC3339), "start of the scenario, RFC 3339")
	fs.Var(&mix, "mix", "shares of the kinds as `kind=share,...` (normalized; kinds not named get none)")
	fs.StringVar(&out, "out", "", "directory to write catalog.json, truth.json and events.jsonl to")
	if err := parse(fs, scenarioGenerateUsage, e, args); err != nil {
		return err
	}
	switch {
	case out == "":
		return usageError{errors.New("--out is required")}
	case cfg.Items < 1:
		return usageError{errors.New("--items must be at least 1")}
	case cfg.Shops < 1:
		return usageError{errors.New("--shops must be at least 1")}
	case cfg.Duration <= 0 || cfg.Warmup <= 0:
		return usageError{errors.New("--duration and --warmup must be positive")}
	}
	var err error
	if cfg.Start, err = time.Parse(time.RFC3339, start); err != nil {
		return usageError{fmt.Errorf("--start: %w", err)}
	}
	cfg.Mix = mix

	began := time.Now()
	s, err := scenario.Generate(cfg)
	if errors.Is(err, scenario.ErrConfig) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	generated := time.Since(began)
	began = time.Now()
	if err := s.Write(out); err != nil {
		return err
	}
	written := time.Since(began)

	st := s.Stats()
	c := s.Config
	fmt.Fprintf(e.stdout, "scenario: seed %d, %d items in %d shops, %s from %s (warmup %s); generated in %s, written in %s\n",
		c.Seed, c.Items, c.Shops, c.Duration, c.Start.Format(time.RFC3339), c.Warmup,
		generated.Round(time.Millisecond), written.Round(time.Millisecond))
	var kinds []string
	viral := 0
	for _, k := range scenario.Kinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, st.Kinds[k]))
		if k.Viral() {
			viral += st.Kinds[k]
		}
	}
	fmt.Fprintf(e.stdout, "  items:  %s (viral %d)\n", strings.Join(kinds, ", "), viral)
	fmt.Fprintf(e.stdout, "  SKUs:   %d, viral %d, stock-outs %d (viral %d), possible %d\n",
		st.SKUs, st.ViralSKUs, st.StockOuts, st.ViralStockOuts, st.PossibleSKUs)
	total := 0
	var topics []string
	for _, t := range slices.Sorted(maps.Keys(st.Events)) {
		topics = append(topics, fmt.Sprintf("%s %d", t, st.Events[t]))
		total += st.Events[t]
	}
	fmt.Fprintf(e.stdout, "  events: %d: %s\n", total, strings.Join(topics, ", "))
	fmt.Fprintf(e.stdout, "  out:    %s (%s, %s, %s)\n", out, scenario.CatalogFile, scenario.TruthFile, scenario.EventsFile)
	return nil
}
