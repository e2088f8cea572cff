package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// printer writes one line per binding, as a table or JSON lines. The table
// has fixed-width columns, so it stays aligned while streaming; the user's
// identity, the only column of unbounded width, comes last, escaped when it
// holds anything that does not print as itself.
type printer struct {
	mu  sync.Mutex // held by whoever prints; see lister.user
	w   *bufio.Writer
	cfg *config
	enc *json.Encoder
}

const row = "%-34s  %-4s  %-20s  %-20s  %s%s\n"

// endpointWidth is the ENDPOINT column's, with -endpoints: an APN device
// token's 64 hex digits. A wider endpoint (an FCM token) pushes its row's
// USER to the right.
const endpointWidth = 64

func newPrinter(out io.Writer, cfg *config) *printer {
	w := bufio.NewWriterSize(out, 64<<10)
	p := &printer{w: w, cfg: cfg, enc: json.NewEncoder(w)}
	if !cfg.jsonOut {
		fmt.Fprintf(p.w, row, "BINDING", "TYPE", "UPDATED", "CREATED", p.endpointColumn("ENDPOINT"), "USER")
	}
	return p
}

// endpointColumn is the ENDPOINT column's cell for v, with -endpoints.
func (p *printer) endpointColumn(v string) string {
	if !p.cfg.endpoints {
		return ""
	}
	return fmt.Sprintf("%-*s  ", endpointWidth, cli.Printable(v))
}

type jsonBinding struct {
	SID           chat.BindingSID    `json:"sid"`
	User          string             `json:"user,omitempty"`
	UserSID       chat.UserSID       `json:"user_sid,omitempty"`
	Identity      string             `json:"identity"`
	BindingType   chat.BindingType   `json:"binding_type"`
	DateCreated   time.Time          `json:"date_created"`
	DateUpdated   time.Time          `json:"date_updated"`
	CredentialSID chat.CredentialSID `json:"credential_sid,omitempty"`
	MessageTypes  []string           `json:"message_types"`
	Endpoint      string             `json:"endpoint,omitempty"`
}

func (p *printer) line(jb jsonBinding, endpoint string) {
	if !p.cfg.jsonOut {
		fmt.Fprintf(p.w, row, jb.SID, cli.Printable(string(jb.BindingType)), jb.DateUpdated.Format(time.RFC3339), jb.DateCreated.Format(time.RFC3339),
			p.endpointColumn(endpoint), cli.Printable(jb.Identity))
		return
	}
	if p.cfg.endpoints {
		jb.Endpoint = endpoint
	}
	_ = p.enc.Encode(jb)
}

// userBindingLocked prints a binding of user, named as the operator named it.
func (p *printer) userBindingLocked(user string, b *chat.UserBinding) {
	p.line(jsonBinding{SID: b.SID, User: user, UserSID: b.UserSID, Identity: b.Identity, BindingType: b.BindingType,
		DateCreated: b.DateCreated, DateUpdated: b.DateUpdated, CredentialSID: b.CredentialSID, MessageTypes: b.MessageTypes}, b.Endpoint)
}

// bindingLocked prints a binding of the service-wide listing.
func (p *printer) bindingLocked(b *chat.Binding) {
	p.line(jsonBinding{SID: b.SID, Identity: b.Identity, BindingType: b.BindingType,
		DateCreated: b.DateCreated, DateUpdated: b.DateUpdated, CredentialSID: b.CredentialSID, MessageTypes: b.MessageTypes}, b.Endpoint)
}

func (p *printer) flushLocked() { _ = p.w.Flush() }

// flush writes what is buffered and returns the first error writing
// stdout met, if any (a bufio.Writer keeps it).
func (p *printer) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Flush()
}
