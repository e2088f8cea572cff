// Command cleanup-stale-bindings removes push bindings that have not been
// updated for a while, from named users of a Chat service or from the whole
// service: flags, printing and exit statuses over the package
// chat/v2/cleanup, which does the work. Its manual is README.md beside it.
//
//	cleanup-stale-bindings -service IS… -older-than 30d alice bob              # dry run: prints what would go
//	cleanup-stale-bindings -service IS… -older-than 30d -apply -file users.txt -state run.state
//	cleanup-stale-bindings -service IS… -older-than 30d -all-users -plan plan.jsonl
//	cleanup-stale-bindings -service IS… -apply -from-plan plan.jsonl -audit audit.jsonl
//
// Exit status: 0 when nothing failed; 1 when some removal or listing
// failed, a file or stdout could not be written, nothing moved for
// -no-progress, or a users line was too long; 2 on bad usage, before
// anything was sent; 130 when interrupted by SIGINT, 143 by SIGTERM. With
// no TWILIO_* credentials set it runs against an in-process emulator with
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
	"syscall"
	"time"

	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

const tool = "cleanup-stale-bindings"

func main() {
	signal.Ignore(syscall.SIGPIPE) // a closed stdout is a write error that stops the run, not a death
	ctx, stop := cli.WithSignals(context.Background(), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// serviceBudget is the service's write budget on the live API: 30 actions
// a second, shared with everything else the application writes.
const serviceBudget = 30

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, names, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, tool+":", err)
		return 2
	}
	if cfg.Version {
		if err := cli.PrintVersion(stdout, tool); err != nil {
			fmt.Fprintln(stderr, tool+": writing to stdout:", err)
			return 1
		}
		return 0
	}
	if cfg.apply && cfg.rate > serviceBudget {
		fmt.Fprintf(stderr, "warning: -rate %g exceeds the service's whole write budget of %d a second, which the live application shares\n", cfg.rate, serviceBudget)
	}
	opts := []client.Option{client.WithMaxRetries(6), client.WithRetryWait(cfg.retryWait, 50*cfg.retryWait), client.WithRetryAfterLimit(2 * time.Minute)}
	if cfg.rate > 0 {
		opts = append(opts, client.WithRateLimit(client.RateLimit{PerSecond: cfg.rate, Adaptive: true, WritesOnly: true}))
	}
	env, err := cfg.Connect(stderr, tool, cli.SeedUsers(12, 120), opts...)
	if err != nil {
		fmt.Fprintln(stderr, tool+":", err)
		return 2
	}
	defer env.Close()
	r := &runner{cfg: cfg, env: env, stderr: stderr}
	return r.run(ctx, names, stdin, stdout)
}

// runner is one run of the tool: the job, its files and its output.
type runner struct {
	cfg    *config
	env    *cli.Env
	stderr io.Writer
	out    *printer
	plan   *newPlan
	audit  io.WriteCloser
}

func (r *runner) run(parent context.Context, names []string, stdin io.Reader, stdout io.Writer) int {
	ctx, stop := context.WithCancelCause(parent)
	defer stop(nil)
	cfg := r.cfg
	r.out = &printer{w: stdout, json: cfg.jsonOut, plan: cfg.fromPlan != "", failed: stop}
	var plan *cleanup.Plan
	var users *cli.Users
	var err error
	switch {
	case cfg.fromPlan != "":
		var closer io.Closer
		if plan, closer, err = openPlan(cfg, r.stderr); err == nil {
			defer closer.Close()
		}
	case !cfg.AllUsers:
		if users, err = cli.OpenUsers(names, cfg.File, stdin, r.env.DemoUsers); err == nil {
			defer users.Close()
		}
	}
	if err == nil && cfg.planFile != "" {
		r.plan, err = createPlan(cfg.planFile)
	}
	if err == nil && cfg.auditFile != "" {
		r.audit, err = openAudit(cfg.auditFile)
	}
	if err != nil {
		return r.refused(err)
	}
	opts := cleanup.Options{OlderThan: cfg.olderThan, Types: cfg.Types, Apply: cfg.apply, Concurrency: cfg.Concurrency, PageSize: cfg.PageSize,
		OnOutcome: r.out.outcome, Journal: cfg.stateFile, NoProgress: cfg.noProgress}
	if cfg.noProgress == 0 {
		opts.NoProgress = -1 // never
	}
	if r.plan != nil {
		opts.Plan = r.plan.tmp
	}
	if r.audit != nil {
		opts.Audit = r.audit
	}
	job, err := cleanup.New(r.env.API.Services(r.env.ServiceSID), opts)
	if err != nil {
		return r.refused(err)
	}
	stopProgress := startProgress(job, r.env.Client, r.stderr, cli.IsTerminal(r.stderr), cfg.progress)
	var report cleanup.Report
	switch {
	case plan != nil:
		report, err = job.ApplyPlan(ctx, plan)
	case cfg.AllUsers:
		report, err = job.Service(ctx)
	default:
		report, err = job.Users(ctx, users.All()) // the users before a line it cannot read are done
		if uerr := users.Err(); uerr != nil {
			err = errors.Join(&stopped{uerr}, err)
		}
	}
	stopProgress()
	return r.finish(parent, report, err)
}

