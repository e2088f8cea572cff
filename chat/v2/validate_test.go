package chat

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twiliochat/twiliochat-go/client"
)

// badSIDs are malformed in every way the tests know of; all must be rejected
// for both the service and the binding SID, with no request sent.
var badSIDs = []string{
	"", "IS", "BS", "IS0123456789abcdef0123456789abcde", "IS0123456789abcdef0123456789abcdef0",
	"is0123456789abcdef0123456789abcdef", "Is0123456789abcdef0123456789abcdef", "XX0123456789abcdef0123456789abcdef",
	"ISg123456789abcdef0123456789abcdef", "IS0123456789abcdef0123456789abcdeZ", " IS0123456789abcdef0123456789abcde",
	"IS0123456789abcdef0123456789abcde ", "IS0123456789abcdef0123456789abcd\t", "IS0123456789abcdef0123456789abcd\n",
	"IS0123456789abcdef0123456789abc\x00f", "IS0123456789abcdef0123456789abcd\x7f", "IS0123456789abcdef0123456789abcdé",
	"IS０123456789abcdef0123456789abcde", "IS0123456789abcdef/0123456789abcd", "IS0123456789abcdef?0123456789abcd",
	"IS0123456789abcdef#0123456789abcd", "IS0123456789abcdef%0123456789abcd", "..", ".", "IS../../../../../../../../../../..",
	"IS0123456789ABCDEF0123456789ABCDEFF", "US0123456789abcdef0123456789abcdef", "AC0123456789abcdef0123456789abcdef",
	"IS-123456789abcdef0123456789abcdef", "IS 0123456789abcdef0123456789abcde", "ＩＳ0123456789abcdef0123456789abcdef",
}

func TestInvalidInputSendsNothing(t *testing.T) {
	t.Parallel()
	api, mt := newTestAPI(t)
	ctx := context.Background()
	type call struct {
		name  string
		param string
		do    func() error
	}
	var calls []call
	for _, bad := range badSIDs {
		svc := strings.Replace(bad, "BS", "IS", 1)
		bs := strings.Replace(bad, "IS", "BS", 1)
		calls = append(calls,
			call{"service " + svc, "ServiceSid", func() error {
				_, err := api.Services(svc).Users("alice").UserBindings(testBinding).Fetch(ctx)
				return err
			}},
			call{"binding " + bs, "Sid", func() error { return api.Services(testService).Users("alice").UserBindings(bs).Remove(ctx) }},
			call{"list service " + svc, "ServiceSid", func() error {
				for _, err := range api.Services(svc).Users("alice").UserBindings.List(ctx, nil) {
					return err
				}
				return nil
			}},
		)
	}
	for _, user := range []string{"", ".", "..", "a\xffb"} {
		calls = append(calls, call{"user " + user, "UserSid", func() error {
			_, err := api.Services(testService).Users(user).UserBindings(testBinding).Fetch(ctx)
			return err
		}})
	}
	list := func(p *UserBindingListParams) func() error {
		return func() error {
			_, err := api.Services(testService).Users("alice").UserBindings.FirstPage(ctx, p)
			return err
		}
	}
	calls = append(calls,
		call{"page size 0 minus 1", "PageSize", list(&UserBindingListParams{PageSize: -1})},
		call{"page size 1001", "PageSize", list(&UserBindingListParams{PageSize: 1001})},
		call{"limit -1", "Limit", list(&UserBindingListParams{Limit: -1})},
		call{"binding type voip", "BindingType", list(&UserBindingListParams{BindingType: []BindingType{BindingTypeAPN, "voip"}})},
		call{"binding type upper", "BindingType", list(&UserBindingListParams{BindingType: []BindingType{"APN"}})},
		call{"binding type empty", "BindingType", list(&UserBindingListParams{BindingType: []BindingType{""}})},
	)
	for _, c := range calls {
		err := c.do()
		var ve *client.ValidationError
		if !errors.As(err, &ve) || ve.Param != c.param || !errors.Is(err, client.ErrInvalidParameter) {
			t.Errorf("%s: err = %v, want a ValidationError for %s", c.name, err, c.param)
			continue
		}
		if ve.Rule == "" || !strings.Contains(err.Error(), c.param) {
			t.Errorf("%s: message %q does not name the parameter and rule", c.name, err)
		}
	}
	if n := mt.GetTotalCallCount(); n != 0 {
		t.Fatalf("%d requests were sent for invalid input", n)
	}
	if len(badSIDs) < 30 {
		t.Fatalf("only %d malformed SIDs tried", len(badSIDs))
	}
}

func TestValidPageSizesAccepted(t *testing.T) {
	t.Parallel()
	// The seed allows up to 1000 even though the current OpenAPI text says 50.
	for _, n := range []int{0, 1, 50, 51, 999, 1000} {
		if _, err := (&UserBindingListParams{PageSize: n}).listQuery().encode(); err != nil {
			t.Errorf("PageSize %d rejected: %v", n, err)
		}
	}
}

func TestNilHandlesDoNotPanic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var nilAPI *API
	if _, err := nilAPI.Services(testService).Users("a").UserBindings(testBinding).Fetch(ctx); err == nil {
		t.Error("Fetch through a nil API succeeded")
	}
	if _, err := New(nil).Services(testService).Users("a").UserBindings.FirstPage(ctx, nil); err == nil {
		t.Error("FirstPage through a nil client succeeded")
	}
	var u UserHandle
	for _, err := range u.UserBindings.List(ctx, nil) {
		if err == nil {
			t.Error("List on a zero UserHandle yielded a binding")
		}
	}
	var h UserBindingHandle
	if err := h.Remove(ctx); err == nil {
		t.Error("Remove on a zero handle succeeded")
	}
	var p *UserBindingPage
	if next, err := p.Next(ctx); next != nil || err != nil {
		t.Error("Next on a nil page")
	}
}
