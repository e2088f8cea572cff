package chattest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/pause"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	w.Header().Set("Twilio-Request-Id", sid.New(sid.Request))
	w.Header().Set("Date", time.Now().Add(time.Duration(s.skew.Load())).UTC().Format(http.TimeFormat))
	if !s.enter() {
		s.refusedInFlight.Add(1)
		s.tooManyRequests(w)
		return
	}
	defer s.leave()
	if !pause.For(r.Context(), time.Duration(s.latency.Load())) {
		return
	}
	if f := s.takeFault(r); f != nil && s.applyFault(w, r, f) {
		return
	}
	s.handle(w, r)
}

// target is what a request's path names: one user's bindings or a
// service's, and one binding of them when sid is set.
type target struct {
	service string
	user    string // a user SID or identity, when perUser
	perUser bool
	sid     string
}

// route reads a path of the User Binding or the Binding resource,
// unescaping each segment after splitting on the escaped path, so that an
// identity holding "/" or "?" stays one segment.
func route(escapedPath string) (target, bool) {
	segs := strings.Split(escapedPath, "/")
	if len(segs) < 5 || segs[0] != "" || segs[1] != "v2" || segs[2] != "Services" {
		return target{}, false
	}
	for i := 3; i < len(segs); i++ {
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return target{}, false
		}
		segs[i] = v
	}
	t := target{service: segs[3]}
	rest := segs[4:]
	if len(rest) >= 3 && rest[0] == "Users" {
		t.user, t.perUser, rest = rest[1], true, rest[2:]
	}
	switch {
	case len(rest) == 1 && rest[0] == "Bindings":
	case len(rest) == 2 && rest[0] == "Bindings":
		t.sid = rest[1]
	default:
		return target{}, false
	}
	return t, true
}

// handle serves the three operations of the User Binding resource and the
// three of the service-wide Binding resource.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	t, ok := route(r.URL.EscapedPath())
	switch {
	case !ok:
		notFound(w, r)
	case t.sid == "" && r.Method == http.MethodGet:
		s.list(w, r, t)
	case t.sid != "" && r.Method == http.MethodDelete && !s.admitWrite(sid.Canonical(t.service)):
		s.refusedWrites.Add(1)
		s.tooManyRequests(w)
	case t.sid != "" && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		s.instance(w, r, t)
	default:
		w.Header().Set("Allow", "GET, DELETE")
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
}

func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	return ok && (eq(user, s.AccountSID) && eq(pass, s.AuthToken) || eq(user, s.APIKeySID) && eq(pass, s.APIKeySecret))
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	body, _ := json.Marshal(map[string]any{
		"code":      code,
		"message":   msg,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
		"status":    status,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, 20404, "The requested resource "+strings.TrimPrefix(r.URL.Path, "/v2")+" was not found")
}

