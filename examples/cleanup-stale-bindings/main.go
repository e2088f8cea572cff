// Command cleanup-stale-bindings removes push bindings that have not been
// updated for a while, from named users of a Chat service or from the whole
// service.
//
//	cleanup-stale-bindings -service IS… -older-than 720h alice bob              # dry run: prints what would go
//	cleanup-stale-bindings -service IS… -older-than 720h -apply -file users.txt
//	cleanup-stale-bindings -service IS… -older-than 720h -all-users -plan plan.jsonl
//	cleanup-stale-bindings -service IS… -apply -from-plan plan.jsonl -audit audit.jsonl -state run.state
//
// It is a dry run unless -apply is given. A binding is removed only when it
// matches every filter: its date_updated is known and older than
// -older-than, measured on the API's clock, and its type is one of -type
// (when given). Immediately before each removal the binding is read again,
// and removed only if it still matches: a device that re-registered since it
// was listed keeps its binding. Users are listed -concurrency at a time
// (-all-users walks the service-wide listing instead), and removals stay
// within -rate a second, adapting to the API's 429s.
//
// -state resumes a run that was killed; -audit keeps one JSON line per
// removal; -plan writes a dry run's matches, and -from-plan removes exactly
// those. Progress goes to stderr. Ctrl-C stops listing and starting
// removals, lets removals in flight finish, and prints the summary.
//
// Exit status: 0 when nothing failed, 1 when some removal or listing
// failed, 2 on bad usage, 130 when interrupted.
//
// With no TWILIO_* credentials set it runs against an in-process emulator
// with demo data and the live API's limits, and says so.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
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

// serviceBudget is the service's write budget on the live API: 30 actions
// a second, shared with everything else the application writes.
const serviceBudget = 30

type config struct {
	cli.Flags
	olderThan   time.Duration
	apply       bool
	rate        float64
	progress    time.Duration // between progress lines when stderr is not a terminal
	retryWait   time.Duration // shortest backoff
	stateFile   string
	auditFile   string
	planFile    string
	fromPlan    string
	olderThanOK bool // -older-than was given
}

