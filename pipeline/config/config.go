// Package config binds command-line flags to environment variables, so every
// setting of every role can come from a flag, from CREATORFLOW_<FLAG_NAME>, or
// for secrets from a file named by CREATORFLOW_<FLAG_NAME>_FILE.
//
// Precedence is flag, then environment, then the flag's default: an operator
// can pin a value in the environment of a deployment and still override it on
// the command line while debugging.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// EnvPrefix is the prefix of every environment variable the binary reads.
const EnvPrefix = "CREATORFLOW_"

// EnvName returns the environment variable that stands for a flag:
// "clickhouse-url" becomes "CREATORFLOW_CLICKHOUSE_URL".
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then fills every flag that was not given on the
// command line from the environment (getenv, usually os.Getenv). A flag whose
// variable is unset may instead be read from the file its _FILE variable
// names; surrounding whitespace of the file's content is trimmed, so a secret
// file written by an editor or `echo` works.
//
// Errors name the variable so a misconfigured deployment says what to fix.
// flag.ErrHelp is returned as is.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := EnvName(f.Name)
		value, fromFile, err := lookup(name, getenv)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if value == nil {
			return
		}
		if err := fs.Set(f.Name, *value); err != nil {
			source := name
			if fromFile {
				source = name + "_FILE"
			}
			errs = append(errs, fmt.Errorf("%s: invalid value for --%s: %w", source, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// lookup returns the value of the variable name or of the file named by
// name_FILE, or nil when neither is set.
func lookup(name string, getenv func(string) string) (value *string, fromFile bool, err error) {
	direct, file := getenv(name), getenv(name+"_FILE")
	switch {
	case direct != "" && file != "":
		return nil, false, fmt.Errorf("both %s and %s_FILE are set: use one", name, name)
	case direct != "":
		return &direct, false, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, true, fmt.Errorf("%s_FILE: %w", name, err)
		}
		s := strings.TrimSpace(string(b))
		return &s, true, nil
	}
	return nil, false, nil
}

// Usage returns a flag.FlagSet usage function that prints the synopsis, the
// flags with their environment variables, and a note on precedence.
func Usage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "%s\n\nFlags (each also read from the environment variable shown):\n", strings.TrimSpace(synopsis))
		fs.VisitAll(func(f *flag.Flag) { printFlag(w, f) })
		fmt.Fprintf(w, "\nA flag on the command line wins over its variable; a variable NAME_FILE reads the value from a file (for secrets).\n")
	}
}

func printFlag(w io.Writer, f *flag.Flag) {
	typeName, usage := flag.UnquoteUsage(f)
	head := "  --" + f.Name
	if typeName != "" {
		head += " " + typeName
	}
	fmt.Fprintf(w, "%s  [%s]\n    \t%s", head, EnvName(f.Name), usage)
	switch {
	case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
	case typeName == "string":
		fmt.Fprintf(w, " (default %q)", f.DefValue)
	default:
		fmt.Fprintf(w, " (default %s)", f.DefValue)
	}
	fmt.Fprintln(w)
}

// List is a flag.Value holding a comma-separated list, such as broker
// addresses. Empty elements are dropped.
type List []string

// String implements flag.Value.
func (l *List) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value; it replaces the list rather than appending, so an
// environment value and a default never mix.
func (l *List) Set(s string) error {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return errors.New("empty list")
	}
	*l = out
	return nil
}

// Pairs is a flag.Value holding comma-separated key=value pairs, such as
// carrier=secret. Keys are unique.
type Pairs map[string]string

// String implements flag.Value. Values are not shown: they are often secrets.
func (p *Pairs) String() string {
	keys := make([]string, 0, len(*p))
	for k := range *p {
		keys = append(keys, k+"=...")
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// Set implements flag.Value; like List it replaces what was there.
func (p *Pairs) Set(s string) error {
	out := Pairs{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%q is not key=value", k)
		}
		if _, dup := out[k]; dup {
			return fmt.Errorf("key %q given twice", k)
		}
		out[k] = v
	}
	*p = out
	return nil
}
