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

// TestZeroHandlesSayHowToBuildOne: every verb of a handle that was not built
// from chat.New(c).Services(…) fails, without a request or a panic, with a
// *client.ConfigError that says how to build one.
func TestZeroHandlesSayHowToBuildOne(t *testing.T) {
	t.Parallel()
	first := func(seq func(func(*UserBinding, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	firstB := func(seq func(func(*Binding, error) bool)) error {
		for _, err := range seq {
			return err
		}
		return nil
	}
	keep := func(*UserBinding) bool { return false }
	keepB := func(*Binding) bool { return false }
	var zs ServiceHandle
	var zu UserHandle
	var ub UserBindingHandle
	var b BindingHandle
	var nilAPI *API
	cases := []struct {
		name string
		call func(ctx context.Context) error
		want string
	}{
		{"UserBindingHandle{}.Fetch", func(ctx context.Context) error { _, err := ub.Fetch(ctx); return err }, "chat.New(c).Services"},
		{"UserBindingHandle{}.Remove", func(ctx context.Context) error { return ub.Remove(ctx) }, "chat.New(c).Services"},
		{"UserBindingHandle{}.RemoveIf", func(ctx context.Context) error { _, err := ub.RemoveIf(ctx, keep); return err }, "chat.New(c).Services"},
		{"BindingHandle{}.Fetch", func(ctx context.Context) error { _, err := b.Fetch(ctx); return err }, "chat.New(c).Services"},
		{"BindingHandle{}.Remove", func(ctx context.Context) error { return b.Remove(ctx) }, "chat.New(c).Services"},
		{"BindingHandle{}.RemoveIf", func(ctx context.Context) error { _, err := b.RemoveIf(ctx, keepB); return err }, "chat.New(c).Services"},
		{"ServiceHandle{}.Bindings.List", func(ctx context.Context) error { return firstB(zs.Bindings.List(ctx, nil)) }, "chat.New(c).Services"},
		{"ServiceHandle{}.Bindings.Pages", func(ctx context.Context) error {
			for _, err := range zs.Bindings.Pages(ctx, nil) {
				return err
			}
			return nil
		}, "chat.New(c).Services"},
		{"ServiceHandle{}.Bindings.FirstPage", func(ctx context.Context) error { _, err := zs.Bindings.FirstPage(ctx, nil); return err }, "chat.New(c).Services"},
		{"ServiceHandle{}.Bindings.PageFromURL", func(ctx context.Context) error {
			_, err := zs.Bindings.PageFromURL(ctx, "/v2/Services/"+testService+"/Bindings?PageToken=x")
			return err
		}, "chat.New(c).Services"},
		{"ServiceHandle{}.Users(…).UserBindings(…).Fetch", func(ctx context.Context) error {
			_, err := zs.Users(testUser).UserBindings(testBinding).Fetch(ctx)
			return err
		}, "chat.New(c).Services"},
		{"UserHandle{}.UserBindings.List", func(ctx context.Context) error { return first(zu.UserBindings.List(ctx, nil)) }, "chat.New(c).Services"},
		{"UserHandle{}.UserBindings.FirstPage", func(ctx context.Context) error { _, err := zu.UserBindings.FirstPage(ctx, nil); return err }, "chat.New(c).Services"},
		{"(*API)(nil).Services(…).Bindings(…).Remove", func(ctx context.Context) error {
			return nilAPI.Services(testService).Bindings(testBinding).Remove(ctx)
		}, "chat.New(c).Services"},
		{"chat.New(nil)…Fetch", func(ctx context.Context) error {
			_, err := New(nil).Services(testService).Bindings(testBinding).Fetch(ctx)
			return err
		}, "nil *client.Client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call(context.Background())
			var ce *client.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a *client.ConfigError saying %q", err, tc.want)
			}
		})
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
