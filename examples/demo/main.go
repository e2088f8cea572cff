// Command demo walks through the User Binding API: list a user's bindings,
// filter them by type, fetch one, remove some, and list what is left.
//
// With no TWILIO_* credentials it runs against an in-process emulator with
// demo data, so it works on a fresh machine with no account and no network:
//
//	go run ./examples/demo
//
// With TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set it reads a real user's
// bindings; it removes one only when told which with -remove:
//
//	go run ./examples/demo -service IS… -user alice [-remove BS…]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

func main() {
	os.Exit(demo(os.Args[1:], os.Stdout, os.Stderr))
}

// demo runs the demo as the command line asks and returns its exit status:
// 0 done (or -h), 1 failed or stdout could not be written, 2 bad usage.
func demo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	service := fs.String("service", "", "Chat service SID (IS…); needed with real credentials")
	user := fs.String("user", "", "user SID (US…) or identity; needed with real credentials")
	remove := fs.String("remove", "", "with real credentials, the binding SID (BS…) to remove")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: demo [-service IS… -user ID [-remove BS…]]")
		fmt.Fprintln(stderr, "With no TWILIO_* credentials set, the demo runs against an in-process emulator with demo data.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the problem and the usage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: takes no arguments, got %q; name the user with -user\n", fs.Args())
		fs.Usage()
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out := &stickyWriter{w: stdout}
	err := run(ctx, out, *service, *user, *remove)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
	}
	if out.err != nil {
		fmt.Fprintln(stderr, "demo: writing to stdout:", out.err, "(the output is incomplete)")
	}
	if err != nil || out.err != nil {
		return 1
	}
	return 0
}

// stickyWriter keeps the first error writing to w, which fmt's printing
// functions drop, and writes nothing after it: a demo whose output was
// lost must not exit 0.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	s.err = err
	return n, err
}

func run(ctx context.Context, w io.Writer, service, user, remove string) error {
	env, err := cli.Connect(os.Stderr, service, 4, cli.SeedSmall)
	if err != nil {
		return err
	}
	defer env.Close()
	emulated := env.Emulator != nil
	if emulated {
		user = env.DemoUsers[0]
	} else if user == "" {
		return fmt.Errorf("name the user with -user (a US… SID or the identity)")
	}
	bindings := env.API.Services(env.ServiceSID).Users(user).UserBindings

	step(w, 1, "All bindings of %q (pages of 4, followed transparently)", user)
	all, err := show(ctx, w, bindings, &chat.UserBindingListParams{PageSize: 4})
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintln(w, "   (this user has no bindings)")
		return nil
	}

	step(w, 2, "Only APN and FCM bindings (BindingType=apn&BindingType=fcm)")
	if _, err := show(ctx, w, bindings, &chat.UserBindingListParams{BindingType: []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeFCM}}); err != nil {
		return err
	}

	step(w, 3, "Fetch %s", all[0].SID)
	b, err := bindings(string(all[0].SID)).Fetch(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   type %s, identity %q, user %s\n   created %s, updated %s\n   message types %v\n   url %s\n",
		b.BindingType, b.Identity, b.UserSID, b.DateCreated.Format(time.RFC3339), b.DateUpdated.Format(time.RFC3339), b.MessageTypes, b.URL)
	printed := fmt.Sprintf("%+v", b)
	if i := strings.Index(printed, "Endpoint:"); i >= 0 {
		fmt.Fprintf(w, "   printed with %%+v: …%s…\n", printed[i:i+len("Endpoint:[redacted]")])
	}
	fmt.Fprintf(w, "   (the endpoint is personal data: fmt and slog show [redacted]; b.Endpoint holds %d characters)\n", len(b.Endpoint))

	var doomed []string
	switch {
	case emulated:
		for _, b := range all {
			if b.BindingType == chat.BindingTypeGCM {
				doomed = append(doomed, string(b.SID))
			}
		}
		step(w, 4, "Remove the %d GCM bindings (GCM is retired in favour of FCM)", len(doomed))
	case remove != "":
		doomed = []string{remove}
		step(w, 4, "Remove %s", remove)
	default:
		step(w, 4, "Remove: skipped against the real API (pass -remove BS… to remove one)")
	}
	for _, sid := range doomed {
		if err := bindings(sid).Remove(ctx, chat.AcceptRetriedNotFound()); err != nil {
			return err
		}
		fmt.Fprintf(w, "   removed %s\n", sid)
	}

	step(w, 5, "What is left")
	_, err = show(ctx, w, bindings, nil)
	return err
}

func step(w io.Writer, n int, format string, args ...any) {
	fmt.Fprintf(w, "\n%d. %s\n", n, fmt.Sprintf(format, args...))
}

// show prints bindings as a table and returns them.
func show(ctx context.Context, w io.Writer, bindings chat.UserBindings, params *chat.UserBindingListParams) ([]*chat.UserBinding, error) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   SID\tTYPE\tUPDATED\tMESSAGE TYPES")
	var out []*chat.UserBinding
	for b, err := range bindings.List(ctx, params) {
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\n", b.SID, b.BindingType, b.DateUpdated.Format(time.DateOnly), strings.Join(b.MessageTypes, ","))
	}
	tw.Flush()
	fmt.Fprintf(w, "   %d binding(s)\n", len(out))
	return out, nil
}
