// Command list-bindings prints the push bindings of one or more users of a
// Chat service, as an aligned table or as JSON lines, streaming: a user with
// 100,000 bindings prints in constant memory.
//
//	list-bindings -service IS… alice bob          # users as arguments
//	list-bindings -service IS… -file users.txt    # one per line ("-" for stdin)
//	list-bindings -service IS… -type apn,fcm -json < users.txt
//
// Users are US… SIDs or identities. With TWILIO_ACCOUNT_SID and
// TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) set it reads
// the real API; otherwise an in-process emulator with demo data, and says
// so on stderr. A count summary goes to stderr at the end. It exits 1 if any
// user could not be listed, 2 on bad usage.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
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
	jsonOut   bool
	endpoints bool
}

func parse(args []string, stderr io.Writer) (*config, []string, error) {
	var cfg config
	fs := flag.NewFlagSet("list-bindings", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Register(fs)
	fs.BoolVar(&cfg.jsonOut, "json", false, "print JSON lines instead of a table")
	fs.BoolVar(&cfg.endpoints, "endpoints", false, "include device endpoints (personal data) in the output")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: list-bindings [flags] [user …]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := cfg.Parsed(); err != nil {
		return nil, nil, err
	}
	return &cfg, fs.Args(), nil
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, users, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "list-bindings:", err)
		}
		return 2
	}
	env, err := cli.Connect(stderr, cfg.Service, cli.SeedUsers(12, 120), cli.ClientOptions(cfg.BaseURL, "list-bindings")...)
	if err != nil {
		fmt.Fprintln(stderr, "list-bindings:", err)
		return 2
	}
	defer env.Close()
	users, err = cli.Users(users, cfg.File, stdin, env.Users)
	if err != nil {
		fmt.Fprintln(stderr, "list-bindings:", err)
		return 2
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	p := printer{w: out, cfg: cfg, enc: json.NewEncoder(out)}
	if !cfg.jsonOut {
		p.header()
	}
	params := &chat.UserBindingListParams{BindingType: cfg.Types, PageSize: cfg.PageSize}
	counts := map[chat.BindingType]int{}
	total, failed := 0, 0
	for _, user := range users {
		for b, err := range env.API.Services(env.ServiceSID).Users(user).UserBindings.List(ctx, params) {
			if err != nil {
				out.Flush()
				fmt.Fprintf(stderr, "list-bindings: user %q: %v\n", user, err)
				failed++
				break
			}
			p.binding(user, b)
			counts[b.BindingType]++
			total++
		}
	}
	out.Flush()
	fmt.Fprintf(stderr, "%d binding(s) for %d user(s): %s", total, len(users), summary(counts))
	if failed > 0 {
		fmt.Fprintf(stderr, "; %d user(s) could not be listed", failed)
	}
	fmt.Fprintln(stderr)
	if failed > 0 || ctx.Err() != nil {
		return 1
	}
	return 0
}

func summary(counts map[chat.BindingType]int) string {
	var parts []string
	for _, t := range []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM} {
		parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
		delete(counts, t)
	}
	for t, n := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", t, n))
	}
	return strings.Join(parts, ", ")
}

// printer writes one line per binding. The table has fixed-width columns,
// so it stays aligned while streaming; the user's identity, the only
// column of unbounded width, comes last.
type printer struct {
	w   *bufio.Writer
	cfg *config
	enc *json.Encoder
}

const row = "%-34s  %-4s  %-20s  %-20s  %s\n"

func (p *printer) header() {
	fmt.Fprintf(p.w, row, "BINDING", "TYPE", "UPDATED", "CREATED", "USER")
}

type jsonBinding struct {
	SID           chat.BindingSID    `json:"sid"`
	User          string             `json:"user"`
	UserSID       chat.UserSID       `json:"user_sid"`
	Identity      string             `json:"identity"`
	BindingType   chat.BindingType   `json:"binding_type"`
	DateCreated   time.Time          `json:"date_created"`
	DateUpdated   time.Time          `json:"date_updated"`
	CredentialSID chat.CredentialSID `json:"credential_sid,omitempty"`
	MessageTypes  []string           `json:"message_types"`
	Endpoint      string             `json:"endpoint,omitempty"`
}

func (p *printer) binding(user string, b *chat.UserBinding) {
	if !p.cfg.jsonOut {
		fmt.Fprintf(p.w, row, b.SID, b.BindingType, b.DateUpdated.Format(time.RFC3339), b.DateCreated.Format(time.RFC3339), b.Identity)
		return
	}
	jb := jsonBinding{
		SID: b.SID, User: user, UserSID: b.UserSID, Identity: b.Identity, BindingType: b.BindingType,
		DateCreated: b.DateCreated, DateUpdated: b.DateUpdated, CredentialSID: b.CredentialSID, MessageTypes: b.MessageTypes,
	}
	if p.cfg.endpoints {
		jb.Endpoint = b.Endpoint
	}
	_ = p.enc.Encode(jb)
}
