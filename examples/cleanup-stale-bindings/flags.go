package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/cli"
)

type config struct {
	cli.Flags
	olderThan                                time.Duration
	olderThanSet, apply, jsonOut             bool
	rate                                     float64
	progress                                 time.Duration // between progress lines when stderr is not a terminal
	retryWait                                time.Duration // shortest backoff
	noProgress                               time.Duration // 0: never give up
	stateFile, auditFile, planFile, fromPlan string
}

// age is -older-than: a Go duration (720h), or whole days first (30d,
// 1d12h), as operators think in days.
type age struct{ d *time.Duration }

func (a age) String() string {
	if a.d == nil {
		return ""
	}
	return a.d.String()
}

func (a age) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*a.d = d
	return nil
}

// maxDays keeps a number of days within a time.Duration (292 years).
const maxDays = 100_000

func parseAge(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d") // no Go duration unit holds a d
	if !ok {
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseUint(days, 10, 32)
	if err != nil || n > maxDays {
		return 0, fmt.Errorf("%q: give whole days then, optionally, a duration: 30d, 1d12h, or 720h", s)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("%q: after the days, a positive duration such as 12h: 30d, 1d12h, or 720h", s)
		}
		d += r
	}
	return d, nil
}

func parse(args []string, stderr io.Writer) (*config, []string, error) {
	cfg := config{}
	dryRun := true
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs, "users listed at once, and removals at once")
	fs.Var(age{&cfg.olderThan}, "older-than", "remove bindings whose date_updated is older than this: 720h, 30d or 1d12h (required, except with -from-plan)")
	fs.BoolVar(&dryRun, "dry-run", true, "print what would be removed and remove nothing; -apply turns it off")
	fs.BoolVar(&cfg.apply, "apply", false, "remove the matching bindings")
	fs.Float64Var(&cfg.rate, "rate", 10, "removals per second at most, adapting down on 429s; the service's whole write budget is 30, shared with the live app; 0 for no limit (emulators, proxies)")
	fs.DurationVar(&cfg.progress, "progress", 5*time.Second, "interval between progress lines when stderr is not a terminal")
	fs.DurationVar(&cfg.retryWait, "retry-wait", 100*time.Millisecond, "shortest wait before retrying; waits grow from it")
	fs.DurationVar(&cfg.noProgress, "no-progress", 5*time.Minute, "end the run, saving its state, when nothing moves for this long (an API answering 429 or 5xx to everything); 0 never")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print one JSON object per outcome, and a last one with the summary, instead of lines of text")
	fs.StringVar(&cfg.stateFile, "state", "", "keep the run's journal in this file, and resume from it: a killed run started again with the same flags does nothing twice")
	fs.StringVar(&cfg.auditFile, "audit", "", "append one JSON line per removal outcome to this file")
	fs.StringVar(&cfg.planFile, "plan", "", "with a dry run, write the matching bindings to this new file as JSON lines")
	fs.StringVar(&cfg.fromPlan, "from-plan", "", "with -apply, remove exactly the bindings of this plan (each re-checked first) and list nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: cleanup-stale-bindings -older-than AGE [-apply] [flags] [user …]")
		fmt.Fprintln(stderr, "       cleanup-stale-bindings -older-than AGE [-apply] [flags] -all-users")
		fmt.Fprintln(stderr, "       cleanup-stale-bindings -apply -from-plan FILE [flags]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "exit status: 0 nothing failed; 1 some removal or listing failed, a file or stdout could not be written, no progress,")
		fmt.Fprintln(stderr, "or a users line too long; 2 bad usage (nothing was sent); 130 interrupted by SIGINT, 143 by SIGTERM")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.olderThanSet = set["older-than"]
	if cfg.Version {
		return &cfg, nil, nil
	}
	if err := cfg.Check(fs.Args()); err != nil {
		return nil, nil, err
	}
	var err error
	switch {
	case cfg.apply && set["dry-run"] && dryRun:
		err = cli.Usagef("-apply and -dry-run contradict each other; give one")
	case !cfg.apply && set["dry-run"] && !dryRun:
		err = cli.Usagef("-dry-run=false removes nothing by itself: give -apply to remove")
	case cfg.fromPlan == "" && cfg.olderThan <= 0:
		err = cli.Usagef("-older-than is required and must be positive, e.g. -older-than 30d")
	case cfg.olderThanSet && cfg.olderThan <= 0:
		err = cli.Usagef("-older-than must be positive, e.g. -older-than 30d")
	case math.IsNaN(cfg.rate) || math.IsInf(cfg.rate, 0) || cfg.rate < 0:
		err = cli.Usagef("-rate must be 0 (no limit) or a positive number of removals per second")
	case cfg.progress <= 0 || cfg.retryWait <= 0:
		err = cli.Usagef("-progress and -retry-wait must be positive")
	case cfg.noProgress < 0:
		err = cli.Usagef("-no-progress must be 0 (never) or positive, such as 5m")
	case cfg.planFile != "" && cfg.apply:
		err = cli.Usagef("-plan writes a dry run's matches; run without -apply, then -apply -from-plan %s", cfg.planFile)
	case cfg.fromPlan != "" && !cfg.apply:
		err = cli.Usagef("-from-plan removes the plan's bindings: add -apply")
	case cfg.fromPlan != "" && (len(fs.Args()) > 0 || cfg.File != "" || cfg.AllUsers):
		err = cli.Usagef("-from-plan lists nothing: name no users and no -file or -all-users with it")
	case (cfg.stateFile != "" || cfg.auditFile != "") && !cfg.apply:
		err = cli.Usagef("-state and -audit record removals: use them with -apply")
	default:
		err = distinctFiles(map[string]string{"-state": cfg.stateFile, "-audit": cfg.auditFile, "-plan": cfg.planFile, "-from-plan": cfg.fromPlan, "-file": cfg.File})
	}
	return &cfg, fs.Args(), err
}

// distinctFiles refuses two flags naming one file, by one path or two (a
// link, another spelling): a journal rewritten over the users, or an audit
// appended to the plan being read, loses both.
func distinctFiles(files map[string]string) error {
	names := []string{"-file", "-from-plan", "-plan", "-state", "-audit"}
	for i, a := range names {
		for _, b := range names[i+1:] {
			pa, pb := files[a], files[b]
			if pa == "" || pb == "" || pa == "-" || pb == "-" {
				continue
			}
			if sameFile(pa, pb) {
				return cli.Usagef("%s %s and %s %s are the same file: give each its own", a, pa, b, pb)
			}
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	aa, errA := filepath.Abs(a)
	ab, errB := filepath.Abs(b)
	if errA == nil && errB == nil && aa == ab {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
