package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

func TestSandboxCommandLine(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		args     []string
		vars     map[string]string
		wantCode int
		want     string
	}{
		{args: []string{"sandbox", "--help"}, wantCode: 0, want: "[CREATORFLOW_OUTAGE]"},
		{args: []string{"sandbox", "--help"}, wantCode: 0, want: `(default "127.0.0.1:9469")`},
		{args: []string{"sandbox", "--outage", "10m"}, wantCode: 2, want: "START+DURATION"},
		{args: []string{"sandbox"}, vars: map[string]string{"CREATORFLOW_OUTAGE": "1m+1m,oops"}, wantCode: 2, want: "CREATORFLOW_OUTAGE: invalid value"},
		{args: []string{"sandbox", "--error-rate", "0.7", "--throttle-rate", "0.5"}, wantCode: 2, want: "exceed 1"},
		{args: []string{"sandbox", "--latency", "1m"}, wantCode: 2, want: "--latency plus --latency-jitter"},
		{args: []string{"sandbox", "--addr", "nope"}, wantCode: 2, want: "--addr"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, code := cli(ctx, t, tt.vars, tt.args...)
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d; output lacks %q:\n%s", code, tt.wantCode, tt.want, out)
			}
		})
	}
}

// TestSandboxCommand starts the sandbox in-process, as an operator would
// with environment variables, and reads an order with a signed request.
func TestSandboxCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	addr, metrics := freeAddr(t), freeAddr(t)
	vars := map[string]string{
		"CREATORFLOW_ADDR":              addr,
		"CREATORFLOW_METRICS_ADDR":      metrics,
		"CREATORFLOW_TIKTOK_APP_KEY":    "cmd-app",
		"CREATORFLOW_TIKTOK_APP_SECRET": "cmd-secret",
		"CREATORFLOW_OUTAGE":            "1h+1m,2h+1m",
	}
	var logs syncBuffer
	done := make(chan int, 1)
	go func() { done <- cliTo(runCtx, &logs, vars, "sandbox", "--seed", "42") }()
	waitReady(ctx, t, "http://"+addr+"/sandbox/requests", done)

	q := url.Values{"app_key": {"cmd-app"}, "timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"shop_cipher": {"shop-1"}, "ids": {"1001,missing-1"}}
	q.Set("sign", tiktok.Sign("cmd-secret", tiktok.PathOrders, q, nil, false))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+tiktok.PathOrders+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-tts-access-token", "sandbox-access-0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var env tiktok.Envelope
	err = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || env.Code != tiktok.CodeOK {
		t.Fatalf("HTTP %d, %+v, %v", resp.StatusCode, env, err)
	}
	var data tiktok.OrdersData
	if err := json.Unmarshal(env.Data, &data); err != nil || len(data.Orders) != 1 || data.Orders[0].ID != "1001" {
		t.Fatalf("orders %s: %v", env.Data, err)
	}

	m, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(m.Body)
	m.Body.Close()
	if err != nil || !strings.Contains(string(body), `creatorflow_sandbox_requests_total{outcome="ok",route="orders"} 1`) {
		t.Fatalf("metrics lack the request (%v):\n%s", err, body)
	}
	for _, want := range []string{"sandbox listening", "addr=" + addr, "seed=42", "outages=1h0m0s+1m0s,2h0m0s+1m0s"} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("logs lack %q:\n%s", want, logs.String())
		}
	}

	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("sandbox exited %d; logs:\n%s", code, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("sandbox did not shut down")
	}
}
