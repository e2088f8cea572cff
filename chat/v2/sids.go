package chat

import (
	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// Typed SIDs. Each is checked against its pattern when it is decoded from a
// response, so a value of these types read from the API is either empty
// (the API sent null or nothing) or well formed.
type (
	AccountSID    string // AC followed by 32 hex digits
	ServiceSID    string // IS followed by 32 hex digits
	UserSID       string // US followed by 32 hex digits
	BindingSID    string // BS followed by 32 hex digits
	CredentialSID string // CR followed by 32 hex digits
)

// Valid reports whether s matches ^AC[0-9a-fA-F]{32}$.
func (s AccountSID) Valid() bool { return sid.Valid(sid.Account, string(s)) }

// Valid reports whether s matches ^IS[0-9a-fA-F]{32}$.
func (s ServiceSID) Valid() bool { return sid.Valid(sid.Service, string(s)) }

// Valid reports whether s matches ^US[0-9a-fA-F]{32}$.
func (s UserSID) Valid() bool { return sid.Valid(sid.User, string(s)) }

// Valid reports whether s matches ^BS[0-9a-fA-F]{32}$.
func (s BindingSID) Valid() bool { return sid.Valid(sid.Binding, string(s)) }

// Valid reports whether s matches ^CR[0-9a-fA-F]{32}$.
func (s CredentialSID) Valid() bool { return sid.Valid(sid.Credential, string(s)) }

// sidRule pairs a SID prefix with the message that explains it.
type sidRule struct{ prefix, rule string }

func newRule(prefix string) sidRule {
	return sidRule{prefix, "must match " + sid.Pattern(prefix) + ": " + prefix + " followed by 32 hex digits"}
}

var (
	serviceRule    = newRule(sid.Service)
	bindingRule    = newRule(sid.Binding)
	accountRule    = newRule(sid.Account)
	userRule       = newRule(sid.User)
	credentialRule = newRule(sid.Credential)
)

// checkSID validates a SID the caller passed in as the parameter param.
func checkSID(param string, r sidRule, v string) error {
	if sid.Valid(r.prefix, v) {
		return nil
	}
	return &client.ValidationError{Param: param, Value: v, Rule: r.rule}
}
