package chattest

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	w.Header().Set("Twilio-Request-Id", sid.New(sid.Request))
	if !sleep(r.Context(), time.Duration(s.latency.Load())) {
		return
	}
	if f := s.takeFault(r); f != nil && s.applyFault(w, r, f) {
		return
	}
	s.handle(w, r)
}

// handle serves the three operations of the User Binding resource.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	// Route on the escaped path, so an identity holding "/" or "?" stays
	// one segment, then unescape each segment.
	segs := strings.Split(r.URL.EscapedPath(), "/")
	if len(segs) < 7 || len(segs) > 8 || segs[0] != "" || segs[1] != "v2" || segs[2] != "Services" || segs[4] != "Users" || segs[6] != "Bindings" {
		notFound(w, r)
		return
	}
	for i := 3; i < len(segs); i++ {
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			notFound(w, r)
			return
		}
		segs[i] = v
	}
	switch {
	case len(segs) == 7 && r.Method == http.MethodGet:
		s.list(w, r, segs[3], segs[5])
	case len(segs) == 8 && (r.Method == http.MethodGet || r.Method == http.MethodDelete):
		s.instance(w, r, segs[3], segs[5], segs[7])
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
// order.
type bindingDoc struct {
	SID           string   `json:"sid"`
	AccountSID    string   `json:"account_sid"`
	ServiceSID    string   `json:"service_sid"`
	DateCreated   string   `json:"date_created"`
	DateUpdated   string   `json:"date_updated"`
	Endpoint      string   `json:"endpoint"`
	Identity      string   `json:"identity"`
	UserSID       string   `json:"user_sid"`
	BindingType   string   `json:"binding_type"`
	CredentialSID *string  `json:"credential_sid"`
	MessageTypes  []string `json:"message_types"`
	URL           string   `json:"url"`
}

func (s *Server) doc(b *chat.UserBinding) bindingDoc {
	d := bindingDoc{
		SID:          string(b.SID),
		AccountSID:   string(b.AccountSID),
		ServiceSID:   string(b.ServiceSID),
		DateCreated:  b.DateCreated.UTC().Format(time.RFC3339),
		DateUpdated:  b.DateUpdated.UTC().Format(time.RFC3339),
		Endpoint:     b.Endpoint,
		Identity:     b.Identity,
		UserSID:      string(b.UserSID),
		BindingType:  string(b.BindingType),
		MessageTypes: b.MessageTypes,
		URL:          s.bindingURL(string(b.ServiceSID), string(b.UserSID), string(b.SID)),
	}
	if b.CredentialSID != "" {
		cr := string(b.CredentialSID)
		d.CredentialSID = &cr
	}
	return d
}

func (s *Server) listURL(service, userSID string) string {
	return s.URL + "/v2/Services/" + url.PathEscape(service) + "/Users/" + url.PathEscape(userSID) + "/Bindings"
}

func (s *Server) bindingURL(service, userSID, bs string) string {
	return s.listURL(service, userSID) + "/" + url.PathEscape(bs)
}

func (s *Server) instance(w http.ResponseWriter, r *http.Request, service, userID, bs string) {
	if r.Method == http.MethodGet {
		s.mu.RLock()
		defer s.mu.RUnlock()
	} else {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	u := s.lookupUser(service, userID)
	var e *entry
	if u != nil {
		e = u.bySID[bs]
	}
	if e == nil {
		if r.Method == http.MethodDelete {
			s.removeMisses.Add(1)
		}
		notFound(w, r)
		return
	}
	if r.Method == http.MethodDelete {
		u.remove(e)
		s.removed.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, s.doc(&e.b))
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
	types    []string
	pageSize int
	page     int
	token    string
	forward  bool   // token pages forward (PA) or back (PB)
	seq      uint64 // the token's sequence number
}

func parseListQuery(q url.Values) (listQuery, string) {
	lq := listQuery{pageSize: 50, forward: true}
	for _, t := range q["BindingType"] {
		if !chat.BindingType(t).Known() {
			return lq, "Invalid BindingType: " + strconv.Quote(t) + " is not one of apn, gcm, fcm"
		}
		lq.types = append(lq.types, t)
	}
	if v, ok := q["PageSize"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > 1000 {
			return lq, "PageSize must be an integer from 1 to 1000"
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
	if len(lq.types) == 0 {
		return true
	}
	for _, t := range lq.types {
		if string(e.b.BindingType) == t {
			return true
		}
	}
	return false
}

// encode renders the query for page page with token, in the order the API
// uses: filters, then page size, page and token.
func (lq listQuery) encode(page int, token string) string {
	var b strings.Builder
	for _, t := range lq.types {
		b.WriteString("BindingType=" + url.QueryEscape(t) + "&")
	}
	b.WriteString("PageSize=" + strconv.Itoa(lq.pageSize) + "&Page=" + strconv.Itoa(page))
	if token != "" {
		b.WriteString("&PageToken=" + token)
	}
	return b.String()
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, service, userID string) {
	lq, problem := parseListQuery(r.URL.Query())
	if problem != "" {
		badParam(w, problem)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.lookupUser(service, userID)
	if u == nil {
		notFound(w, r)
		return
	}
	// Collect one page, forward after the token's binding or backward
	// before it, and note whether more match beyond each end.
	var picked []*entry
	moreAfter, moreBefore := false, false
	if lq.forward {
		i := u.after(lq.seq)
		if lq.token == "" {
			i = 0
		}
		for ; i < len(u.entries); i++ {
			if e := u.entries[i]; lq.matches(e) {
				if len(picked) == lq.pageSize {
					moreAfter = true
					break
				}
				picked = append(picked, e)
			}
		}
		moreBefore = lq.token != ""
	} else {
		for i := u.after(lq.seq-1) - 1; i >= 0; i-- {
			if e := u.entries[i]; lq.matches(e) {
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

	base := s.listURL(service, u.sid) + "?"
	doc := pageDoc{
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
		doc.Bindings = append(doc.Bindings, s.doc(&e.b))
	}
	if moreAfter && len(picked) > 0 {
		next := base + lq.encode(lq.page+1, "PA"+strconv.FormatUint(picked[len(picked)-1].seq, 16))
		doc.Meta.NextPageURL = &next
	}
	if moreBefore && len(picked) > 0 && lq.page > 0 {
		prev := base + lq.encode(lq.page-1, "PB"+strconv.FormatUint(picked[0].seq, 16))
		doc.Meta.PreviousPageURL = &prev
	}
	writeJSON(w, http.StatusOK, doc)
}
