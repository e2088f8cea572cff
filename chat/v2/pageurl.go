package chat

import (
	"net/url"
	"strings"

	"github.com/twiliochat/twiliochat-go/internal/excerpt"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// The page-URL rules, in one place: which next_page_url (or saved URL) a
// listing follows, what it sends for it, and how it tells a page it has
// already met. A page is named by its PageToken (the API pages only by
// token: "PageToken is required for paging"), and the first page by none,
// so a server cannot disguise a page it already sent by respelling the
// rest of its URL: Page numbers, repeated or unknown parameters, leading
// zeros.

// PageURLError is a next_page_url (or a URL given to PageFromURL) that the
// client refuses to follow: it leaves the list it belongs to, has a query
// that does not parse, names a page already met in this listing (a server
// sending the client in a loop), or follows too many empty pages. Whatever
// host it names, nothing is ever sent there: only its path and query are
// used, on the client's own base URL. URL has any credentials it carried
// removed.
type PageURLError struct {
	URL     string
	Problem string
}

// Error names the URL (shortened) and why it was refused.
func (e *PageURLError) Error() string {
	return "chat: page URL " + excerpt.Quote(e.URL, excerpt.Long) + " " + e.Problem
}

// pageURLError builds a PageURLError, removing any credentials from raw.
func pageURLError(raw, problem string) *PageURLError {
	return &PageURLError{URL: withoutUserinfo(raw), Problem: problem}
}

// withoutUserinfo removes the user:password@ of a URL-like string, without
// parsing it: it must work on strings url.Parse rejects.
func withoutUserinfo(raw string) string {
	i := strings.Index(raw, "//")
	if i < 0 {
		return raw
	}
	authority := raw[i+2:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	return raw[:i+2] + "[redacted]@" + raw[i+2+at+1:]
}

// pageQuery is the query of a page request: as sent, and the page token
// that names its page ("" for the first page).
type pageQuery struct {
	raw   string
	token string
}

// parsePageQuery reads a page's query and its page token, whatever the case
// of the parameter's name. A query that does not parse, or that names more
// than one page token, cannot be told from a page already met, and is
// refused.
func parsePageQuery(raw string) (pageQuery, string) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return pageQuery{}, "has a query that does not parse, so it cannot be told apart from a page already fetched"
	}
	q := pageQuery{raw: raw}
	found := 0
	for k, vs := range v {
		if strings.EqualFold(k, "PageToken") {
			found += len(vs)
			q.token = vs[0]
		}
	}
	if found > 1 {
		return pageQuery{}, "names more than one page token"
	}
	return q, ""
}

// resolve checks a page URL and returns the query to send. Only its path
// and query are used: the request goes to the client's own base URL. So the
// host and scheme the URL names decide nothing (behind a reverse proxy that
// rewrites Host, the API writes its own address), credentials never go
// anywhere else, and the path must be this list's, so a hostile
// next_page_url cannot send the listing to another resource.
func (ch *chain[T]) resolve(raw string) (pageQuery, error) {
	bad := func(problem string) (pageQuery, error) { return pageQuery{}, pageURLError(raw, problem) }
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return bad("is not a valid URL")
	case u.Opaque != "":
		return bad("is not an http(s) URL or a path")
	}
	// Twilio writes its own, unprefixed, paths; a proxy under the client's
	// base path may write prefixed ones. Either may be this list.
	path := u.EscapedPath()
	candidates := []string{path}
	if base := ch.ref.api.c.BaseURL(); base != nil && base.EscapedPath() != "" && strings.HasPrefix(path, base.EscapedPath()+"/") {
		candidates = append(candidates, path[len(base.EscapedPath()):])
	}
	for _, p := range candidates {
		if samePath(p, ch.path) || ch.sameUserBySID(p) {
			q, problem := parsePageQuery(u.RawQuery)
			if problem != "" {
				return bad(problem)
			}
			return q, nil
		}
	}
	return bad("leaves this list: its path is not " + excerpt.Quote(ch.path, excerpt.Long))
}

// sameUserBySID accepts a path that names the listed user by SID where the
// listing named it by identity: the API writes page URLs with the user's
// SID. Only the SID that the bindings themselves reported, or a saved URL
// gave a listing by identity, is accepted.
func (ch *chain[T]) sameUserBySID(path string) bool {
	ch.mu.Lock()
	us := ch.scope.userSID
	ch.mu.Unlock()
	if us == "" || !ch.ref.perUser {
		return false
	}
	r := ch.ref
	r.user = string(us)
	return samePath(path, r.listPath())
}

// adoptUserSID lets a saved page URL that names the user by SID resume a
// listing addressed by identity, and returns the SID it adopted. The SID is
// then held to what the page's bindings say (see scope.check), so a URL
// naming someone else fails on the first binding, and a page with none
// cannot confirm it (see pageFromURL). A listing addressed by SID adopts
// nothing: the URL of another user's list is not this list.
func (ch *chain[T]) adoptUserSID(u *url.URL) UserSID {
	if !ch.ref.perUser || ch.scope.userSID != "" {
		return ""
	}
	segs := strings.Split(u.EscapedPath(), "/")
	if n := len(segs); n >= 3 {
		if us, err := url.PathUnescape(segs[n-2]); err == nil && UserSID(us).Valid() {
			ch.scope.userSID = UserSID(us)
			return ch.scope.userSID
		}
	}
	return ""
}

// samePath compares escaped paths segment by segment after unescaping each
// segment, so "%40" and "@" match but "a%2Fb" and "a/b" do not, and SIDs by
// the one rule for SIDs (sid.Same), so a SID addressed in upper-case hex
// matches the lower-case one the API writes.
func samePath(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		x, err1 := url.PathUnescape(as[i])
		y, err2 := url.PathUnescape(bs[i])
		if err1 != nil || err2 != nil || !sid.Same(x, y) {
			return false
		}
	}
	return true
}