func badParam(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusBadRequest, 20001, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bindingDoc is a binding as the API renders it, fields in the documented
// order: UserSID only in the per-user resource, Links only in the
// service-wide one.
type bindingDoc struct {
	SID           string    `json:"sid"`
	AccountSID    string    `json:"account_sid"`
	ServiceSID    string    `json:"service_sid"`
	DateCreated   string    `json:"date_created"`
	DateUpdated   string    `json:"date_updated"`
	Endpoint      string    `json:"endpoint"`
	Identity      string    `json:"identity"`
	UserSID       *string   `json:"user_sid,omitempty"`
	BindingType   string    `json:"binding_type"`
	CredentialSID *string   `json:"credential_sid"`
	MessageTypes  []string  `json:"message_types"`
	URL           string    `json:"url"`
	Links         *linksDoc `json:"links,omitempty"`
}

type linksDoc struct {
	User string `json:"user"`
}

func userPath(service, userSID string) string {
	return "/v2/Services/" + url.PathEscape(service) + "/Users/" + url.PathEscape(userSID)
}

func userListPath(service, userSID string) string {
	return userPath(service, userSID) + "/Bindings"
}

func serviceListPath(service string) string {
	return "/v2/Services/" + url.PathEscape(service) + "/Bindings"
}

// doc renders e as the resource t addresses renders it, with absolute URLs
// on origin.
func doc(e *entry, perUser bool, origin string) bindingDoc {
	b := &e.b
	d := bindingDoc{
		SID:          string(b.SID),
		AccountSID:   string(b.AccountSID),
		ServiceSID:   string(b.ServiceSID),
		DateCreated:  b.DateCreated.UTC().Format(time.RFC3339),
		DateUpdated:  b.DateUpdated.UTC().Format(time.RFC3339),
		Endpoint:     b.Endpoint,
		Identity:     b.Identity,
		BindingType:  string(b.BindingType),
		MessageTypes: b.MessageTypes,
	}
	if perUser {
		us := string(b.UserSID)
		d.UserSID = &us
		d.URL = origin + userListPath(string(b.ServiceSID), us) + "/" + url.PathEscape(string(b.SID))
	} else {
		d.URL = origin + serviceListPath(string(b.ServiceSID)) + "/" + url.PathEscape(string(b.SID))
		d.Links = &linksDoc{User: origin + userPath(string(b.ServiceSID), string(b.UserSID))}
	}
	if b.CredentialSID != "" {
		cr := string(b.CredentialSID)
		d.CredentialSID = &cr
	}
	return d
}

// origin is the scheme and host that page and binding URLs are written on:
// the one the client asked for (the request's Host), or what a reverse
// proxy in front says it was (X-Forwarded-Host, X-Forwarded-Proto), so a
// client behind a proxy is sent back through it.
func (s *Server) origin(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if h, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ","); validHost(strings.TrimSpace(h)) {
		host = strings.TrimSpace(h)
	}
	if p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ","); strings.TrimSpace(p) == "http" || strings.TrimSpace(p) == "https" {
		scheme = strings.TrimSpace(p)
	}
	if !validHost(host) {
		return s.URL
	}
	return scheme + "://" + host
}

// validHost accepts a host[:port] and nothing that could change the shape
// of a URL written with it.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.User == nil && u.Path == ""
}

// lookup finds the binding t names, nil when there is none: a binding of
// another user is not found under this one.
func (s *Server) lookup(t target) (*service, *entry) {
	sv := s.services[sid.Canonical(t.service)]
	if sv == nil {
		return nil, nil
	}
	e := sv.bindings[sid.Canonical(t.sid)]
	if e != nil && t.perUser && s.lookupUser(t.service, t.user) != e.user {
		e = nil
	}
	return sv, e
}

