package chattest

import (
	"sort"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// The store keeps each user's bindings in one slice ordered by an
// ever-increasing sequence number. A page token names the sequence number
// of the last binding returned, so the next page starts right after it
// wherever deletions have shifted positions: keyset paging, which neither
// skips nor repeats a binding when bindings are removed mid-listing.
// Removal leaves a tombstone that is compacted away once tombstones make up
// half the slice, so removing every binding stays linear.

type service struct {
	sid        string
	users      map[string]*user // by user SID
	byIdentity map[string]*user
}

type user struct {
	sid, identity string
	entries       []*entry // ordered by seq
	bySID         map[string]*entry
	dead          int // tombstones in entries
}

type entry struct {
	seq     uint64
	removed bool
	b       chat.UserBinding
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

// DefaultMessageTypes are the message types a seeded binding subscribes to
// unless told otherwise.
var DefaultMessageTypes = []string{"removed_from_channel", "new_message", "added_to_channel", "invited_to_channel"}

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
	sv := &service{sid: sid.New(sid.Service), users: map[string]*user{}, byIdentity: map[string]*user{}}
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
	u := &user{sid: sid.New(sid.User), identity: identity, bySID: map[string]*entry{}}
	svc.users[u.sid] = u
	svc.byIdentity[identity] = u
	return &User{SID: u.sid, Identity: identity, svc: sv}
}

// AddBinding stores b for the user and returns its SID.
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
		b.Endpoint = "endpoint-" + bs[2:14]
	}
	if b.MessageTypes == nil {
		b.MessageTypes = DefaultMessageTypes
	}
	if b.DateCreated.IsZero() {
		b.DateCreated = time.Now().UTC().Truncate(time.Second)
	}
	if b.DateUpdated.IsZero() {
		b.DateUpdated = b.DateCreated
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	us := s.services[u.svc.SID].users[u.SID]
	s.seq++
	e := &entry{seq: s.seq, b: chat.UserBinding{
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
	us.entries = append(us.entries, e)
	us.bySID[bs] = e
	return bs
}

// Bindings returns the user's bindings that have not been removed, in the
// order they are listed.
func (u *User) Bindings() []chat.UserBinding {
	s := u.svc.srv
	s.mu.RLock()
	defer s.mu.RUnlock()
	us := s.services[u.svc.SID].users[u.SID]
	out := make([]chat.UserBinding, 0, len(us.entries)-us.dead)
	for _, e := range us.entries {
		if !e.removed {
			b := e.b
			b.URL = s.bindingURL(u.svc.SID, u.SID, string(b.SID))
			out = append(out, b)
		}
	}
	return out
}

// lookupUser finds a user of a service by SID or identity; the caller
// holds s.mu.
func (s *Server) lookupUser(service, id string) *user {
	sv := s.services[service]
	if sv == nil {
		return nil
	}
	if u, ok := sv.users[id]; ok {
		return u
	}
	return sv.byIdentity[id]
}

// after returns the index of the first entry with a sequence number above
// seq.
func (u *user) after(seq uint64) int {
	return sort.Search(len(u.entries), func(i int) bool { return u.entries[i].seq > seq })
}

func (u *user) remove(e *entry) {
	e.removed = true
	delete(u.bySID, string(e.b.SID))
	u.dead++
	if u.dead > 64 && u.dead*2 > len(u.entries) {
		live := u.entries[:0]
		for _, e := range u.entries {
			if !e.removed {
				live = append(live, e)
			}
		}
		clear(u.entries[len(live):])
		u.entries, u.dead = live, 0
	}
}

// RemoveBinding removes a binding as another client would, reporting
// whether it was there.
func (u *User) RemoveBinding(bindingSID string) bool {
	s := u.svc.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	us := s.services[u.svc.SID].users[u.SID]
	e := us.bySID[bindingSID]
	if e == nil {
		return false
	}
	us.remove(e)
	return true
}
