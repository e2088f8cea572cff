package chat

import (
	"net/url"
	"strings"

	"github.com/twiliochat/twiliochat-go/internal/excerpt"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// The page-URL rules, in one place: which next_page_url (or saved URL) a
// listing follows, what it sends for it, and how it tells a page or a page
// token it has already met.

// PageURLError is a next_page_url (or a URL given to PageFromURL) that the
// client refuses to follow: it leaves the list it belongs to, has a query
// that does not parse, names a page or a page token already met in this
// listing (a server sending the client in a loop), or follows too many
// empty pages. Whatever host it names, nothing is ever sent there: only its
// path and query are used, on the client's own base URL.
type PageURLError struct {
	URL     string
	Problem string
}

// Error names the URL (shortened) and why it was refused.
func (e *PageURLError) Error() string {
	return "chat: page URL " + excerpt.Quote(e.URL, excerpt.Long) + " " + e.Problem
}

// pageQuery is the query of a page request, as sent and as compared.
type pageQuery struct {
	raw       string // as sent
	canonical string // spelled one way, to recognise a page met before
	token     string // its PageToken, "" for none
}

// parsePageQuery reads a page's query. A server cannot disguise a page it
// already sent by respelling its URL: the canonical form has its parameters
// sorted, their names in lower case, empty pieces dropped, and Page (which
// the API documents as client state only) left out. A query that does not
// parse, or that names more than one page token, cannot be compared, and is
// refused.
func parsePageQuery(raw string) (pageQuery, string) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return pageQuery{}, "has a query that does not parse, so it cannot be told apart from a page already fetched"
	}
	folded := make(url.Values, len(v))
	for k, vs := range v {
		k = strings.ToLower(k)
		folded[k] = append(folded[k], vs...)
	}
	delete(folded, "page")
	q := pageQuery{raw: raw}
	switch toks := folded["pagetoken"]; {
	case len(toks) > 1:
		return pageQuery{}, "names more than one page token"
	case len(toks) == 1:
		q.token = toks[0]
	}
	q.canonical = folded.Encode()
	return q, ""
}

// resolve checks a page URL and returns the query to send. Only its path
// and query are used: the request goes to the client's own base URL. So the
// host and scheme the URL names decide nothing (behind a reverse proxy that
// rewrites Host, the API writes its own address), credentials never go
// anywhere else, and the path must be this list's, so a hostile
// next_page_url cannot send the listing to another resource.
func (ch *chain[T]) resolve(raw string) (pageQuery, error) {
	bad := func(problem string) (pageQuery, error) { return pageQuery{}, &PageURLError{URL: raw, Problem: problem} }
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
	if prefix := ch.ref.api.c.BaseURL().EscapedPath(); prefix != "" && strings.HasPrefix(path, prefix+"/") {
		candidates = append(candidates, path[len(prefix):])
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
// listing addressed by identity. The SID is then held to what the page's
// bindings say (see scope.check), so a URL naming someone else fails on the
// first binding. A listing addressed by SID adopts nothing: the URL of
// another user's list is not this list.
func (ch *chain[T]) adoptUserSID(u *url.URL) {
	if !ch.ref.perUser || ch.scope.userSID != "" {
		return
	}
	segs := strings.Split(u.EscapedPath(), "/")
	if n := len(segs); n >= 3 {
		if us, err := url.PathUnescape(segs[n-2]); err == nil && UserSID(us).Valid() {
			ch.scope.userSID = UserSID(us)
		}
	}
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
