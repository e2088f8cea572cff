package chat

import (
	"bytes"
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// All of pagination lives in this file: the first page, following
// meta.next_page_url safely, resuming from a saved URL, and the iterators.

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

// UserBindingPage is one page of a user's bindings, for callers who page by
// hand: to show page metadata, to save Meta.NextPageURL so a long job can
// resume later with UserBindings.PageFromURL, or to process a page at a time.
type UserBindingPage struct {
	Bindings []*UserBinding
	Meta     PageMeta

	chain *pageChain
	depth int // pages before this one in its chain
}

// PageURLError is a next_page_url (or a URL given to PageFromURL) that the
// client refuses to follow: it leaves the list it belongs to, uses another
// scheme or an unknown host, or was already fetched in this listing (a
// server sending the client in a loop). Credentials are never sent to it.
type PageURLError struct {
	URL     string
	Problem string
}

// Error names the URL (shortened) and why it was refused.
func (e *PageURLError) Error() string {
	return "chat: page URL " + excerpt.Quote(e.URL, excerpt.Long) + " " + e.Problem
}

// pageChain is the state shared by the pages of one listing.
type pageChain struct {
	ref  userRef
	path string // the escaped path of the list

	mu      sync.Mutex
	dec     decoder
	seen    map[string]int // query of each page fetched -> its depth
	userSID UserSID        // the user's SID, as the bindings received state it
}

func newChain(ref userRef) *pageChain {
	return &pageChain{ref: ref, path: ref.bindingsPath(), seen: map[string]int{}}
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (ch *pageChain) fetch(ctx context.Context, query string, depth int) (*UserBindingPage, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	req := client.Request{Method: http.MethodGet, Path: ch.path, Query: query}
	resp, err := ch.ref.api.c.Do(ctx, req, buf)
	if err != nil {
		return nil, err
	}
	p := &UserBindingPage{chain: ch, depth: depth}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	hasMeta, err := ch.dec.page(buf.Bytes(), p)
	if err != nil {
		return nil, err
	}
	if !hasMeta {
		return nil, errorDocument(buf.Bytes(), req, resp, &DecodeError{Field: "meta", Err: errMissing})
	}
	if _, ok := ch.seen[query]; !ok {
		ch.seen[query] = depth
	}
	if len(p.Bindings) > 0 && p.Bindings[0].UserSID.Valid() {
		switch got := p.Bindings[0].UserSID; {
		case ch.userSID == "":
			ch.userSID = got
		case got != ch.userSID:
			return nil, &PageURLError{URL: p.Meta.URL, Problem: "returned bindings of user " + string(got) + ", but this listing is of user " + string(ch.userSID)}
		}
	}
	return p, nil
}

// Next fetches the page after p, following Meta.NextPageURL. It returns
// nil, nil when p is the last page.
func (p *UserBindingPage) Next(ctx context.Context) (*UserBindingPage, error) {
	if p == nil || p.Meta.NextPageURL == "" {
		return nil, nil
	}
	if p.chain == nil {
		return nil, &PageURLError{URL: p.Meta.NextPageURL, Problem: "belongs to a page this package did not fetch; use UserBindings.PageFromURL"}
	}
	q, err := p.chain.resolve(p.Meta.NextPageURL)
	if err != nil {
		return nil, err
	}
	p.chain.mu.Lock()
	at, seen := p.chain.seen[q]
	p.chain.mu.Unlock()
	if seen && at <= p.depth {
		return nil, &PageURLError{URL: p.Meta.NextPageURL, Problem: "was already fetched in this listing; the server is sending the client in a loop"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.chain.fetch(ctx, q, p.depth+1)
}

// resolve checks a page URL and returns the query to send. Only the query
// is used: the request goes to the client's own base URL and this list's own
// path, so a hostile next_page_url can neither receive credentials nor
// redirect the listing to another resource.
func (ch *pageChain) resolve(raw string) (string, error) {
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
		return bad("names host " + u.Host + ", which is neither the client's host nor a Twilio API host")
	}
	path := u.EscapedPath()
	if prefix := base.EscapedPath(); prefix != "" && strings.HasPrefix(path, prefix+"/") {
		path = path[len(prefix):]
	}
	if !samePath(path, ch.path) && !ch.sameUserBySID(path) {
		return bad("leaves this list: its path is not " + excerpt.Quote(ch.path, excerpt.Long))
	}
	return u.RawQuery, nil
}

// sameUserBySID accepts a path that names the listed user by SID where the
// listing named it by identity: the API writes page URLs with the user's
// SID. Only the SID that the bindings themselves reported is accepted.
func (ch *pageChain) sameUserBySID(path string) bool {
	ch.mu.Lock()
	us := ch.userSID
	ch.mu.Unlock()
	if us == "" {
		return false
	}
	ref := ch.ref
	ref.user = string(us)
	return samePath(path, ref.bindingsPath())
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

// FirstPage fetches the first page of the user's bindings.
func (f UserBindings) FirstPage(ctx context.Context, params *UserBindingListParams) (*UserBindingPage, error) {
	l, err := f.plan(params)
	if err != nil {
		return nil, err
	}
	return newChain(l.ref).fetch(ctx, l.query, 0)
}

// listing is a listing request validated and encoded once per call.
type listing struct {
	ref      userRef
	query    string
	limit    int
	prefetch bool
}

func (f UserBindings) plan(params *UserBindingListParams) (listing, error) {
	ref := f.ref()
	if err := ref.check(); err != nil {
		return listing{}, err
	}
	q, limit, err := params.prepared()
	if err != nil {
		return listing{}, err
	}
	return listing{ref: ref, query: q, limit: limit, prefetch: params != nil && params.Prefetch}, nil
}

// PageFromURL fetches the page at pageURL, a Meta.NextPageURL saved from an
// earlier listing of the same user's bindings, so a long job can resume
// where it stopped. The URL's filters and page size come with it.
func (f UserBindings) PageFromURL(ctx context.Context, pageURL string) (*UserBindingPage, error) {
	ref := f.ref()
	if err := ref.check(); err != nil {
		return nil, err
	}
	ch := newChain(ref)
	ch.adoptUserSID(pageURL)
	q, err := ch.resolve(pageURL)
	if err != nil {
		return nil, err
	}
	return ch.fetch(ctx, q, 0)
}

// adoptUserSID lets a saved page URL that names the user by SID resume a
// listing addressed by identity. The SID is then held to what the page's
// bindings say (see fetch), so a URL naming someone else fails.
func (ch *pageChain) adoptUserSID(raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	segs := strings.Split(u.EscapedPath(), "/")
	if n := len(segs); n >= 3 {
		if us, err := url.PathUnescape(segs[n-2]); err == nil && UserSID(us).Valid() {
			ch.userSID = UserSID(us)
		}
	}
}

// Pages iterates over the pages of the user's bindings, following
// next_page_url until the last page, or the page that reaches params.Limit.
// An error ends the sequence. Breaking out of the loop stops fetching; with
// params.Prefetch, the page being fetched ahead is cancelled and its
// goroutine waited for before the loop returns.
func (f UserBindings) Pages(ctx context.Context, params *UserBindingListParams) iter.Seq2[*UserBindingPage, error] {
	return func(yield func(*UserBindingPage, error) bool) {
		l, err := f.plan(params)
		if err != nil {
			yield(nil, err)
			return
		}
		l.pages(ctx, yield)
	}
}

// pages yields the listing's pages until the last one, the one that
// reaches the limit, an error, or yield returning false.
func (l listing) pages(ctx context.Context, yield func(*UserBindingPage, error) bool) {
	var ahead *prefetcher
	defer func() { ahead.stop() }()
	page, err := newChain(l.ref).fetch(ctx, l.query, 0)
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

// prefetcher fetches one page in the background.
type prefetcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	page   *UserBindingPage
	err    error
}

func fetchAhead(ctx context.Context, p *UserBindingPage) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	pf := &prefetcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(pf.done)
		pf.page, pf.err = p.Next(ctx)
	}()
	return pf
}

func (pf *prefetcher) wait() (*UserBindingPage, error) {
	<-pf.done
	pf.cancel()
	return pf.page, pf.err
}

// stop abandons the fetch and waits for its goroutine, so none outlives
// the loop.
func (pf *prefetcher) stop() {
	if pf != nil {
		pf.cancel()
		<-pf.done
	}
}

// List iterates over the user's bindings, fetching pages as it goes and
// following next_page_url transparently. It stops after params.Limit
// bindings when Limit is set. An error is yielded once and ends the
// sequence; breaking out of the loop stops fetching. No goroutine is left
// behind either way.
//
//	for b, err := range u.UserBindings.List(ctx, nil) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(b.SID, b.BindingType)
//	}
func (f UserBindings) List(ctx context.Context, params *UserBindingListParams) iter.Seq2[*UserBinding, error] {
	return func(yield func(*UserBinding, error) bool) {
		l, err := f.plan(params)
		if err != nil {
			yield(nil, err)
			return
		}
		n := 0
		l.pages(ctx, func(page *UserBindingPage, err error) bool {
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
