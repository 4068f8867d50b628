// Command creatorflow is the one binary of CreatorFlow: every role of the
// pipeline and every operator tool is a subcommand. Run `creatorflow help`
// for the list and `creatorflow <command> --help` for a command's flags, each
// of which can also come from a CREATORFLOW_<FLAG> environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/creatorflow/creatorflow/pipeline/config"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch of the outside world, so tests can run
// commands in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() []command {
	return []command{
		brokerCommand,
		topicsCommand,
		migrateCommand,
		catalogCommand,
		ingestCommand,
		sinkCommand,
		runCommand,
		loadgenCommand,
		sandboxCommand,
		scenarioCommand,
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills the process at once,
	// for when a graceful shutdown hangs.
	go func() { <-ctx.Done(); stop() }()
	os.Exit(run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

// run executes the command line and returns the exit status: 0 success, 1
// failure, 2 bad usage.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, e, []string{args[1], "--help"})
		}
		printHelp(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(e.stderr, "creatorflow %s: %v\nRun 'creatorflow %s --help' for usage.\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(e.stderr, "creatorflow %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "creatorflow: unknown command %q\n\n", args[0])
	printHelp(e.stderr)
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "creatorflow: TikTok Shop fulfilment as a stream-processing pipeline over Kafka.")
	fmt.Fprintln(w, "\nUsage: creatorflow <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'creatorflow <command> --help' for a command's flags. Every flag can also be set")
	fmt.Fprintf(w, "with an environment variable %s<FLAG> (for example CREATORFLOW_BROKERS).\n", config.EnvPrefix)
}

// usageError is a mistake on the command line, answered with exit status 2.
type usageError struct{ error }

// parse parses a command's flags (and their environment variables) and
// rejects stray arguments.
// usage is the synopsis and description shown by --help.
func parse(fs *flag.FlagSet, usage string, e *env, args []string) error {
	fs.SetOutput(e.stderr)
	fs.Usage = config.Usage(fs, usage)
	if err := config.Parse(fs, args, e.getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %v", fs.Args())}
	}
	return nil
}

// subcommand checks that args start with one of names, answering a request
// for help with usage.
func subcommand(e *env, args []string, usage string, names ...string) error {
	if len(args) > 0 && slices.Contains(names, args[0]) {
		return nil
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(e.stderr, usage)
		return flag.ErrHelp
	}
	return usageError{fmt.Errorf("expected a subcommand: %s", strings.Join(names, " or "))}
}
