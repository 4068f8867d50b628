package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/pipeline/config"
)

// Flag groups shared by several commands; each registers its flags on a
// command's FlagSet. Defaults point at the local stack (CONTRACTS.md).

type logFlags struct{ level, format string }

func (f *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.format, "log-format", "text", "log format: text or json")
}

func (f *logFlags) logger(e *env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level: %w", err)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format must be text or json, not %q", f.format)}
}

type kafkaFlags struct {
	brokers     config.List
	clientID    string
	topicPrefix string
}

func (f *kafkaFlags) register(fs *flag.FlagSet) {
	f.brokers = config.List{"127.0.0.1:19092"}
	fs.Var(&f.brokers, "brokers", "Kafka bootstrap brokers, comma-separated")
	fs.StringVar(&f.clientID, "client-id", "creatorflow", "Kafka client id, shown in broker logs and quotas")
	fs.StringVar(&f.topicPrefix, "topic-prefix", "", "prefix of every topic name, to run several deployments on one cluster")
}

// opts returns the client options every Kafka client of the process shares.
func (f *kafkaFlags) opts() []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(f.brokers...), kgo.ClientID(f.clientID)}
}

func (f *kafkaFlags) topic(name string) string { return f.topicPrefix + name }

type clickhouseFlags struct{ url string }

func (f *clickhouseFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "clickhouse-url", "clickhouse://127.0.0.1:19000/creatorflow",
		"ClickHouse native-protocol URL, clickhouse://user:password@host:port/database")
}

// open connects to ClickHouse and checks that it answers.
func (f *clickhouseFlags) open(ctx context.Context) (driver.Conn, error) {
	opts, err := clickhouse.ParseDSN(f.url)
	if err != nil {
		return nil, usageError{fmt.Errorf("--clickhouse-url: %w", err)}
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", redact(f.url), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %s: %w", redact(f.url), err)
	}
	return conn, nil
}

type postgresFlags struct{ url string }

func (f *postgresFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "postgres-url", "postgres://creatorflow:creatorflow@127.0.0.1:15432/creatorflow",
		"PostgreSQL URL")
}

type opsFlags struct {
	addr  string
	pprof bool
}

func (f *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "metrics-addr", "127.0.0.1:9464", "address of /metrics, /healthz and /readyz")
	fs.BoolVar(&f.pprof, "pprof", false, "also serve Go profiles under /debug/pprof/ on the metrics address")
}

// redact hides the password of a URL, in its user info or its query, for
// logs and errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// checkListen fails early, with the address in the message, when a listen
// address is malformed.
func checkListen(flagName, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return usageError{fmt.Errorf("--%s %q: %w", flagName, addr, err)}
	}
	return nil
}

// tiktokAppFlags are the TikTok Shop app's credentials, shared by the roles
// that need them: the ingest verifies webhooks with them, the API client
// signs its requests with them.
type tiktokAppFlags struct{ key, secret string }

func (f *tiktokAppFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.key, "tiktok-app-key", "", "TikTok Shop app key (webhooks are verified and API requests signed with its secret)")
	fs.StringVar(&f.secret, "tiktok-app-secret", "", "secret of that app (prefer CREATORFLOW_TIKTOK_APP_SECRET_FILE)")
}

// tiktokAPIFlags say how to reach the TikTok Shop API.
type tiktokAPIFlags struct {
	url, authURL              string
	accessToken, refreshToken string
	appRate, shopRate         int
}

func (f *tiktokAPIFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "tiktok-api-url", "http://127.0.0.1:8090", "TikTok Shop API base URL (the sandbox by default)")
	fs.StringVar(&f.authURL, "tiktok-auth-url", "", "TikTok Shop token service URL (default: the API URL)")
	fs.StringVar(&f.accessToken, "tiktok-access-token", "sandbox-access-0", "seller access token (prefer CREATORFLOW_TIKTOK_ACCESS_TOKEN_FILE)")
	fs.StringVar(&f.refreshToken, "tiktok-refresh-token", "sandbox-refresh-0", "seller refresh token, used when the access token expires")
	fs.IntVar(&f.appRate, "tiktok-app-rate", 1000, "TikTok API requests per minute for the app, all shops together")
	fs.IntVar(&f.shopRate, "tiktok-shop-rate", 0, "TikTok API requests per minute per shop (0: only the app's limit)")
}

// client returns a TikTok Shop API client whose metrics go to reg.
func (f *tiktokAPIFlags) client(app *tiktokAppFlags, reg prometheus.Registerer, log *slog.Logger) (*tiktok.Client, error) {
	if app.key == "" || app.secret == "" {
		return nil, usageError{errors.New("the TikTok API needs --tiktok-app-key and --tiktok-app-secret (or CREATORFLOW_TIKTOK_APP_KEY / CREATORFLOW_TIKTOK_APP_SECRET[_FILE])")}
	}
	c, err := tiktok.New(tiktok.Config{BaseURL: f.url, AuthURL: f.authURL, AppKey: app.key, AppSecret: app.secret,
		AccessToken: f.accessToken, RefreshToken: f.refreshToken, AppRate: f.appRate, ShopRate: f.shopRate,
		Metrics: tiktok.NewMetrics(reg), Logger: log})
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}
