package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestScenarioEval(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"json report", []string{"--seeds", "3", "--items", "24", "--duration", "6h", "--format", "json"}, 0, `"total"`},
		{"bad format", []string{"--format", "xml"}, 2, "--format"},
		{"bad seeds", []string{"--seeds", "1,x"}, 2, "--seeds"},
		{"bad weights", []string{"--engagement-weights", "hearts=2"}, 2, "--engagement-weights"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := cli(ctx, t, nil, append([]string{"scenario", "eval"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.code, out)
			}
			if tc.code != 0 {
				return
			}
			var rep struct {
				Total struct {
					Items   int `json:"items"`
					Content struct {
						Viral int `json:"viral"`
					} `json:"content"`
				} `json:"total"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Total.Items != 24 || rep.Total.Content.Viral == 0 {
				t.Fatalf("report %+v (%v):\n%s", rep, err, out)
			}
		})
	}
}
