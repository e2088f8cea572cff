package chat

import (
	"bytes"
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// The pager lives in this file, once for both resources: the first page,
// following meta.next_page_url, resuming from a saved URL, the checks every
// page's bindings pass, and the iterators. Which page URLs it follows, and
// how it tells a page it has met, is in pageurl.go.

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
	// Response is the metadata of the response the page came in: its
	// Twilio-Request-Id for an audit trail or a support ticket, its headers
	// (the API's Date among them), and how many attempts it took.
	Response client.Response

	chain *chain[T]
	depth int // pages before this one in its chain
	empty int // consecutive pages up to this one with no bindings but a next page
}

// UserBindingPage is one page of a user's bindings.
type UserBindingPage = Page[UserBinding]

// BindingPage is one page of a service's bindings.
type BindingPage = Page[Binding]

// maxEmptyPages bounds a run of pages that hold no binding yet claim a next
// page: a server that never gets anywhere ends the listing with an error
// instead of keeping it busy until the caller's deadline.
const maxEmptyPages = 5

// chain is the state shared by the pages of one listing.
type chain[T item] struct {
	ref  ref
	path string // the escaped path of the list

	mu     sync.Mutex
	dec    decoder[T]
	tokens map[string]int // the page token of each page fetched ("" the first) -> its least depth + 1
	scope  scope
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
	return &chain[T]{ref: r, path: r.listPath(), tokens: map[string]int{}, scope: sc}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// fetch gets the page at q, after prev (nil for a first page).
func (ch *chain[T]) fetch(ctx context.Context, q pageQuery, prev *Page[T]) (*Page[T], error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	req := client.Request{Method: http.MethodGet, Path: ch.path, Query: q.raw}
	resp, err := ch.ref.api.c.Do(ctx, req, buf)
	if err != nil {
		return nil, err
	}
	p := &Page[T]{chain: ch, Response: *resp}
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
	note(ch.tokens, q.token, p.depth)
	if len(p.Bindings) == 0 && p.Meta.NextPageURL != "" {
		p.empty = 1
		if prev != nil {
			p.empty += prev.empty
		}
	}
	return p, nil
}

// note records that key was met at depth, keeping the least depth.
func note(m map[string]int, key string, depth int) {
	if at := m[key]; at == 0 || depth+1 < at {
		m[key] = depth + 1 // +1: the zero value means not met
	}
}

// metBefore reports whether key was met at depth or before it. On the way
// from a page at depth to the next, the token of that page or an earlier
// one is a loop, while fetching the same next page again (Next called twice
// on one page) is not.
func metBefore(m map[string]int, key string, depth int) bool {
	at := m[key]
	return at != 0 && at-1 <= depth
}

// Next fetches the page after p, following Meta.NextPageURL. It returns
// nil, nil when p is the last page.
func (p *Page[T]) Next(ctx context.Context) (*Page[T], error) {
	if p == nil || p.Meta.NextPageURL == "" {
		return nil, nil
	}
	next := p.Meta.NextPageURL
	if p.chain == nil {
		return nil, pageURLError(next, "belongs to a page this package did not fetch; use PageFromURL")
	}
	if p.empty >= maxEmptyPages {
		return nil, pageURLError(next, "follows "+strconv.Itoa(p.empty)+" pages in a row that held no binding yet claimed a next page; the server is not making progress")
	}
	q, err := p.chain.resolve(next)
	if err != nil {
		return nil, err
	}
	p.chain.mu.Lock()
	loop := metBefore(p.chain.tokens, q.token, p.depth)
	p.chain.mu.Unlock()
	switch {
	case loop && q.token == "":
		return nil, pageURLError(next, "names no page token: it is the first page, already fetched in this listing; the server is sending the client in a loop")
	case loop:
		return nil, pageURLError(next, "repeats the page token of a page already fetched in this listing; the server is sending the client in a loop")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.chain.fetch(ctx, q, p)
}

// listing is a listing request validated and encoded once per call.
type listing struct {
	ref      ref
	query    string
	limit    int
	prefetch bool
}

// first is the query of the listing's first page: this package's own
// encoding, which always parses.
func (l listing) first() pageQuery {
	q, _ := parsePageQuery(l.query)
	return q
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
	return newChain[T](l.ref, l.query).fetch(ctx, l.first(), nil)
}

// pageFromURL fetches the page at a saved next_page_url of a listing of r.
// The URL's query (filters, page size, token) comes with it.
func pageFromURL[T item](ctx context.Context, r ref, pageURL string) (*Page[T], error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	u, err := url.Parse(pageURL)
	if err != nil {
		return nil, pageURLError(pageURL, "is not a valid URL")
	}
	ch := newChain[T](r, u.RawQuery)
	adopted := ch.adoptUserSID(u)
	q, err := ch.resolve(pageURL)
	if err != nil {
		return nil, err
	}
	p, err := ch.fetch(ctx, q, nil)
	if err == nil && adopted != "" && len(p.Bindings) == 0 {
		// Nothing on the page says the SID is this user's: the URL may be
		// another user's, whose page token skips this user's bindings.
		return nil, pageURLError(pageURL, "names the user by SID "+string(adopted)+", and the page holds no binding that shows it is "+
			excerpt.Quote(r.user, excerpt.Short)+"'s: resume with Users(\""+string(adopted)+"\"), the user the URL names")
	}
	return p, err
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
	page, err := newChain[T](l.ref, l.query).fetch(ctx, l.first(), nil)
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