// refused reports a run refused before anything was sent: exit 2.
func (r *runner) refused(err error) int {
	if r.plan != nil {
		_ = r.plan.finish(false)
	}
	if r.audit != nil {
		r.audit.Close()
	}
	fmt.Fprintln(r.stderr, tool+":", err)
	return 2
}

// finish closes the run's files, prints the summary and why the run
// stopped, and returns the exit status.
func (r *runner) finish(parent context.Context, report cleanup.Report, err error) int {
	var we *cleanup.WriteError
	planWhole := !errors.As(err, &we) || we.What != "plan"
	var fileErrs []error
	if r.plan != nil {
		if perr := r.plan.finish(planWhole); perr != nil {
			fileErrs, planWhole = append(fileErrs, perr), false
		}
	}
	if r.audit != nil {
		if cerr := r.audit.Close(); cerr != nil {
			fileErrs = append(fileErrs, fmt.Errorf("-audit %s: %w", r.cfg.auditFile, cerr))
		}
	}
	var in *cli.Interrupted
	if !errors.As(err, &in) && errors.Is(err, context.Canceled) {
		in = cli.InterruptedBy(parent)
	}
	code := r.exitCode(err, in, errors.Join(fileErrs...))
	if code == 2 {
		fmt.Fprintln(r.stderr, tool+":", err)
		return 2
	}
	signal, planned := "", ""
	if in != nil && code == in.ExitCode() {
		signal = in.Name()
	}
	if r.plan != nil && planWhole {
		planned = r.plan.path
	}
	r.out.summary(report, !r.cfg.apply, signal, planned, code, errors.Join(append([]error{err}, fileErrs...)...))
	if report.Skipped > 0 {
		fmt.Fprintf(r.stderr, "Resumed: %d users or plan lines that an earlier run of -state %s finished were skipped.\n", report.Skipped, r.cfg.stateFile)
	}
	if errors.Is(err, cleanup.ErrNoProgress) {
		saved := ""
		if r.cfg.stateFile != "" {
			saved = fmt.Sprintf(", and its journal is saved in -state %s: run it again with the same flags to go on", r.cfg.stateFile)
		}
		fmt.Fprintf(r.stderr, "%s: nothing moved for %v (-no-progress); the run stopped%s.\n", tool, r.cfg.noProgress, saved)
	} else if err != nil && !errors.Is(err, cleanup.ErrFailed) && signal == "" {
		fmt.Fprintln(r.stderr, tool+":", err)
	}
	for _, e := range fileErrs {
		fmt.Fprintln(r.stderr, tool+":", e)
	}
	if r.out.err != nil && !errors.Is(err, r.out.err) { // the summary could not be written
		fmt.Fprintln(r.stderr, tool+":", r.out.err)
		code = max(code, 1)
	}
	return code
}

// exitCode is the status of a run that ended with err, interrupted by in
// (or not), whose files ended with fileErr.
func (r *runner) exitCode(err error, in *cli.Interrupted, fileErr error) int {
	switch {
	case err == nil && fileErr == nil:
		return 0
	case fileErr != nil || errors.Is(err, cleanup.ErrNoProgress):
		return 1
	case errors.Is(err, cleanup.ErrRefused) || r.env.Client.Stats().Attempts == 0 && in == nil:
		return 2 // refused before anything was removed: a journal or plan of another job or edited, a file it cannot create or read
	case in == nil || errors.As(err, new(*stopped)) || errors.As(err, new(*cleanup.WriteError)):
		return 1
	}
	return in.ExitCode()
}
