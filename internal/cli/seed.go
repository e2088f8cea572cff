package cli

import (
	"fmt"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
)

var bindingTypes = []chat.BindingType{chat.BindingTypeAPN, chat.BindingTypeGCM, chat.BindingTypeFCM}

// SeedSmall gives the demo user three bindings of each type, last updated
// 1 to 9 weeks ago.
func SeedSmall(svc *chattest.Service) []string {
	u := svc.AddUser(Identity)
	now := time.Now().UTC().Truncate(time.Second)
	for i := 0; i < 9; i++ {
		t := now.Add(-time.Duration(i+1) * 7 * 24 * time.Hour)
		u.AddBinding(chattest.Binding{Type: bindingTypes[i%3], DateCreated: t.Add(-time.Hour), DateUpdated: t, Endpoint: fmt.Sprintf("device-token-%02d", i+1)})
	}
	return []string{Identity}
}

// DemoUsers are the identities SeedUsers creates.
var DemoUsers = []string{Identity, "alice@example.com", "US bob (on-call)"}

// SeedUsers gives each of DemoUsers perUser bindings, cycling through the
// three types, the i-th of a user's last updated an hour less than
// i·days/perUser days ago: with 120 days and -older-than 720h, three
// quarters of them are stale. The hour keeps every binding off the edge of
// an -older-than of whole days, which the API's clock, read a second after
// the seeding, would otherwise tip over.
func SeedUsers(perUser int, days int) func(*chattest.Service) []string {
	return func(svc *chattest.Service) []string {
		now := time.Now().UTC().Truncate(time.Second)
		for _, id := range DemoUsers {
			u := svc.AddUser(id)
			for i := 0; i < perUser; i++ {
				age := time.Duration(i+1)*time.Duration(days)*24*time.Hour/time.Duration(perUser) - time.Hour
				t := now.Add(-age)
				u.AddBinding(chattest.Binding{Type: bindingTypes[i%3], DateCreated: t.Add(-time.Hour), DateUpdated: t})
			}
		}
		return DemoUsers
	}
}
