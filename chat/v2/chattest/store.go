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

// Service is a Chat service of the emulator, for seeding.
type Service struct {
	SID string
	srv *Server
}

// User is a user of an emulated service, for seeding and inspection.
type User struct {
	SID      string
	Identity string
	svc      *Service
}

// AddService creates a service with a new SID.
func (s *Server) AddService() *Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := &service{sid: sid.New(sid.Service), users: map[string]*user{}, byIdentity: map[string]*user{}, bindings: map[string]*entry{}}
	s.services[sv.sid] = sv
	return &Service{SID: sv.sid, srv: s}
}

// AddUser creates a user with identity and a new SID, or returns the user
// that already has that identity.
func (sv *Service) AddUser(identity string) *User {
	s := sv.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[sv.SID]
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
// client does with a malformed answer.
func (u *User) AddBinding(b Binding) string {
	s := u.svc.srv
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
	sv := s.services[u.svc.SID]
	us := sv.users[u.SID]
	if old := sv.bindings[key]; old != nil {
		sv.remove(old) // a SID is one binding, in either case: the new seed replaces it
	}
	s.seq++
	e := &entry{seq: s.seq, user: us, b: chat.UserBinding{
		SID:           chat.BindingSID(bs),
		AccountSID:    chat.AccountSID(s.AccountSID),
		ServiceSID:    chat.ServiceSID(u.svc.SID),
		UserSID:       chat.UserSID(u.SID),
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
// copies: changing them changes nothing in the emulator.
func (u *User) Bindings() []chat.UserBinding {
	s := u.svc.srv
	s.mu.RLock()
	defer s.mu.RUnlock()
	us := s.services[u.svc.SID].users[u.SID]
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
// copies: changing them changes nothing in the emulator.
func (sv *Service) Bindings() []chat.Binding {
	s := sv.srv
	s.mu.RLock()
	defer s.mu.RUnlock()
	svc := s.services[sv.SID]
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
// the device registers again, reporting whether the binding was there.
func (u *User) RefreshBinding(bindingSID string, at time.Time) bool {
	s := u.svc.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.services[u.svc.SID].bindings[sid.Canonical(bindingSID)]
	if e == nil || e.user.sid != u.SID {
		return false
	}
	e.b.DateUpdated = at.UTC().Truncate(time.Second)
	return true
}

// RemoveBinding removes a binding as another client would, reporting
// whether it was there.
func (u *User) RemoveBinding(bindingSID string) bool {
	s := u.svc.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.services[u.svc.SID]
	e := sv.bindings[sid.Canonical(bindingSID)]
	if e == nil || e.user.sid != u.SID {
		return false
	}
	sv.remove(e)
	return true
}