func (s *Server) instance(w http.ResponseWriter, r *http.Request, t target) {
	if r.Method == http.MethodGet {
		s.mu.RLock()
		defer s.mu.RUnlock()
	} else {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	sv, e := s.lookup(t)
	if e == nil {
		if r.Method == http.MethodDelete {
			s.removeMisses.Add(1)
		}
		notFound(w, r)
		return
	}
	if r.Method == http.MethodDelete {
		sv.remove(e)
		s.removed.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, doc(e, t.perUser, s.origin(r)))
}

type metaDoc struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

type pageDoc struct {
	Meta     metaDoc      `json:"meta"`
	Bindings []bindingDoc `json:"bindings"`
}

// listQuery is a parsed and validated list request.
type listQuery struct {
	types      []string
	identities []string // the service-wide list only
	pageSize   int
	page       int
	token      string
	forward    bool   // token pages forward (PA) or back (PB)
	seq        uint64 // the token's sequence number
}

func parseListQuery(q url.Values, maxPageSize int) (listQuery, string) {
	lq := listQuery{pageSize: 50, forward: true}
	for _, t := range q["BindingType"] {
		if !chat.BindingType(t).Known() {
			return lq, "Invalid BindingType: " + strconv.Quote(t) + " is not one of apn, gcm, fcm"
		}
		lq.types = append(lq.types, t)
	}
	lq.identities = q["Identity"]
	if v, ok := q["PageSize"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPageSize {
			return lq, maxPageSizeProblem(maxPageSize)
		}
		lq.pageSize = n
	}
	if v, ok := q["Page"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 {
			return lq, "Page must be a non-negative integer"
		}
		lq.page = n
	}
	lq.token = q.Get("PageToken")
	if lq.page > 0 && lq.token == "" {
		return lq, "PageToken is required for paging"
	}
	if lq.token != "" {
		seq, err := strconv.ParseUint(lq.token[min(2, len(lq.token)):], 16, 64)
		if err != nil || (lq.token[:2] != "PA" && lq.token[:2] != "PB") {
			return lq, "Invalid PageToken"
		}
		lq.forward, lq.seq = lq.token[:2] == "PA", seq
	}
	return lq, ""
}

func (lq listQuery) matches(e *entry) bool {
	if e.removed {
		return false
	}
	return (len(lq.types) == 0 || slices.Contains(lq.types, string(e.b.BindingType))) &&
		(len(lq.identities) == 0 || slices.Contains(lq.identities, e.user.identity))
}

// encode renders the query for page page with token, in the order the API
// uses: filters, then page size, page and token.
func (lq listQuery) encode(page int, token string) string {
	var b strings.Builder
	for _, t := range lq.types {
		b.WriteString("BindingType=" + url.QueryEscape(t) + "&")
	}
	for _, id := range lq.identities {
		b.WriteString("Identity=" + url.QueryEscape(id) + "&")
	}
	b.WriteString("PageSize=" + strconv.Itoa(lq.pageSize) + "&Page=" + strconv.Itoa(page))
	if token != "" {
		b.WriteString("&PageToken=" + token)
	}
	return b.String()
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, t target) {
	lq, problem := parseListQuery(r.URL.Query(), s.currentLimits().MaxPageSize)
	if problem != "" {
		if strings.HasPrefix(problem, "PageSize") {
			s.refusedPageSize.Add(1)
		}
		badParam(w, problem)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	origin := s.origin(r)
	var l *entryList
	var base string
	if t.perUser {
		lq.identities = nil // not a parameter of the per-user list
		u := s.lookupUser(t.service, t.user)
		if u == nil {
			notFound(w, r)
			return
		}
		l, base = &u.list, origin+userListPath(sid.Canonical(t.service), u.sid)+"?"
	} else {
		sv := s.services[sid.Canonical(t.service)]
		if sv == nil {
			notFound(w, r)
			return
		}
		l, base = &sv.all, origin+serviceListPath(sv.sid)+"?"
	}
	// Collect one page, forward after the token's binding or backward
	// before it, and note whether more match beyond each end.
	var picked []*entry
	moreAfter, moreBefore := false, false
	if lq.forward {
		i := l.after(lq.seq)
		if lq.token == "" {
			i = 0
		}
		for ; i < len(l.entries); i++ {
			if e := l.entries[i]; lq.matches(e) {
				if len(picked) == lq.pageSize {
					moreAfter = true
					break
				}
				picked = append(picked, e)
			}
		}
		moreBefore = lq.token != ""
	} else {
		for i := l.after(lq.seq-1) - 1; i >= 0; i-- {
			if e := l.entries[i]; lq.matches(e) {
				if len(picked) == lq.pageSize {
					moreBefore = true
					break
				}
				picked = append(picked, e)
			}
		}
		for i, j := 0, len(picked)-1; i < j; i, j = i+1, j-1 {
			picked[i], picked[j] = picked[j], picked[i]
		}
		moreAfter = true
	}

	page := pageDoc{
		Meta: metaDoc{
			Page:         lq.page,
			PageSize:     lq.pageSize,
			FirstPageURL: base + lq.encode(0, ""),
			URL:          base + lq.encode(lq.page, lq.token),
			Key:          "bindings",
		},
		Bindings: make([]bindingDoc, 0, len(picked)),
	}
	for _, e := range picked {
		page.Bindings = append(page.Bindings, doc(e, t.perUser, origin))
	}
	if moreAfter && len(picked) > 0 {
		next := base + lq.encode(lq.page+1, "PA"+strconv.FormatUint(picked[len(picked)-1].seq, 16))
		page.Meta.NextPageURL = &next
	}
	if moreBefore && len(picked) > 0 && lq.page > 0 {
		prev := base + lq.encode(lq.page-1, "PB"+strconv.FormatUint(picked[0].seq, 16))
		page.Meta.PreviousPageURL = &prev
	}
	writeJSON(w, http.StatusOK, page)
}
