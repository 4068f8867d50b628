package main

import (
	"context"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		args     []string
		vars     map[string]string
		wantCode int
		want     string
	}{
		{args: []string{"help"}, wantCode: 0, want: "Commands:"},
		{args: nil, wantCode: 2, want: "Commands:"},
		{args: []string{"frobnicate"}, wantCode: 2, want: `unknown command "frobnicate"`},
		{args: []string{"broker", "--help"}, wantCode: 0, want: "[CREATORFLOW_DATA_DIR]"},
		{args: []string{"help", "migrate"}, wantCode: 0, want: "[CREATORFLOW_POSTGRES_URL]"},
		{args: []string{"topics", "--help"}, wantCode: 0, want: "topics apply"},
		{args: []string{"topics", "apply", "--help"}, wantCode: 0, want: "--dry-run"},
		{args: []string{"ingest", "--help"}, wantCode: 0, want: "[CREATORFLOW_TIKTOK_APP_SECRET]"},
		{args: []string{"sink", "--help"}, wantCode: 0, want: "[CREATORFLOW_CLICKHOUSE_URL]"},
		{args: []string{"run", "--help"}, wantCode: 0, want: "--roles"},
		{args: []string{"topics"}, wantCode: 2, want: "expected a subcommand"},
		{args: []string{"broker", "--partitions", "0"}, wantCode: 2, want: "--partitions must be at least 1"},
		{args: []string{"broker", "stray"}, wantCode: 2, want: "unexpected arguments"},
		{args: []string{"broker", "--addr", "nope"}, wantCode: 1, want: "broker address"},
		{args: []string{"broker"}, vars: map[string]string{"CREATORFLOW_PARTITIONS": "x"}, wantCode: 2, want: "CREATORFLOW_PARTITIONS: invalid value"},
		{args: []string{"migrate", "--only", "mysql"}, wantCode: 2, want: "--only must be"},
		{args: []string{"run", "--roles", "ingest,teleport"}, wantCode: 2, want: `unknown role "teleport"`},
		{args: []string{"ingest", "--tiktok-app-key", "k"}, wantCode: 2, want: "ingest needs --tiktok-app-key and --tiktok-app-secret"},
		{args: []string{"run", "--log-level", "loud"}, wantCode: 2, want: "--log-level"},
		{args: []string{"run", "--roles", "sink,sink"}, wantCode: 2, want: `role "sink" named twice`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, code := cli(ctx, t, tt.vars, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d; output lacks %q:\n%s", code, tt.wantCode, tt.want, out)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"clickhouse://127.0.0.1:19000/db":                   "clickhouse://127.0.0.1:19000/db",
		"postgres://u:s3cret@h:5432/db":                     "postgres://u:xxxxx@h:5432/db",
		"clickhouse://h:9000/db?username=u&password=s3cret": "clickhouse://h:9000/db?password=xxxxx&username=u",
		"://bad": "<unparsable URL>",
	} {
		if got := redact(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
