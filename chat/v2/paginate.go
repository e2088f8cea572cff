package chat

import (
	"bytes"
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// All of pagination lives in this file, once for both resources: the first
// page, following meta.next_page_url safely, resuming from a saved URL, the
// checks every page's bindings pass, and the iterators.

// PageMeta is the metadata the API sends with each page.
type PageMeta struct {
	Page            int    // index of this page, from 0
	PageSize        int    // bindings per page
	FirstPageURL    string // absolute URL of the first page
	PreviousPageURL string // empty on the first page
	URL             string // absolute URL of this page
	NextPageURL     string // empty on the last page
	Key             string // the name of the list in the document: "bindings"
}

// Page is one page of a listing, for callers who page by hand: to show
// page metadata, to save Meta.NextPageURL so a long job can resume later
// with PageFromURL, or to process a page at a time. Every binding on it has
// been checked to belong to the service (and user) listed and to match the
// listing's filters.
type Page[T item] struct {
	Bindings []*T
	Meta     PageMeta

	chain *chain[T]
	depth int    // pages before this one in its chain
	token string // the PageToken this page was fetched with
	empty int    // consecutive pages up to this one with no bindings but a next page
}

// UserBindingPage is one page of a user's bindings.
type UserBindingPage = Page[UserBinding]

// BindingPage is one page of a service's bindings.
type BindingPage = Page[Binding]

// maxEmptyPages bounds a run of pages that hold no binding yet claim a next
// page: a server that never gets anywhere ends the listing with an error
// instead of keeping it busy until the caller's deadline.
const maxEmptyPages = 5

// PageURLError is a next_page_url (or a URL given to PageFromURL) that the
// client refuses to follow: it leaves the list it belongs to, uses another
// scheme or an unknown host, was already fetched in this listing (a server
// sending the client in a loop), or follows too many empty pages.
// Credentials are never sent to it.
type PageURLError struct {
	URL     string
	Problem string
}

// Error names the URL (shortened) and why it was refused.
func (e *PageURLError) Error() string {
	return "chat: page URL " + excerpt.Quote(e.URL, excerpt.Long) + " " + e.Problem
}

// chain is the state shared by the pages of one listing.
type chain[T item] struct {
	ref  ref
	path string // the escaped path of the list

	mu    sync.Mutex
	dec   decoder[T]
	seen  map[string]int // canonical query of each page fetched -> its depth
	scope scope
}

// newChain starts a listing of r whose first request has query q: the
// filters every binding must match are the ones q asks for.
func newChain[T item](r ref, q string) *chain[T] {
	v, _ := url.ParseQuery(q)
	sc := scope{service: r.service, identities: v["Identity"]}
	if r.perUser {
		sc.user = r.user
		if UserSID(r.user).Valid() {
			sc.userSID = UserSID(r.user)
		}
		sc.identities = nil // not a parameter of the per-user list
	}
	for _, t := range v["BindingType"] {
		sc.types = append(sc.types, BindingType(t))
	}
	return &chain[T]{ref: r, path: r.listPath(), seen: map[string]int{}, scope: sc}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// fetch gets the page at query, after prev (nil for a first page).
func (ch *chain[T]) fetch(ctx context.Context, query string, prev *Page[T]) (*Page[T], error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	req := client.Request{Method: http.MethodGet, Path: ch.path, Query: query}
	resp, err := ch.ref.api.c.Do(ctx, req, buf)
	if err != nil {
		return nil, err
	}
	p := &Page[T]{chain: ch, token: pageToken(query)}
	if prev != nil {
		p.depth = prev.depth + 1
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	hasMeta, err := ch.dec.page(buf.Bytes(), p)
	if err != nil {
		return nil, err
	}
	if !hasMeta {
		return nil, errorDocument(buf.Bytes(), req, resp, &DecodeError{Field: "meta", Err: errMissing})
	}
	for i, b := range p.Bindings {
		if err := ch.scope.check(fieldsOf(b), i); err != nil {
			return nil, err
		}
	}
	if key := canonicalQuery(query); ch.seen[key] == 0 {
		ch.seen[key] = p.depth + 1 // +1: the zero value means not seen
	}
	if len(p.Bindings) == 0 && p.Meta.NextPageURL != "" {
		p.empty = 1
		if prev != nil {
			p.empty += prev.empty
		}
	}
	return p, nil
}

// Next fetches the page after p, following Meta.NextPageURL. It returns
// nil, nil when p is the last page.
func (p *Page[T]) Next(ctx context.Context) (*Page[T], error) {
	if p == nil || p.Meta.NextPageURL == "" {
		return nil, nil
	}
	next := p.Meta.NextPageURL
	if p.chain == nil {
		return nil, &PageURLError{URL: next, Problem: "belongs to a page this package did not fetch; use PageFromURL"}
	}
	if p.empty >= maxEmptyPages {
		return nil, &PageURLError{URL: next, Problem: "follows " + strconv.Itoa(p.empty) + " pages in a row that held no binding yet claimed a next page; the server is not making progress"}
	}
	q, err := p.chain.resolve(next)
	if err != nil {
		return nil, err
	}
	if tok := pageToken(q); tok != "" && tok == p.token {
		return nil, &PageURLError{URL: next, Problem: "repeats the page token of the page it came from; the server is sending the client in a loop"}
	}
	p.chain.mu.Lock()
	at := p.chain.seen[canonicalQuery(q)]
	p.chain.mu.Unlock()
	if at != 0 && at-1 <= p.depth {
		return nil, &PageURLError{URL: next, Problem: "was already fetched in this listing; the server is sending the client in a loop"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.chain.fetch(ctx, q, p)
}

// pageToken is the PageToken of a query, "" when it has none.
func pageToken(q string) string {
	v, _ := url.ParseQuery(q)
	return v.Get("PageToken")
}

// canonicalQuery spells a query one way, so that a server cannot disguise a
// page it already sent by respelling its URL: parameters sorted, empty
// pieces dropped, and Page (which the API documents as client state only)
// left out.
func canonicalQuery(q string) string {
	v, err := url.ParseQuery(q)
	if err != nil {
		return q
	}
	v.Del("Page")
	return v.Encode()
}

// resolve checks a page URL and returns the query to send. Only the query
// is used: the request goes to the client's own base URL and this list's own
// path, so a hostile next_page_url can neither receive credentials nor
// redirect the listing to another resource.
func (ch *chain[T]) resolve(raw string) (string, error) {
	bad := func(problem string) (string, error) { return "", &PageURLError{URL: raw, Problem: problem} }
	u, err := url.Parse(raw)
	if err != nil {
		return bad("is not a valid URL")
	}
	base := ch.ref.api.c.BaseURL()
	switch {
	case u.Opaque != "" || (u.Scheme != "" && u.Host == ""):
		return bad("is not an absolute http(s) URL or a path")
	case u.Scheme != "" && u.Scheme != "https" && u.Scheme != base.Scheme:
		return bad("uses scheme " + u.Scheme + "; only https, or the client's own scheme, is followed")
	case u.User != nil:
		return bad("carries credentials in the URL")
	case u.Host != "" && !strings.EqualFold(u.Host, base.Host) && !isTwilioHost(u.Hostname()):
		return bad("names host " + excerpt.Quote(u.Host, excerpt.Short) + ", which is neither the client's host nor a Twilio API host")
	}
	// Twilio writes its own, unprefixed, paths; a proxy under the client's
	// base path may write prefixed ones. Either may be this list.
	path := u.EscapedPath()
	candidates := []string{path}
	if prefix := base.EscapedPath(); prefix != "" && strings.HasPrefix(path, prefix+"/") {
		candidates = append(candidates, path[len(prefix):])
	}
	for _, p := range candidates {
		if samePath(p, ch.path) || ch.sameUserBySID(p) {
			return u.RawQuery, nil
		}
	}
	return bad("leaves this list: its path is not " + excerpt.Quote(ch.path, excerpt.Long))
}

// sameUserBySID accepts a path that names the listed user by SID where the
// listing named it by identity: the API writes page URLs with the user's
// SID. Only the SID that the bindings themselves reported is accepted.
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

func isTwilioHost(host string) bool {
	host = strings.ToLower(host)
	return host == "twilio.com" || strings.HasSuffix(host, ".twilio.com")
}

// samePath compares escaped paths segment by segment after unescaping each
// segment, so "%40" and "@" match but "a%2Fb" and "a/b" do not.
func samePath(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		x, err1 := url.PathUnescape(as[i])
		y, err2 := url.PathUnescape(bs[i])
		if err1 != nil || err2 != nil || x != y {
			return false
		}
	}
	return true
}

// listing is a listing request validated and encoded once per call.
type listing struct {
	ref      ref
	query    string
	limit    int
	prefetch bool
}

func plan(r ref, q listQuery) (listing, error) {
	if err := r.check(); err != nil {
		return listing{}, err
	}
	enc, err := q.encode()
	if err != nil {
		return listing{}, err
	}
	return listing{ref: r, query: enc, limit: q.limit, prefetch: q.prefetch}, nil
}

// firstPage fetches the first page of a listing.
func firstPage[T item](ctx context.Context, r ref, q listQuery) (*Page[T], error) {
	l, err := plan(r, q)
	if err != nil {
		return nil, err
	}
	return newChain[T](l.ref, l.query).fetch(ctx, l.query, nil)
}

// pageFromURL fetches the page at a saved next_page_url of a listing of r.
// The URL's query (filters, page size, token) comes with it.
func pageFromURL[T item](ctx context.Context, r ref, pageURL string) (*Page[T], error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	u, err := url.Parse(pageURL)
	if err != nil {
		return nil, &PageURLError{URL: pageURL, Problem: "is not a valid URL"}
	}
	ch := newChain[T](r, u.RawQuery)
	ch.adoptUserSID(u)
	q, err := ch.resolve(pageURL)
	if err != nil {
		return nil, err
	}
	return ch.fetch(ctx, q, nil)
}

// adoptUserSID lets a saved page URL that names the user by SID resume a
// listing addressed by identity. The SID is then held to what the page's
// bindings say (see scope.check), so a URL naming someone else fails.
func (ch *chain[T]) adoptUserSID(u *url.URL) {
	segs := strings.Split(u.EscapedPath(), "/")
	if n := len(segs); ch.ref.perUser && n >= 3 {
		if us, err := url.PathUnescape(segs[n-2]); err == nil && UserSID(us).Valid() {
			ch.scope.userSID = UserSID(us)
		}
	}
}

// pagesOf iterates over a listing's pages until the last one, the one that
// reaches the limit, an error, or the caller breaking out of the loop.
func pagesOf[T item](ctx context.Context, r ref, q listQuery) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		l, err := plan(r, q)
		if err != nil {
			yield(nil, err)
			return
		}
		walk(ctx, l, yield)
	}
}

// walk yields the listing's pages until the last one, the one that
// reaches the limit, an error, or yield returning false.
func walk[T item](ctx context.Context, l listing, yield func(*Page[T], error) bool) {
	var ahead *prefetcher[T]
	defer func() { ahead.stop() }()
	page, err := newChain[T](l.ref, l.query).fetch(ctx, l.query, nil)
	for seen := 0; ; {
		if err != nil {
			yield(nil, err)
			return
		}
		seen += len(page.Bindings)
		more := page.Meta.NextPageURL != "" && (l.limit == 0 || seen < l.limit)
		if more && l.prefetch {
			ahead = fetchAhead(ctx, page)
		}
		if !yield(page, nil) || !more {
			return
		}
		if ahead != nil {
			page, err = ahead.wait()
			ahead = nil
		} else {
			page, err = page.Next(ctx)
		}
	}
}

// itemsOf iterates over a listing's bindings, stopping after the limit.
func itemsOf[T item](ctx context.Context, r ref, q listQuery) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		l, err := plan(r, q)
		if err != nil {
			yield(nil, err)
			return
		}
		n := 0
		walk(ctx, l, func(page *Page[T], err error) bool {
			if err != nil {
				yield(nil, err)
				return false
			}
			for _, b := range page.Bindings {
				if !yield(b, nil) {
					return false
				}
				if n++; l.limit > 0 && n >= l.limit {
					return false
				}
			}
			return true
		})
	}
}

// prefetcher fetches one page in the background.
type prefetcher[T item] struct {
	cancel context.CancelFunc
	done   chan struct{}
	page   *Page[T]
	err    error
}

func fetchAhead[T item](ctx context.Context, p *Page[T]) *prefetcher[T] {
	ctx, cancel := context.WithCancel(ctx)
	pf := &prefetcher[T]{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(pf.done)
		pf.page, pf.err = p.Next(ctx)
	}()
	return pf
}

func (pf *prefetcher[T]) wait() (*Page[T], error) {
	<-pf.done
	pf.cancel()
	return pf.page, pf.err
}

// stop abandons the fetch and waits for its goroutine, so none outlives
// the loop.
func (pf *prefetcher[T]) stop() {
	if pf != nil {
		pf.cancel()
		<-pf.done
	}
}
