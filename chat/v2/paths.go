package chat

import (
	"net/url"
	"unicode/utf8"

	"github.com/twiliochat/twiliochat-go/client"
)

// Every path is built here, and every value in it is one escaped segment:
// url.PathEscape turns '/', '?', '#', '%', ';', spaces and non-ASCII into
// %XX, so an identity can never add a segment, start a query or end the
// path early.

// listPath is the path of the list r names:
// /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings for one user's,
// /v2/Services/{ServiceSid}/Bindings for the service's.
func (r ref) listPath() string {
	p := "/v2/Services/" + url.PathEscape(r.service)
	if r.perUser {
		p += "/Users/" + url.PathEscape(r.user)
	}
	return p + "/Bindings"
}

// itemPath is the path of binding sid in the list r names.
func (r ref) itemPath(sid string) string {
	return r.listPath() + "/" + url.PathEscape(sid)
}

// checkUser accepts any identity that can travel as one path segment.
func checkUser(id string) error {
	rule := ""
	switch {
	case id == "":
		rule = "must be a user SID (US…) or the user's identity, not empty"
	case id == "." || id == "..":
		// Servers and proxies resolve these as relative path steps, so the
		// request would reach a different resource.
		rule = `cannot be "." or "..": such a path segment is resolved away before it reaches the user`
	case !utf8.ValidString(id):
		rule = "must be valid UTF-8"
	default:
		return nil
	}
	return &client.ValidationError{Param: "UserSid", Value: id, Rule: rule}
}