func parse(args []string, stderr io.Writer) (*config, []string, error) {
	cfg := config{}
	dryRun := true
	fs := flag.NewFlagSet("cleanup-stale-bindings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs, "users listed at once, and removals at once")
	fs.DurationVar(&cfg.olderThan, "older-than", 0, "remove bindings whose date_updated is older than this, e.g. 720h (required, except with -from-plan)")
	fs.BoolVar(&dryRun, "dry-run", true, "print what would be removed and remove nothing; -apply turns it off")
	fs.BoolVar(&cfg.apply, "apply", false, "remove the matching bindings")
	fs.Float64Var(&cfg.rate, "rate", 10, "removals per second at most, adapting down on 429s; the service's whole write budget is 30, shared with the live app; 0 for no limit (emulators, proxies)")
	fs.DurationVar(&cfg.progress, "progress", 5*time.Second, "interval between progress lines when stderr is not a terminal")
	fs.DurationVar(&cfg.retryWait, "retry-wait", 100*time.Millisecond, "shortest wait before retrying; waits grow from it")
	fs.StringVar(&cfg.stateFile, "state", "", "record progress in this file, and resume from it: finished users (or the service walk's place) are not listed again")
	fs.StringVar(&cfg.auditFile, "audit", "", "append one JSON line per removal decision and outcome to this file")
	fs.StringVar(&cfg.planFile, "plan", "", "with a dry run, write the matching bindings to this file as JSON lines")
	fs.StringVar(&cfg.fromPlan, "from-plan", "", "with -apply, remove exactly the bindings of this plan (each re-checked first) and list nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cleanup-stale-bindings -older-than DURATION [-apply] [flags] [user …]")
		fmt.Fprintln(stderr, "       cleanup-stale-bindings -older-than DURATION [-apply] [flags] -all-users")
		fmt.Fprintln(stderr, "       cleanup-stale-bindings -apply -from-plan FILE [flags]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "exit status: 0 nothing failed, 1 some removal or listing failed, 2 bad usage, 130 interrupted")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	fs.Visit(func(f *flag.Flag) { cfg.olderThanOK = cfg.olderThanOK || f.Name == "older-than" })
	if err := cfg.Check(fs.Args()); err != nil {
		return nil, nil, err
	}
	explicitDryRun := false
	fs.Visit(func(f *flag.Flag) { explicitDryRun = explicitDryRun || f.Name == "dry-run" })
	var err error
	switch {
	case cfg.apply && explicitDryRun && dryRun:
		err = cli.Usagef("-apply and -dry-run contradict each other; give one")
	case cfg.fromPlan == "" && cfg.olderThan <= 0:
		err = cli.Usagef("-older-than is required and must be positive, e.g. -older-than 720h")
	case cfg.olderThanOK && cfg.olderThan <= 0:
		err = cli.Usagef("-older-than must be positive, e.g. -older-than 720h")
	case math.IsNaN(cfg.rate) || math.IsInf(cfg.rate, 0) || cfg.rate < 0:
		err = cli.Usagef("-rate must be 0 (no limit) or a positive number of removals per second")
	case cfg.progress <= 0 || cfg.retryWait <= 0:
		err = cli.Usagef("-progress and -retry-wait must be positive")
	case cfg.planFile != "" && cfg.apply:
		err = cli.Usagef("-plan writes a dry run's matches; run without -apply, then -apply -from-plan %s", cfg.planFile)
	case cfg.fromPlan != "" && !cfg.apply:
		err = cli.Usagef("-from-plan removes the plan's bindings: add -apply")
	case cfg.fromPlan != "" && (len(fs.Args()) > 0 || cfg.File != "" || cfg.AllUsers):
		err = cli.Usagef("-from-plan lists nothing: name no users and no -file or -all-users with it")
	case (cfg.stateFile != "" || cfg.auditFile != "") && !cfg.apply:
		err = cli.Usagef("-state and -audit record removals: use them with -apply")
	case cfg.stateFile != "" && cfg.stateFile == cfg.auditFile:
		err = cli.Usagef("-state and -audit must be different files")
	}
	return &cfg, fs.Args(), err
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, names, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "cleanup-stale-bindings:", err)
		return 2
	}
	if cfg.apply && cfg.rate > serviceBudget {
		fmt.Fprintf(stderr, "warning: -rate %g exceeds the service's whole write budget of %d a second, which the live application shares\n", cfg.rate, serviceBudget)
	}
	opts := append(cli.ClientOptions(cfg.BaseURL, "cleanup-stale-bindings"),
		client.WithMaxRetries(6),
		client.WithRetryWait(cfg.retryWait, 50*cfg.retryWait),
		client.WithRetryAfterLimit(2*time.Minute),
	)
	if cfg.rate > 0 {
		opts = append(opts, client.WithRateLimit(client.RateLimit{PerSecond: cfg.rate, Adaptive: true, WritesOnly: true}))
	}
	env, err := cli.Connect(stderr, cfg.Service, cfg.Concurrency, cli.SeedUsers(12, 120), opts...)
	if err != nil {
		fmt.Fprintln(stderr, "cleanup-stale-bindings:", err)
		return 2
	}
	defer env.Close()

	c := newCleaner(cfg, env, stdout, stderr)
	defer c.close()
	if err := c.open(names, stdin); err != nil {
		fmt.Fprintln(stderr, "cleanup-stale-bindings:", err)
		var ue *cli.UsageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	stopProgress := startProgress(c, stderr, cli.IsTerminal(stderr), cfg.progress)
	c.run(ctx)
	stopProgress()
	c.summary(stdout, ctx.Err() != nil)
	switch {
	case ctx.Err() != nil:
		return 130
	case c.failures() > 0:
		return 1
	}
	return 0
}
