package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creatorflow/creatorflow/connectors/scenario"
)

func TestScenarioCommandLine(t *testing.T) {
	ctx := context.Background()
	out := t.TempDir()
	for _, tt := range []struct {
		args     []string
		vars     map[string]string
		wantCode int
		want     string
	}{
		{args: []string{"help"}, wantCode: 0, want: "scenario  generate labelled"},
		{args: []string{"scenario", "--help"}, wantCode: 0, want: "generate  write a scenario's catalog"},
		{args: []string{"help", "scenario"}, wantCode: 0, want: "creatorflow scenario <subcommand>"},
		{args: []string{"scenario", "generate", "--help"}, wantCode: 0, want: "[CREATORFLOW_SEED]"},
		{args: []string{"scenario"}, wantCode: 2, want: "expected a subcommand: generate"},
		{args: []string{"scenario", "replay"}, wantCode: 2, want: "expected a subcommand"},
		{args: []string{"scenario", "generate"}, wantCode: 2, want: "--out is required"},
		{args: []string{"scenario", "generate", "--out", out, "--items", "0"}, wantCode: 2, want: "--items must be at least 1"},
		{args: []string{"scenario", "generate", "--out", out, "--shops", "-2"}, wantCode: 2, want: "--shops must be at least 1"},
		{args: []string{"scenario", "generate", "--out", out, "--warmup", "0s"}, wantCode: 2, want: "must be positive"},
		{args: []string{"scenario", "generate", "--out", out, "--duration", "4h"}, wantCode: 2, want: "leaves no time for episodes"},
		{args: []string{"scenario", "generate", "--out", out, "--start", "monday"}, wantCode: 2, want: "--start"},
		{args: []string{"scenario", "generate", "--out", out, "--mix", "spike=1,viral=2"}, wantCode: 2, want: `unknown kind "viral"`},
		{args: []string{"scenario", "generate", "--out", out, "--mix", "spike=lots"}, wantCode: 2, want: "not a number"},
		{args: []string{"scenario", "generate", "--out", out, "--seed", "x"}, wantCode: 2, want: "invalid value"},
		{args: []string{"scenario", "generate", "--out", out, "stray"}, wantCode: 2, want: "unexpected arguments"},
		{args: []string{"scenario", "generate", "--out", out}, vars: map[string]string{"CREATORFLOW_ITEMS": "none"},
			wantCode: 2, want: "CREATORFLOW_ITEMS: invalid value"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, code := cli(ctx, t, tt.vars, tt.args...)
			if code != tt.wantCode || !strings.Contains(got, tt.want) {
				t.Fatalf("exit %d, want %d; output lacks %q:\n%s", code, tt.wantCode, tt.want, got)
			}
		})
	}
}

// TestScenarioCommand generates a small scenario, its size partly from the
// environment, and reads back the three files.
func TestScenarioCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scn")
	vars := map[string]string{"CREATORFLOW_ITEMS": "30", "CREATORFLOW_SHOPS": "2"}
	out, code := cli(context.Background(), t, vars, "scenario", "generate", "--seed", "5", "--duration", "5h",
		"--warmup", "30m", "--mix", "spike=1,steady=2,glitch=1", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"scenario: seed 5, 30 items in 2 shops, 5h0m0s from 2026-01-05T00:00:00Z (warmup 30m0s)",
		"  items:  spike 8, slow_burn 0, burst 0, glitch 7, always_hot 0, quiet 0, steady 15 (viral 8)\n",
		"  SKUs:   ", "orders.v1 ", "tiktok.content-metrics.v1 ",
		"  out:    " + dir + " (catalog.json, truth.json, events.jsonl)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{scenario.CatalogFile, scenario.TruthFile, scenario.EventsFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	s, err := scenario.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Config; c.Seed != 5 || c.Items != 30 || c.Shops != 2 || len(s.Items) != 30 || len(s.Events) == 0 {
		t.Fatalf("read back config %+v, %d items, %d events", c, len(s.Items), len(s.Events))
	}
}
