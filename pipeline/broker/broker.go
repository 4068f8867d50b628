// Package broker runs the embedded Kafka-protocol broker used on laptops, in
// CI and by the default local stack: franz-go's kfake, single node, speaking
// the real wire protocol on a TCP port, with its log, committed offsets and
// transaction state persisted in a data directory so they survive a restart.
//
// Production deployments point --brokers at a real Kafka or Redpanda cluster
// instead; nothing else in CreatorFlow knows which one it talks to.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Config describes one embedded broker.
type Config struct {
	// Addr is the host:port to listen on. Port 0 picks a free port.
	Addr string
	// AdvertisedAddr is the host:port clients are told to connect to in
	// metadata responses. Empty means Addr as bound, which is right unless
	// Addr is a wildcard such as 0.0.0.0.
	AdvertisedAddr string
	// DataDir persists topics, records, committed offsets and transactions.
	// Empty keeps everything in memory (tests that want a throwaway broker).
	DataDir string
	// Partitions is the partition count of topics created without one,
	// including auto-created topics.
	Partitions int
	// SyncWrites fsyncs every produced batch before acknowledging it, so an
	// acknowledged record survives a power loss, not only a process crash.
	SyncWrites bool
	// AutoCreateTopics lets a produce or metadata request create a missing
	// topic, as Apache Kafka does by default.
	AutoCreateTopics bool
	// Logger receives the broker's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Start binds the listener and starts serving. It fails if the address is
// taken or the data directory cannot be loaded.
func Start(cfg Config) (*Broker, error) {
	host, port, err := splitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("broker address %q: %w", cfg.Addr, err)
	}
	advertised := cfg.AdvertisedAddr
	// kfake binds 127.0.0.1:<port>; ListenFn rebinds to the host asked for and
	// makes the listener report the advertised address, which kfake hands to
	// clients in metadata.
	listen := func(network, _ string) (net.Listener, error) {
		ln, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		if advertised == "" {
			return ln, nil
		}
		adv, err := net.ResolveTCPAddr("tcp", advertised)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("advertised address %q: %w", advertised, err)
		}
		return advertisedListener{ln, adv}, nil
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(listen),
		kfake.WithLogger(slogAdapter{logger(cfg.Logger)}),
	}
	if cfg.Partitions > 0 {
		opts = append(opts, kfake.DefaultNumPartitions(cfg.Partitions))
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if cfg.SyncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	if cfg.AutoCreateTopics {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s: %w", cfg.Addr, err)
	}
	return &Broker{cluster: c, addr: c.ListenAddrs()[0]}, nil
}

// Addr is the address clients should use (the advertised one).
func (b *Broker) Addr() string { return b.addr }

// Close stops accepting connections and, with a data directory, writes the
// broker's state to disk before returning. Calling it more than once is safe.
func (b *Broker) Close() { b.cluster.Close() }

// Run starts a broker and serves until ctx is cancelled, then closes it
// cleanly. ready, if not nil, is called with the broker once it listens.
func Run(ctx context.Context, cfg Config, ready func(*Broker)) error {
	b, err := Start(cfg)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(b)
	}
	<-ctx.Done()
	b.Close()
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, errors.New("port must be a number from 0 to 65535")
	}
	return host, port, nil
}

type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// slogAdapter forwards kfake's printf-style log lines to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Logf(level kfake.LogLevel, format string, args ...any) {
	// kfake's info level logs every request: that is debug output for us.
	lvl := slog.LevelDebug
	switch level {
	case kfake.LogLevelError:
		lvl = slog.LevelError
	case kfake.LogLevelWarn:
		lvl = slog.LevelWarn
	}
	if !a.l.Enabled(context.Background(), lvl) {
		return
	}
	a.l.Log(context.Background(), lvl, fmt.Sprintf(format, args...), "component", "broker")
}
