package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creatorflow/creatorflow/connectors/scenario"
	"github.com/creatorflow/creatorflow/processors/inventory"
	"github.com/creatorflow/creatorflow/processors/quality"
)

func init() {
	scenarioSubcommands = append(scenarioSubcommands, scenarioSubcommand{name: "eval",
		summary: "replay scenarios through viral detection and stock protection and score them against the truth",
		usage:   scenarioEvalUsage, run: runScenarioEval})
}

const scenarioEvalUsage = `usage: creatorflow scenario eval [--seeds 1,2,3] [--items N] [--duration D] [--dir DIR]
           [--format table|json] [viral detection flags]

Replays scenarios through the velocity and inventory processors (in process, with
the stream runtime's own record handling) and prints how they did against the
ground truth: precision and recall of viral detection per content item and per
SKU, detection delay from onset (event time), false alarms per 1,000 item-days,
and the share of the stock-outs a timely reorder could prevent that the
reorders did prevent, against the targets. Scenarios are generated from the
seeds, or read from --dir (written by scenario generate). The viral detection
flags are those of creatorflow run, so other settings can be tried.`

// viralTargets are issue 6's quality targets. The delay is judged on
// sudden spikes alone: slow burns caught early would flatter it.
var viralTargets = struct {
	recall, precision, prevented float64
	delayP95                     time.Duration
}{0.95, 0.95, 0.95, 2 * time.Minute}

func runScenarioEval(_ context.Context, e *env, args []string) error {
	var (
		seeds  = "1,2,3"
		items  = scenario.DefaultItems
		dur    = scenario.DefaultDuration
		dir    string
		format = "table"
		viral  viralFlags
	)
	fs := flag.NewFlagSet("scenario eval", flag.ContinueOnError)
	fs.StringVar(&seeds, "seeds", seeds, "seeds of the scenarios to generate, comma-separated")
	fs.IntVar(&items, "items", items, "content items per scenario")
	fs.DurationVar(&dur, "duration", dur, "length of each scenario")
	fs.StringVar(&dir, "dir", "", "read one scenario from this directory instead of generating")
	fs.StringVar(&format, "format", format, "table or json")
	viral.register(fs)
	if err := parse(fs, scenarioEvalUsage, e, args); err != nil {
		return err
	}
	if format != "table" && format != "json" {
		return usageError{fmt.Errorf("--format %q: want table or json", format)}
	}
	content, err := viral.content()
	if err != nil {
		return err
	}
	opts := quality.Options{Content: content, Stock: viral.stock()}
	var sources []func() (*scenario.Scenario, error)
	if dir != "" {
		sources = append(sources, func() (*scenario.Scenario, error) { return scenario.Read(dir) })
	} else {
		for part := range strings.SplitSeq(seeds, ",") {
			seed, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return usageError{fmt.Errorf("--seeds: %q is not a number", part)}
			}
			cfg := scenario.Config{Seed: seed, Items: items, Duration: dur}
			sources = append(sources, func() (*scenario.Scenario, error) { return scenario.Generate(cfg) })
		}
	}
	var reports []quality.Report
	var names []string
	for i, source := range sources {
		s, err := source()
		if errors.Is(err, scenario.ErrConfig) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		plans := inventoryPlans(s.Catalog.Plans())
		opts.Plans = func(sku string) (inventory.Plan, bool) { p, ok := plans[sku]; return p, ok }
		rep, err := quality.Evaluate(s, opts)
		if err != nil {
			return fmt.Errorf("scenario %d: %w", i+1, err)
		}
		reports = append(reports, rep)
		names = append(names, fmt.Sprintf("seed %d", s.Config.Seed))
	}
	total := quality.Merge(reports...)
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"scenarios": reports, "total": total})
	}
	printQuality(e.stdout, names, reports, total)
	if !meetsTargets(total) {
		return errors.New("below target (see the table)")
	}
	return nil
}

// meetsTargets says whether a pooled report meets every target.
func meetsTargets(r quality.Report) bool {
	return r.Content.Recall >= viralTargets.recall && r.Content.Precision >= viralTargets.precision &&
		r.SKUs.Recall >= viralTargets.recall && r.SKUs.Precision >= viralTargets.precision &&
		r.Spikes.DelayP95 < viralTargets.delayP95.Seconds() && r.Prevented >= viralTargets.prevented
}

func printQuality(w io.Writer, names []string, reports []quality.Report, total quality.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\titems\tviral\tprecision\trecall\tdelay p50 s\tdelay p95 s\tspikes p95 s\tSKU precision\tSKU recall\tfalse alarms/1000 item-days\trestarts\tfirst reorder in time\tstock-outs prevented\treorders\trecords/s\t")
	row := func(name string, r quality.Report) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%.3f\t%.3f\t%.1f\t%d\t%d/%d\t%d/%d %.3f\t%d\t%.0f\t\n", name, r.Items, r.Content.Viral,
			r.Content.Precision, r.Content.Recall, r.Content.DelayP50, r.Content.DelayP95, r.Spikes.DelayP95,
			r.SKUs.Precision, r.SKUs.Recall, r.FalseAlarmsPerKItemDay, r.Restarts, r.EarlyEnough, r.Possible, r.Enough, r.Possible, r.Prevented, r.Reorders, r.Throughput)
	}
	for i, r := range reports {
		row(names[i], r)
	}
	row("all", total)
	tw.Flush()
	check := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "\ntargets (pooled): recall %.3f (SKUs %.3f) >= %.2f %s; precision %.3f (SKUs %.3f) >= %.2f %s; p95 delay of spikes %.0f s < %.0f s %s; stock-outs prevented %.3f >= %.2f %s\n",
		total.Content.Recall, total.SKUs.Recall, viralTargets.recall, check(min(total.Content.Recall, total.SKUs.Recall) >= viralTargets.recall),
		total.Content.Precision, total.SKUs.Precision, viralTargets.precision, check(min(total.Content.Precision, total.SKUs.Precision) >= viralTargets.precision),
		total.Spikes.DelayP95, viralTargets.delayP95.Seconds(), check(total.Spikes.DelayP95 < viralTargets.delayP95.Seconds()),
		total.Prevented, viralTargets.prevented, check(total.Prevented >= viralTargets.prevented))
	fmt.Fprintf(w, "items: %d over %.0f item-days; delays are event time from the labelled onset (negative: a slow burn caught early)\n", total.Items, total.ItemDays)
	if n := len(total.Misses); n > 0 {
		fmt.Fprintf(w, "\n%d misses:\n", n)
		for _, m := range total.Misses[:min(n, 30)] {
			fmt.Fprintln(w, "  "+m)
		}
	}
}
