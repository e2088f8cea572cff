package chat

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// BindingType is the push technology of a binding.
type BindingType string

// The binding types the API documents. Others may appear in responses and
// are kept as they are.
const (
	BindingTypeAPN BindingType = "apn" // Apple Push Notification service
	BindingTypeGCM BindingType = "gcm" // Google Cloud Messaging
	BindingTypeFCM BindingType = "fcm" // Firebase Cloud Messaging
)

// Known reports whether t is one of the documented binding types.
func (t BindingType) Known() bool {
	return t == BindingTypeAPN || t == BindingTypeGCM || t == BindingTypeFCM
}

// UserBinding is one push binding of a user: a device endpoint registered for
// Chat notifications. Every field may be empty: the API makes all of them
// nullable.
//
// Endpoint and Identity are personal data (Twilio deletes them 30 days after
// the binding). Formatting a UserBinding with fmt or logging it with slog
// prints "[redacted]" in place of the endpoint; read the field directly when
// you need it.
type UserBinding struct {
	SID           BindingSID
	AccountSID    AccountSID
	ServiceSID    ServiceSID
	UserSID       UserSID
	CredentialSID CredentialSID
	DateCreated   time.Time
	DateUpdated   time.Time
	Endpoint      string // device token or registration ID; its format depends on BindingType
	Identity      string // the user's identity within the service
	BindingType   BindingType
	MessageTypes  []string // such as "new_message", "added_to_channel"
	URL           string   // absolute URL of the binding
}

// Binding is one push binding of a service, as the service-wide Binding
// resource reports it: the same binding (the same BS… SID) as the
// UserBinding of its user, without the user's SID but with a link to the
// user. Every field may be empty: the API makes all of them nullable.
//
// Endpoint and Identity are personal data; fmt and slog print "[redacted]"
// in place of the endpoint, as for UserBinding.
type Binding struct {
	SID           BindingSID
	AccountSID    AccountSID
	ServiceSID    ServiceSID
	CredentialSID CredentialSID
	DateCreated   time.Time
	DateUpdated   time.Time
	Endpoint      string // device token or registration ID; its format depends on BindingType
	Identity      string // the identity of the binding's user
	BindingType   BindingType
	MessageTypes  []string // such as "new_message", "added_to_channel"
	URL           string   // absolute URL of the binding
	UserURL       string   // absolute URL of the binding's user (links.user)
}

const redacted = "[redacted]"

// What fmt sees: copies with the endpoint redacted, of types without
// methods, so that formatting them cannot recurse into Format.
type (
	redactedUserBinding UserBinding
	redactedBinding     Binding
)

func withoutEndpoint[T item](b T) T {
	if e := fieldsOf(&b).endpoint; *e != "" {
		*e = redacted
	}
	return b
}

// printRedacted prints r as fmt would with verb, naming its type as the
// public one for %#v.
func printRedacted[R redactedUserBinding | redactedBinding](f fmt.State, verb rune, r R) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), r)
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, "chat.redacted", "chat.", 1)
	}
	_, _ = f.Write([]byte(s))
}

// Format implements fmt.Formatter: all verbs print the binding as fmt
// would, with the endpoint redacted.
func (b UserBinding) Format(f fmt.State, verb rune) {
	printRedacted(f, verb, redactedUserBinding(withoutEndpoint(b)))
}

// Format implements fmt.Formatter: all verbs print the binding as fmt
// would, with the endpoint redacted.
func (b Binding) Format(f fmt.State, verb rune) {
	printRedacted(f, verb, redactedBinding(withoutEndpoint(b)))
}

// LogValue implements slog.LogValuer, with the endpoint redacted.
func (b UserBinding) LogValue() slog.Value { return logValue(withoutEndpoint(b)) }

// LogValue implements slog.LogValuer, with the endpoint redacted.
func (b Binding) LogValue() slog.Value { return logValue(withoutEndpoint(b)) }

func logValue[T item](b T) slog.Value {
	f := fieldsOf(&b)
	attrs := []slog.Attr{
		slog.String("sid", string(*f.sid)),
		slog.String("service_sid", string(*f.service)),
	}
	if f.user != nil {
		attrs = append(attrs, slog.String("user_sid", string(*f.user)))
	}
	return slog.GroupValue(append(attrs,
		slog.String("identity", *f.identity),
		slog.String("binding_type", string(*f.bindingType)),
		slog.String("endpoint", *f.endpoint),
		slog.String("credential_sid", string(*f.credential)),
		slog.Time("date_updated", *f.updated),
	)...)
}
