package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// Flags are the flags both tools share: where to connect, whose bindings,
// which types, how many requests at once, -version and -v.
type Flags struct {
	Service     string
	Types       []chat.BindingType
	File        string
	PageSize    int
	BaseURL     string
	Concurrency int
	AllUsers    bool
	Version     bool // print the tool's name and version, and exit
	Verbose     bool // the client's log on stderr

	types string
}

// Register declares the shared flags on fs; concurrency says what
// -concurrency bounds in the tool.
func (f *Flags) Register(fs *flag.FlagSet, concurrency string) {
	fs.StringVar(&f.Service, "service", "", "Chat service SID (IS…); required with real credentials")
	fs.StringVar(&f.types, "type", "", "only these binding types, comma-separated: apn,gcm,fcm")
	fs.StringVar(&f.File, "file", "", `read users from this file, one per line ("-" for stdin)`)
	fs.IntVar(&f.PageSize, "page-size", chat.AutoPageSize, "bindings per list request, 1 to 1000 (the current API description allows at most 50)")
	fs.StringVar(&f.BaseURL, "base-url", "", "send requests here instead of https://chat.twilio.com (a proxy or an emulator); needs real credentials")
	fs.IntVar(&f.Concurrency, "concurrency", 8, "requests in flight at once, 1 to 64: "+concurrency)
	fs.BoolVar(&f.AllUsers, "all-users", false, "walk every binding of the service (one request per page of bindings) instead of listing named users")
	fs.BoolVar(&f.Version, "version", false, "print the tool's name and version, and exit")
	fs.BoolVar(&f.Verbose, "v", false, "log every request (debug) and retry (info) of the client to stderr")
}

// Check validates the shared flags after fs.Parse, with the users named
// as arguments.
func (f *Flags) Check(args []string) error {
	var err error
	if f.Types, err = ParseTypes(f.types); err != nil {
		return err
	}
	switch {
	case f.Service != "" && !sid.Valid(sid.Service, f.Service):
		return Usagef("-service must be IS followed by 32 hex digits, got %q", f.Service)
	case f.PageSize < 1 || f.PageSize > chat.MaxPageSize:
		return Usagef("-page-size must be between 1 and %d, got %d", chat.MaxPageSize, f.PageSize)
	case f.Concurrency < 1 || f.Concurrency > 64:
		return Usagef("-concurrency must be between 1 and 64, got %d", f.Concurrency)
	case len(args) > 0 && f.File != "":
		return Usagef("users given both as arguments and with -file %s: give one", strconv.Quote(f.File))
	case f.AllUsers && (len(args) > 0 || f.File != ""):
		return Usagef("-all-users walks every user of the service: name no users with it")
	}
	return nil
}

// PrintVersion prints the tool's name and the library's version.
func PrintVersion(w io.Writer, tool string) error {
	_, err := fmt.Fprintf(w, "%s %s\n", tool, client.Version)
	return err
}
