package chattest

import (
	"slices"
	"sort"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// The store keeps every binding twice in order, by pointer: in its user's
// list and in its service's list, each ordered by an ever-increasing
// sequence number. A page token names the sequence number of the last
// binding returned, so the next page starts right after it wherever
// deletions have shifted positions: keyset paging, which neither skips nor
// repeats a binding when bindings are removed mid-listing. A removal marks
// the one entry, so it is gone from both lists at once, and leaves a
// tombstone in each that is compacted away once tombstones make up half
// the list, so removing every binding stays linear.

type service struct {
	sid        string
	users      map[string]*user // by user SID
	byIdentity map[string]*user
	bindings   map[string]*entry // live bindings by SID
	all        entryList         // every binding of the service
}

type user struct {
	sid, identity string
	list          entryList
}

type entry struct {
	seq     uint64
	removed bool
	user    *user
	b       chat.UserBinding
}

// entryList is one ordered list of bindings, with tombstones.
type entryList struct {
	entries []*entry // ordered by seq
	dead    int      // tombstones in entries
}

// after returns the index of the first entry with a sequence number above
// seq.
func (l *entryList) after(seq uint64) int {
	return sort.Search(len(l.entries), func(i int) bool { return l.entries[i].seq > seq })
}

// live counts the entries that are not tombstones.
func (l *entryList) live() int { return len(l.entries) - l.dead }

// buried notes that one of the entries was removed, compacting when
// tombstones have become half the list.
func (l *entryList) buried() {
	l.dead++
	if l.dead > 64 && l.dead*2 > len(l.entries) {
		live := l.entries[:0]
		for _, e := range l.entries {
			if !e.removed {
				live = append(live, e)
			}
		}
		clear(l.entries[len(live):])
		l.entries, l.dead = live, 0
	}
}

// remove deletes e from its user's and its service's lists.
func (sv *service) remove(e *entry) {
	e.removed = true
	delete(sv.bindings, sid.Canonical(string(e.b.SID)))
	e.user.list.buried()
	sv.all.buried()
}

// Binding describes a binding to seed. Zero fields get defaults: type fcm,
// an endpoint derived from the SID, the four message types of the docs,
// no credential, and the current time.
type Binding struct {
	SID           string // BS…; generated when empty
	Type          chat.BindingType
	Endpoint      string
	MessageTypes  []string
	CredentialSID string // CR…, or empty for null
	DateCreated   time.Time
	DateUpdated   time.Time // defaults to DateCreated
}

// DefaultMessageTypes returns the message types a seeded binding
// subscribes to unless told otherwise: a new slice each time, so no caller
// can change what later seeds get.
func DefaultMessageTypes() []string {
	return []string{"removed_from_channel", "new_message", "added_to_channel", "invited_to_channel"}
}

// Service is a Chat service of the emulator, for seeding. Get one from
// Server.AddService: a Service that is not one of an emulator's (a zero
// Service, or one whose SID was changed to a service the emulator does not
// have) seeds nothing and holds no bindings; its methods never panic.
type Service struct {
	SID string
	srv *Server
}

// User is a user of an emulated service, for seeding and inspection. Get
// one from Service.AddUser: on a User that is not one of an emulator's (a
// zero User, or one whose SID was changed), the methods do nothing and
// report nothing there, and never panic.
type User struct {
	SID      string
	Identity string
	svc      *Service
}

// AddService creates a service with a new SID. A zero Server, which is not
// running, stores it all the same: seeding it and reading the seeds back
// work, though nothing serves them. A nil Server gives a Service that is no
// emulator's, which seeds nothing.
func (s *Server) AddService() *Service {
	if s == nil {
		return &Service{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.services == nil {
		s.services = map[string]*service{}
	}
	sv := &service{sid: sid.New(sid.Service), users: map[string]*user{}, byIdentity: map[string]*user{}, bindings: map[string]*entry{}}
	s.services[sv.sid] = sv
	return &Service{SID: sv.sid, srv: s}
}

// server is the emulator sv belongs to, nil for a Service not made by
// AddService.
func (sv *Service) server() *Server {
	if sv == nil {
		return nil
	}
	return sv.srv
}

// stored is the service sv names in s; nil when it names none. The caller
// holds s.mu.
func (sv *Service) stored(s *Server) *service { return s.services[sid.Canonical(sv.SID)] }

// server is the emulator u belongs to, nil for a User not made by AddUser.
func (u *User) server() *Server {
	if u == nil {
		return nil
	}
	return u.svc.server()
}

// stored is the service and user u names in s; nils when it names none.
// The caller holds s.mu.
func (u *User) stored(s *Server) (*service, *user) {
	sv := u.svc.stored(s)
	if sv == nil {
		return nil, nil
	}
	us := sv.users[sid.Canonical(u.SID)]
	if us == nil {
		return nil, nil
	}
	return sv, us
}

// AddUser creates a user with identity and a new SID, or returns the user
// that already has that identity. On a Service that is not one of an
// emulator's it creates nothing, and returns a User with that identity and
// no SID, whose methods do nothing.
func (sv *Service) AddUser(identity string) *User {
	s := sv.server()
	if s == nil {
		return &User{Identity: identity}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := sv.stored(s)
	if svc == nil {
		return &User{Identity: identity}
	}
	if u, ok := svc.byIdentity[identity]; ok {
		return &User{SID: u.sid, Identity: u.identity, svc: sv}
	}
	u := &user{sid: sid.New(sid.User), identity: identity}
	svc.users[u.sid] = u
	svc.byIdentity[identity] = u
	return &User{SID: u.sid, Identity: identity, svc: sv}
}

// AddBinding stores b for the user and returns its SID. A binding of the
// service with the same SID (in either case) is replaced. A SID that is not
// one (BS and 32 hex digits) is stored as given, for tests of what a
// client does with a malformed answer. On a User that is not one of an
// emulator's it stores nothing and returns "".
func (u *User) AddBinding(b Binding) string {
	s := u.server()
	if s == nil {
		return ""
	}
	bs := b.SID
	if bs == "" {
		bs = sid.New(sid.Binding)
	}
	if b.Type == "" {
		b.Type = chat.BindingTypeFCM
	}
	if b.Endpoint == "" {
		b.Endpoint = "endpoint-" + bs[min(2, len(bs)):min(14, len(bs))]
	}
	if b.MessageTypes == nil {
		b.MessageTypes = DefaultMessageTypes()
	}
	if b.DateCreated.IsZero() {
		b.DateCreated = time.Now().UTC().Truncate(time.Second)
	}
	if b.DateUpdated.IsZero() {
		b.DateUpdated = b.DateCreated
	}
	key := sid.Canonical(bs)
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, us := u.stored(s)
	if us == nil {
		return ""
	}
	if old := sv.bindings[key]; old != nil {
		sv.remove(old) // a SID is one binding, in either case: the new seed replaces it
	}
	s.seq++
	e := &entry{seq: s.seq, user: us, b: chat.UserBinding{
		SID:           chat.BindingSID(bs),
		AccountSID:    chat.AccountSID(s.AccountSID),
		ServiceSID:    chat.ServiceSID(sv.sid),
		UserSID:       chat.UserSID(us.sid),
		CredentialSID: chat.CredentialSID(b.CredentialSID),
		DateCreated:   b.DateCreated.UTC(),
		DateUpdated:   b.DateUpdated.UTC(),
		Endpoint:      b.Endpoint,
		Identity:      u.Identity,
		BindingType:   b.Type,
		MessageTypes:  append([]string(nil), b.MessageTypes...),
	}}
	us.list.entries = append(us.list.entries, e)
	sv.all.entries = append(sv.all.entries, e)
	sv.bindings[key] = e
	return bs
}

// Bindings returns the user's bindings that have not been removed, in the
// order they are listed, as the User Binding resource gives them. They are
// copies: changing them changes nothing in the emulator. A User that is not
// one of an emulator's has none (nil).
func (u *User) Bindings() []chat.UserBinding {
	s := u.server()
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, us := u.stored(s)
	if us == nil {
		return nil
	}
	out := make([]chat.UserBinding, 0, us.list.live())
	for _, e := range us.list.entries {
		if !e.removed {
			out = append(out, e.userBinding(s.URL))
		}
	}
	return out
}

// Bindings returns every binding of the service that has not been removed,
// in the order the service-wide list gives them, as the Binding resource
// gives them (with the user's URL, without the user's SID). They are
// copies: changing them changes nothing in the emulator. A Service that is
// not one of an emulator's has none (nil).
func (sv *Service) Bindings() []chat.Binding {
	s := sv.server()
	if s == nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	svc := sv.stored(s)
	if svc == nil {
		return nil
	}
	out := make([]chat.Binding, 0, svc.all.live())
	for _, e := range svc.all.entries {
		if !e.removed {
			out = append(out, e.binding(s.URL))
		}
	}
	return out
}

// userBinding is e as the User Binding resource on origin gives it.
func (e *entry) userBinding(origin string) chat.UserBinding {
	b := e.b
	b.MessageTypes = slices.Clone(b.MessageTypes)
	b.URL = origin + userListPath(string(b.ServiceSID), string(b.UserSID)) + "/" + string(b.SID)
	return b
}

// binding is e as the service-wide Binding resource on origin gives it.
func (e *entry) binding(origin string) chat.Binding {
	b := &e.b
	return chat.Binding{
		SID:           b.SID,
		AccountSID:    b.AccountSID,
		ServiceSID:    b.ServiceSID,
		CredentialSID: b.CredentialSID,
		DateCreated:   b.DateCreated,
		DateUpdated:   b.DateUpdated,
		Endpoint:      b.Endpoint,
		Identity:      b.Identity,
		BindingType:   b.BindingType,
		MessageTypes:  slices.Clone(b.MessageTypes),
		URL:           origin + serviceListPath(string(b.ServiceSID)) + "/" + string(b.SID),
		UserURL:       origin + userPath(string(b.ServiceSID), string(b.UserSID)),
	}
}

// lookupUser finds a user of a service by SID (in either case, as the
// API's pattern allows) or identity; the caller holds s.mu.
func (s *Server) lookupUser(service, id string) *user {
	sv := s.services[sid.Canonical(service)]
	if sv == nil {
		return nil
	}
	if u, ok := sv.users[sid.Canonical(id)]; ok {
		return u
	}
	return sv.byIdentity[id]
}

// RefreshBinding sets a binding's date_updated to at, as the API does when
// the device registers again, reporting whether the binding was there (it
// never is for a User that is not one of an emulator's).
func (u *User) RefreshBinding(bindingSID string, at time.Time) bool {
	s := u.server()
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, us := u.stored(s)
	if us == nil {
		return false
	}
	e := sv.bindings[sid.Canonical(bindingSID)]
	if e == nil || e.user != us {
		return false
	}
	e.b.DateUpdated = at.UTC().Truncate(time.Second)
	return true
}

// RemoveBinding removes a binding as another client would, reporting
// whether it was there (it never is for a User that is not one of an
// emulator's).
func (u *User) RemoveBinding(bindingSID string) bool {
	s := u.server()
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, us := u.stored(s)
	if us == nil {
		return false
	}
	e := sv.bindings[sid.Canonical(bindingSID)]
	if e == nil || e.user != us {
		return false
	}
	sv.remove(e)
	return true
}
