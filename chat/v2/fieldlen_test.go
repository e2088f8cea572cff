package chat_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/twiliochat/twiliochat-go/chat/v2"
)

// TestEveryStringOfABindingIsBoundedTo64KiB: each string of a binding,
// whatever field it is in, may be 64 KiB and no longer; a longer one is a
// *chat.DecodeError naming its field. (Only the scanner's 1 MiB bound once
// held message types and binding types.)
func TestEveryStringOfABindingIsBoundedTo64KiB(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	fields := []struct {
		name string
		json func(v string) string
		got  func(b chat.Binding) string
	}{
		{"endpoint", func(v string) string { return `"endpoint":"` + v + `"` }, func(b chat.Binding) string { return b.Endpoint }},
		{"identity", func(v string) string { return `"identity":"` + v + `"` }, func(b chat.Binding) string { return b.Identity }},
		{"url", func(v string) string { return `"url":"` + v + `"` }, func(b chat.Binding) string { return b.URL }},
		{"links.user", func(v string) string { return `"links":{"user":"` + v + `"}` }, func(b chat.Binding) string { return b.UserURL }},
		{"binding_type", func(v string) string { return `"binding_type":"` + v + `"` }, func(b chat.Binding) string { return string(b.BindingType) }},
		{"message_types", func(v string) string { return `"message_types":["a","` + v + `"]` }, func(b chat.Binding) string { return b.MessageTypes[1] }},
	}
	for _, f := range fields {
		for _, n := range []int{limit, limit + 1} {
			value := strings.Repeat("v", n)
			body := `{"meta":{"key":"bindings"},"bindings":[{"sid":"` + bsSID + `","service_sid":"` + svcSID + `",` + f.json(value) + `}]}`
			api, _ := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) })
			p, err := api.Services(svcSID).Bindings.FirstPage(context.Background(), nil)
			var de *chat.DecodeError
			switch {
			case n <= limit && err != nil:
				t.Errorf("%s of %d bytes: %v, want it decoded", f.name, n, err)
			case n <= limit && f.got(*p.Bindings[0]) != value:
				t.Errorf("%s of %d bytes decoded as %d bytes", f.name, n, len(f.got(*p.Bindings[0])))
			case n > limit && !errors.As(err, &de):
				t.Errorf("%s of %d bytes: %v, want a *chat.DecodeError", f.name, n, err)
			case n > limit && !strings.HasPrefix(de.Field, "bindings[0]."+strings.SplitN(f.name, ".", 2)[0]):
				t.Errorf("%s of %d bytes: the error names field %q", f.name, n, de.Field)
			}
		}
	}
}
