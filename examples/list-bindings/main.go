// Command list-bindings prints the push bindings of users of a Chat
// service, as an aligned table or as JSON lines, streaming.
//
//	list-bindings -service IS… alice bob          # users as arguments
//	list-bindings -service IS… -file users.txt    # one per line ("-" for stdin)
//	list-bindings -service IS… -type apn,fcm -json < users.txt
//	list-bindings -service IS… -all-users         # every binding of the service
//
// Users are US… SIDs or identities, listed -concurrency at a time; each
// user's bindings are printed together. With -all-users the service-wide
// Binding resource is walked instead, one request per page of bindings. With
// TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY,
// TWILIO_API_SECRET and TWILIO_ACCOUNT_SID) set it reads the real API;
// with none of them set, an in-process emulator with demo data, and says so
// on stderr. A count summary goes to stderr at the end.
//
// Exit status: 0 when every user was listed, 1 when some user could not
// be (or stdout could not be written), 2 on bad usage, 130 when interrupted
// by SIGINT (Ctrl-C), 143 by SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

func main() {
	ctx, stop := cli.WithSignals(context.Background(), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	cli.Flags
	jsonOut   bool
	endpoints bool
}

func parse(args []string, stderr io.Writer) (*config, []string, error) {
	var cfg config
	fs := flag.NewFlagSet("list-bindings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs, "users listed at once")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print JSON lines instead of a table")
	fs.BoolVar(&cfg.endpoints, "endpoints", false, "include device endpoints (personal data) in the output, the table's and the JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: list-bindings [flags] [user …]")
		fmt.Fprintln(stderr, "       list-bindings [flags] -all-users")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "exit status: 0 all listed, 1 some user could not be listed or stdout not written, 2 bad usage, 130 SIGINT, 143 SIGTERM")
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return &cfg, fs.Args(), cfg.Check(fs.Args())
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, names, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "list-bindings:", err)
		return 2
	}
	if cfg.Version {
		if cli.PrintVersion(stdout, "list-bindings") != nil {
			return 1
		}
		return 0
	}
	env, err := cfg.Connect(stderr, "list-bindings", cli.SeedUsers(12, 120))
	if err != nil {
		fmt.Fprintln(stderr, "list-bindings:", err)
		return 2
	}
	defer env.Close()

	p := newPrinter(stdout, cfg)
	l := &lister{cfg: cfg, svc: env.API.Services(env.ServiceSID), p: p, stderr: stderr}
	if cfg.AllUsers {
		l.all(ctx)
	} else {
		users, err := cli.OpenUsers(names, cfg.File, stdin, env.DemoUsers)
		if err != nil {
			fmt.Fprintln(stderr, "list-bindings:", err)
			return 2
		}
		defer users.Close()
		cli.EachUser(ctx, users.Indexed(), cfg.Concurrency, l.user)
		if err := users.Err(); err != nil {
			fmt.Fprintln(stderr, "list-bindings: reading users:", err)
			l.failed.Add(1)
		}
	}
	werr := p.flush()
	fmt.Fprintln(stderr, l.summary(ctx.Err() != nil))
	switch {
	case werr != nil:
		fmt.Fprintln(stderr, "list-bindings: writing to stdout:", werr, "(the listing is incomplete)")
		return 1
	case ctx.Err() != nil:
		return cli.InterruptedBy(ctx).ExitCode()
	case l.failed.Load() > 0:
		return 1
	}
	return 0
}

// lister lists users concurrently, or the whole service, into a printer.
type lister struct {
	cfg    *config
	svc    chat.ServiceHandle
	p      *printer
	stderr io.Writer
	seen   cli.Seen

	listed, failed, interrupted atomic.Int64
	counts                      sync.Map // chat.BindingType -> *atomic.Int64
	total                       atomic.Int64
}

// userBuffer is how many bindings of a user are gathered before printing
// starts: a user with more is printed while it is listed, holding the
// output for itself, so that memory stays bounded whatever a user has.
const userBuffer = 1000

// user lists one user's bindings and prints them together: gathered up to
// userBuffer, then (for a user with more) printed while listing, holding
// the printer.
func (l *lister) user(ctx context.Context, _ int, user string) {
	params := &chat.UserBindingListParams{BindingType: l.cfg.Types, PageSize: l.cfg.PageSize}
	var held []*chat.UserBinding
	holding := false
	hold := func() {
		if !holding {
			l.p.mu.Lock()
			holding = true
		}
		for _, h := range held {
			l.p.userBindingLocked(user, h)
		}
		held = held[:0]
	}
	defer func() {
		if holding {
			l.p.mu.Unlock()
		}
	}()
	for b, err := range l.svc.Users(user).UserBindings.List(ctx, params) {
		switch {
		case err != nil && ctx.Err() != nil:
			l.interrupted.Add(1) // not finished: what was gathered is not printed
			return
		case err != nil:
			l.failed.Add(1)
			hold()
			l.p.flushLocked()
			fmt.Fprintf(l.stderr, "list-bindings: user %q could not be listed: %v\n", user, err)
			return
		case !l.seen.Add(b.SID):
			continue // a user named twice: its bindings were printed once
		}
		l.count(b.BindingType)
		if held = append(held, b); holding || len(held) == userBuffer {
			hold()
		}
	}
	if len(held) > 0 {
		hold()
	}
	l.listed.Add(1)
}

// all walks every binding of the service, a page at a time, fetching the
// next page while printing this one.
func (l *lister) all(ctx context.Context) {
	params := &chat.BindingListParams{BindingType: l.cfg.Types, PageSize: l.cfg.PageSize, Prefetch: true}
	for b, err := range l.svc.Bindings.List(ctx, params) {
		if err != nil {
			if ctx.Err() == nil {
				l.failed.Add(1)
				fmt.Fprintf(l.stderr, "list-bindings: the service's bindings could not be listed: %v\n", err)
			}
			return
		}
		l.count(b.BindingType)
		l.p.mu.Lock()
		l.p.bindingLocked(b)
		l.p.mu.Unlock()
	}
}

func (l *lister) count(t chat.BindingType) {
	l.total.Add(1)
	n, _ := l.counts.LoadOrStore(t, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (l *lister) summary(interrupted bool) string {
	var parts []string
	get := func(t chat.BindingType) int64 {
		if n, ok := l.counts.Load(t); ok {
			return n.(*atomic.Int64).Load()
		}
		return 0
	}
	known := []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}
	for _, t := range known {
		parts = append(parts, fmt.Sprintf("%s %d", t, get(t)))
	}
	l.counts.Range(func(k, v any) bool {
		if t := k.(chat.BindingType); !t.Known() {
			parts = append(parts, fmt.Sprintf("%s %d", cli.Printable(string(t)), v.(*atomic.Int64).Load()))
		}
		return true
	})
	var s string
	if l.cfg.AllUsers {
		s = fmt.Sprintf("%d binding(s) in the service: %s", l.total.Load(), strings.Join(parts, ", "))
	} else {
		s = fmt.Sprintf("%d binding(s) for %d user(s): %s", l.total.Load(), l.listed.Load(), strings.Join(parts, ", "))
	}
	if n := l.failed.Load(); n > 0 {
		s += fmt.Sprintf("; %d user(s) could not be listed", n)
	}
	if interrupted {
		s += "; interrupted: the listing stopped"
		if !l.cfg.AllUsers {
			s += fmt.Sprintf(" with %d user(s) begun and not finished, and the rest not begun", l.interrupted.Load())
		}
	}
	return s
}
