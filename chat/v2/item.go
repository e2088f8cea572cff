package chat

import "time"

// item is a binding as one of the two resources reports it: per user
// (UserBinding) or service-wide (Binding). The decoder, the pager, the
// checks and the redaction are written once, over this constraint.
type item interface {
	UserBinding | Binding
}

// fields points at the fields of one binding, whichever shape it has; a
// nil pointer is a field the shape does not have, whose key the decoder
// skips.
type fields struct {
	sid          *BindingSID
	account      *AccountSID
	service      *ServiceSID
	user         *UserSID // UserBinding only
	credential   *CredentialSID
	created      *time.Time
	updated      *time.Time
	endpoint     *string
	identity     *string
	url          *string
	bindingType  *BindingType
	messageTypes *[]string
	userURL      *string // Binding only: links.user
}

// fieldsOf returns the fields of b. The constraint admits only the two
// shapes handled here.
func fieldsOf[T item](b *T) fields {
	switch b := any(b).(type) {
	case *UserBinding:
		return fields{&b.SID, &b.AccountSID, &b.ServiceSID, &b.UserSID, &b.CredentialSID, &b.DateCreated, &b.DateUpdated,
			&b.Endpoint, &b.Identity, &b.URL, &b.BindingType, &b.MessageTypes, nil}
	case *Binding:
		return fields{&b.SID, &b.AccountSID, &b.ServiceSID, nil, &b.CredentialSID, &b.DateCreated, &b.DateUpdated,
			&b.Endpoint, &b.Identity, &b.URL, &b.BindingType, &b.MessageTypes, &b.UserURL}
	}
	return fields{}
}
