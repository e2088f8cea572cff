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

const redacted = "[redacted]"

// redactedCopy is what fmt and slog see. Its type has no methods, so
// formatting it cannot recurse into Format.
type redactedCopy UserBinding

func (b *UserBinding) redacted() redactedCopy {
	r := redactedCopy(*b)
	if r.Endpoint != "" {
		r.Endpoint = redacted
	}
	return r
}

// Format implements fmt.Formatter: all verbs print the binding as fmt
// would, with the endpoint redacted.
func (b UserBinding) Format(f fmt.State, verb rune) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), b.redacted())
	if verb == 'v' && f.Flag('#') {
		s = "chat.UserBinding" + strings.TrimPrefix(s, "chat.redactedCopy")
	}
	_, _ = f.Write([]byte(s))
}

// LogValue implements slog.LogValuer, with the endpoint redacted.
func (b UserBinding) LogValue() slog.Value {
	r := b.redacted()
	return slog.GroupValue(
		slog.String("sid", string(r.SID)),
		slog.String("service_sid", string(r.ServiceSID)),
		slog.String("user_sid", string(r.UserSID)),
		slog.String("identity", r.Identity),
		slog.String("binding_type", string(r.BindingType)),
		slog.String("endpoint", r.Endpoint),
		slog.String("credential_sid", string(r.CredentialSID)),
		slog.Time("date_updated", r.DateUpdated),
	)
}
