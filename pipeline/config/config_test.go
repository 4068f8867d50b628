package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"brokers":           "CREATORFLOW_BROKERS",
		"clickhouse-url":    "CREATORFLOW_CLICKHOUSE_URL",
		"tiktok-app-secret": "CREATORFLOW_TIKTOK_APP_SECRET",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    options
		wantErr string
	}{
		{name: "defaults", want: options{addr: "127.0.0.1:1", brokers: List{"a:1"}}},
		{name: "env fills", env: map[string]string{"CREATORFLOW_ADDR": "0.0.0.0:2", "CREATORFLOW_BROKERS": "x:1, y:2", "CREATORFLOW_PARTITIONS": "6", "CREATORFLOW_SYNC": "true"},
			want: options{addr: "0.0.0.0:2", brokers: List{"x:1", "y:2"}, partitions: 6, sync: true}},
		{name: "flag wins over env", args: []string{"--addr", "flag:3"}, env: map[string]string{"CREATORFLOW_ADDR": "env:2"},
			want: options{addr: "flag:3", brokers: List{"a:1"}}},
		{name: "secret from file", env: map[string]string{"CREATORFLOW_SECRET_FILE": secretFile},
			want: options{addr: "127.0.0.1:1", brokers: List{"a:1"}, secret: "s3cret"}},
		{name: "both env and file", env: map[string]string{"CREATORFLOW_SECRET": "a", "CREATORFLOW_SECRET_FILE": secretFile}, wantErr: "both CREATORFLOW_SECRET and CREATORFLOW_SECRET_FILE"},
		{name: "missing file", env: map[string]string{"CREATORFLOW_SECRET_FILE": filepath.Join(dir, "nope")}, wantErr: "CREATORFLOW_SECRET_FILE"},
		{name: "bad env value", env: map[string]string{"CREATORFLOW_PARTITIONS": "many"}, wantErr: "CREATORFLOW_PARTITIONS: invalid value for --partitions"},
		{name: "empty list", env: map[string]string{"CREATORFLOW_BROKERS": " , "}, wantErr: "empty list"},
		{name: "bad flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, got := newFlags()
			err := Parse(fs, tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	fs, _ := newFlags()
	var out strings.Builder
	fs.SetOutput(&out)
	fs.Usage = Usage(fs, "usage: test")
	if err := Parse(fs, []string{"--help"}, func(string) string { return "" }); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"usage: test", "--addr", "[CREATORFLOW_ADDR]", "--brokers", "_FILE"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}

type options struct {
	addr       string
	brokers    List
	partitions int
	sync       bool
	secret     string
}

func newFlags() (*flag.FlagSet, *options) {
	o := &options{brokers: List{"a:1"}}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:1", "address")
	fs.Var(&o.brokers, "brokers", "brokers")
	fs.IntVar(&o.partitions, "partitions", 0, "partitions")
	fs.BoolVar(&o.sync, "sync", false, "sync")
	fs.StringVar(&o.secret, "secret", "", "secret")
	return fs, o
}

func FuzzListSet(f *testing.F) {
	for _, s := range []string{"a:1", "a:1,b:2", " , ", "", ",,x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var l List
		if err := l.Set(s); err != nil {
			return
		}
		for _, e := range l {
			if e == "" || strings.TrimSpace(e) != e || strings.Contains(e, ",") {
				t.Fatalf("bad element %q from %q", e, s)
			}
		}
	})
}

func TestPairs(t *testing.T) {
	tests := []struct {
		in      string
		want    Pairs
		wantErr string
	}{
		{in: "usps=a, ups = b", want: Pairs{"usps": "a", "ups": "b"}},
		{in: "", want: Pairs{}},
		{in: "usps=a=b", want: Pairs{"usps": "a=b"}},
		{in: "usps", wantErr: "not key=value"},
		{in: "usps=", wantErr: "not key=value"},
		{in: "usps=a,usps=b", wantErr: "given twice"},
	}
	for _, tt := range tests {
		var p Pairs
		err := p.Set(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Set(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(p, tt.want) {
			t.Errorf("Set(%q) = %v, %v; want %v", tt.in, p, err, tt.want)
		}
		if strings.Contains(p.String(), "=a") {
			t.Errorf("String() shows a value: %s", p.String())
		}
	}
}
