package chat

import (
	"fmt"
	"slices"

	"github.com/twiliochat/twiliochat-go/internal/excerpt"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// scope is what a response must be about: the service, the user where one
// was addressed, and for a listing the filters it asked for. The client
// holds every binding it hands out to it rather than trusting the server:
// a next_page_url that dropped the filter, or a page of someone else's
// bindings, fails the listing instead of reaching a cleanup job.
type scope struct {
	service    string
	user       string  // as addressed (a SID or an identity), for one user's bindings; "" for a service's
	userSID    UserSID // the user's SID: as addressed, or as the first binding of the listing stated it
	types      []BindingType
	identities []string
}

// check holds one decoded binding to the scope; index is its position on
// its page, or -1 for a fetched binding. A mismatch is a *DecodeError that
// names the field. It runs on every binding, so it allocates nothing unless
// it fails.
func (s *scope) check(f fields, index int) error {
	// A binding that does not say its service is not shown to be the
	// service's: null or absent is refused as a different one is.
	switch sv := string(*f.service); {
	case sv == "":
		return mismatch(index, "service_sid", "is null or absent, but the request was for service %s", excerpt.Quote(s.service, excerpt.Short))
	case !sid.Same(sv, s.service):
		return mismatch(index, "service_sid", "is %s, but the request was for service %s", sv, excerpt.Quote(s.service, excerpt.Short))
	}
	if s.user != "" {
		if err := s.checkUser(f, index); err != nil {
			return err
		}
	}
	if len(s.types) > 0 && !slices.Contains(s.types, *f.bindingType) {
		return mismatch(index, "binding_type", "is %s, which the listing's BindingType filter %q excludes", excerpt.Quote(string(*f.bindingType), excerpt.Short), s.types)
	}
	if len(s.identities) > 0 && !slices.Contains(s.identities, *f.identity) {
		return mismatch(index, "identity", "is %s, which the listing's Identity filter excludes", excerpt.Quote(*f.identity, excerpt.Short))
	}
	return nil
}

// checkUser holds a binding to the user addressed: by SID, its user_sid
// must be that SID; by identity, its identity must be that identity, and
// its user_sid the same for every binding of the listing.
func (s *scope) checkUser(f fields, index int) error {
	var us UserSID
	if f.user != nil {
		us = *f.user
	}
	if UserSID(s.user).Valid() {
		if !sid.Same(string(us), s.user) {
			return mismatch(index, "user_sid", "is %s, but the request was for user %s", excerpt.Quote(string(us), excerpt.Short), s.user)
		}
		return nil
	}
	if *f.identity != s.user {
		return mismatch(index, "identity", "is %s, but the request was for user %s", excerpt.Quote(*f.identity, excerpt.Short), excerpt.Quote(s.user, excerpt.Short))
	}
	switch {
	case us == "":
	case s.userSID == "":
		s.userSID = us
	case !sid.Same(string(us), string(s.userSID)):
		return mismatch(index, "user_sid", "is %s, but earlier bindings of user %s said %s", us, excerpt.Quote(s.user, excerpt.Short), s.userSID)
	}
	return nil
}

func mismatch(index int, field, format string, args ...any) error {
	return &DecodeError{Field: fieldName(index, field), Err: fmt.Errorf(format, args...)}
}
