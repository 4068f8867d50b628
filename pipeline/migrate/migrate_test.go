package migrate

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr string
	}{
		{name: "sorted by version", files: fstest.MapFS{
			"m/0010_later.sql": {Data: []byte("b")}, "m/0002_first.sql": {Data: []byte("a")},
		}, want: []string{"0002_first.sql", "0010_later.sql"}},
		{name: "bad name", files: fstest.MapFS{"m/2_x.sql": {}}, wantErr: "name must look like"},
		{name: "stray file", files: fstest.MapFS{"m/README.md": {}}, wantErr: "name must look like"},
		{name: "duplicate version", files: fstest.MapFS{"m/0001_a.sql": {}, "m/0001_b.sql": {}}, wantErr: "same version 1"},
		{name: "missing dir", files: fstest.MapFS{}, wantErr: "read migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, m := range ms {
				names = append(names, m.Name)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Fatalf("got %v, want %v", names, tt.want)
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"CREATE TABLE a (x Int8);\nCREATE TABLE b (y Int8);", []string{"CREATE TABLE a (x Int8)", "CREATE TABLE b (y Int8)"}},
		{"-- a comment; with a semicolon\nSELECT 1;", []string{"SELECT 1"}},
		{"SELECT 'a;b', \"c;d\", `e;f`; SELECT 'it''s'", []string{"SELECT 'a;b', \"c;d\", `e;f`", "SELECT 'it''s'"}},
		{"SELECT 'x\\';y'", []string{"SELECT 'x\\';y'"}},
		{" ;\n; ", nil},
		{"SELECT 1 -- trailing", []string{"SELECT 1"}},
		{"SELECT /* a; b */ 1; SELECT 2 /* unterminated ;", []string{"SELECT   1", "SELECT 2"}},
	}
	for _, tt := range tests {
		if got := SplitStatements(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitStatements(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	f.Add("CREATE TABLE a (x String DEFAULT ';'); -- c\nSELECT 1;")
	f.Fuzz(func(t *testing.T, sql string) {
		for _, s := range SplitStatements(sql) {
			if strings.TrimSpace(s) != s || s == "" {
				t.Fatalf("statement %q not trimmed or empty", s)
			}
		}
	})
}

// memStore is a Store in memory: the rules of Run are the same for every
// database, the real ones are exercised by the integration tests.
type memStore struct {
	applied []Applied
	failOn  int
}

func (s *memStore) Lock(context.Context) (func(), error)       { return func() {}, nil }
func (s *memStore) Applied(context.Context) ([]Applied, error) { return s.applied, nil }
func (s *memStore) Apply(_ context.Context, m Migration) error {
	if m.Version == s.failOn {
		return errors.New("boom")
	}
	s.applied = append(s.applied, Applied{Version: m.Version, Name: m.Name, Checksum: m.Checksum, AppliedAt: time.Now()})
	return nil
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	files := fstest.MapFS{"m/0001_a.sql": {Data: []byte("A")}, "m/0002_b.sql": {Data: []byte("B")}}
	ms, err := Load(files, "m")
	if err != nil {
		t.Fatal(err)
	}
	store := &memStore{}
	res, err := Run(ctx, store, ms)
	if err != nil || len(res.Applied) != 2 || res.Current != 0 {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	res, err = Run(ctx, store, ms)
	if err != nil || len(res.Applied) != 0 || res.Current != 2 {
		t.Fatalf("second run changed something: %+v, %v", res, err)
	}

	files["m/0002_b.sql"] = &fstest.MapFile{Data: []byte("B edited")}
	files["m/0003_c.sql"] = &fstest.MapFile{Data: []byte("C")}
	edited, _ := Load(files, "m")
	if _, err := Run(ctx, store, edited); !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("edited applied file: err = %v, want ErrChanged naming 0002_b.sql", err)
	}
	if len(store.applied) != 2 {
		t.Fatalf("a refused run applied something: %+v", store.applied)
	}

	if _, err := Run(ctx, store, ms[:1]); err == nil || !strings.Contains(err.Error(), "file is missing") {
		t.Fatalf("missing file: err = %v", err)
	}

	failing := &memStore{failOn: 2}
	res, err = Run(ctx, failing, ms)
	if err == nil || len(res.Applied) != 1 || !strings.Contains(err.Error(), "apply 0002_b.sql") {
		t.Fatalf("failing apply: %+v, %v", res, err)
	}
}
