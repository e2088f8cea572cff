// Command cleanup-stale-bindings removes push bindings that have not been
// updated for a while, for one or many users of a Chat service.
//
//	cleanup-stale-bindings -service IS… -older-than 720h alice bob     # dry run: prints what would go
//	cleanup-stale-bindings -service IS… -older-than 720h -apply -file users.txt
//
// It is a dry run unless -apply is given. A binding is removed only when it
// matches every filter: its date_updated is known and older than
// -older-than, and its type is one of -type (when given). Removals run
// -concurrency at a time while listing continues; listing pages by keyset,
// so removing while listing skips nothing. 429s slow the whole run down
// (honouring Retry-After) and never fail it. A binding already removed by
// someone else (404) counts as already gone.
//
// Progress goes to stderr: refreshed in place on a terminal, periodic lines
// otherwise. Ctrl-C stops listing and starting removals, lets removals in
// flight finish, and prints the summary. Exit status: 0 when nothing failed,
// 1 when some removal or listing failed, 2 on bad usage, 130 when
// interrupted.
//
// Without TWILIO_* credentials it runs against an in-process emulator with
// demo data, and says so.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	cli.Flags
	olderThan   time.Duration
	apply       bool
	concurrency int
	progress    time.Duration // between progress lines when stderr is not a terminal
	retryWait   time.Duration // shortest backoff
}

func parse(args []string, stderr io.Writer) (*config, []string, error) {
	cfg := config{retryWait: 100 * time.Millisecond}
	dryRun := true
	fs := flag.NewFlagSet("cleanup-stale-bindings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs)
	fs.DurationVar(&cfg.olderThan, "older-than", 0, "remove bindings whose date_updated is older than this, e.g. 720h (required)")
	fs.BoolVar(&dryRun, "dry-run", true, "print what would be removed and remove nothing (the default)")
	fs.BoolVar(&cfg.apply, "apply", false, "remove the matching bindings")
	fs.IntVar(&cfg.concurrency, "concurrency", 4, "removals in flight at once, 1 to 64")
	fs.DurationVar(&cfg.progress, "progress", 5*time.Second, "interval between progress lines when stderr is not a terminal")
	fs.DurationVar(&cfg.retryWait, "retry-wait", 100*time.Millisecond, "shortest wait before retrying; waits grow from it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cleanup-stale-bindings -older-than DURATION [-apply] [flags] [user …]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	var err error
	switch {
	case cfg.olderThan <= 0:
		err = errors.New("-older-than is required and must be positive, e.g. -older-than 720h")
	case cfg.apply && isSet(fs, "dry-run") && dryRun:
		err = errors.New("-apply and -dry-run contradict each other; give one")
	case cfg.concurrency < 1 || cfg.concurrency > 64:
		err = errors.New("-concurrency must be between 1 and 64")
	case cfg.progress <= 0 || cfg.retryWait <= 0:
		err = errors.New("-progress and -retry-wait must be positive")
	}
	if err == nil {
		err = cfg.Parsed()
	}
	return &cfg, fs.Args(), err
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, users, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "cleanup-stale-bindings:", err)
		}
		return 2
	}
	opts := append(cli.ClientOptions(cfg.BaseURL, "cleanup-stale-bindings"),
		client.WithMaxRetries(6),
		client.WithRetryWait(cfg.retryWait, 50*cfg.retryWait),
		client.WithRetryAfterLimit(2*time.Minute),
	)
	env, err := cli.Connect(stderr, cfg.Service, cli.SeedUsers(12, 120), opts...)
	if err != nil {
		fmt.Fprintln(stderr, "cleanup-stale-bindings:", err)
		return 2
	}
	defer env.Close()
	users, err = cli.Users(users, cfg.File, stdin, env.Users)
	if err != nil {
		fmt.Fprintln(stderr, "cleanup-stale-bindings:", err)
		return 2
	}

	c := newCleaner(cfg, env.API.Services(env.ServiceSID), stdout)
	stopProgress := startProgress(c, stderr, cli.IsTerminal(stderr), cfg.progress)
	c.run(ctx, users)
	stopProgress()
	c.summary(stdout, ctx.Err() != nil)
	switch {
	case ctx.Err() != nil:
		return 130
	case c.failed.Load() > 0 || c.listFailed.Load() > 0:
		return 1
	}
	return 0
}
