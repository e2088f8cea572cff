package cli

import (
	"flag"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// Flags are the flags every tool shares: where to connect, whose bindings,
// which types.
type Flags struct {
	Service  string
	Types    []chat.BindingType
	File     string
	PageSize int
	BaseURL  string

	types string
}

// Register declares the shared flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Service, "service", "", "Chat service SID (IS…); required with real credentials")
	fs.StringVar(&f.types, "type", "", "only these binding types, comma-separated: apn,gcm,fcm")
	fs.StringVar(&f.File, "file", "", `read users from this file, one per line ("-" for stdin)`)
	fs.IntVar(&f.PageSize, "page-size", chat.AutoPageSize, "bindings per list request, 1 to 1000 (the current API description allows at most 50)")
	fs.StringVar(&f.BaseURL, "base-url", "", "send requests here instead of https://chat.twilio.com (a proxy or an emulator)")
}

// Parsed checks the shared flags after fs.Parse.
func (f *Flags) Parsed() error {
	var err error
	f.Types, err = ParseTypes(f.types)
	return err
}
