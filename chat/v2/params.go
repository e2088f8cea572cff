package chat

import (
	"strconv"
	"unicode/utf8"

	"github.com/google/go-querystring/query"
	"github.com/twiliochat/twiliochat-go/client"
)

// Page sizes. The seed documentation of both lists allows PageSize 1 to
// 1000; the current OpenAPI description of the API says 1 to 50, and
// whether the live API rejects or clamps a larger one is not known. So the
// package never chooses more than AutoPageSize by itself, and sends an
// explicit PageSize up to MaxPageSize as asked.
const (
	// MaxPageSize is the largest PageSize the package accepts, and the most
	// bindings it accepts on one page.
	MaxPageSize = 1000
	// AutoPageSize is the largest page size the package picks by itself
	// (from a Limit), and the API's default.
	AutoPageSize = 50
)

// UserBindingListParams filters and sizes a listing of a user's bindings.
// The zero value (or nil) lists every binding in pages of the server's
// default size (50). Methods never modify the params they are given.
type UserBindingListParams struct {
	// BindingType keeps only bindings of these types; sent as one
	// BindingType query parameter per value. Every binding yielded is
	// checked against it.
	BindingType []BindingType
	// PageSize is how many bindings each request returns, 1 to 1000,
	// sent as given; 0 leaves it to the server (50). The current API
	// description allows at most 50: above that, a server may answer 400.
	PageSize int
	// Limit stops a List after this many bindings; 0 means no limit. When
	// PageSize is 0, a Limit also sets the page size to min(Limit, 50), so
	// a small Limit costs one small request.
	Limit int
	// Prefetch fetches the next page while the caller works on the current
	// one, hiding the API's latency behind the caller's. It costs one
	// goroutine per listing, stopped and waited for when the loop ends, and
	// at most one page fetched and not used when the caller breaks early.
	Prefetch bool
}

// BindingListParams filters and sizes a listing of a service's bindings.
// Its fields mean what they mean in UserBindingListParams, and Identity
// keeps only the bindings of users with these identities. The zero value
// (or nil) lists every binding of the service. Methods never modify the
// params they are given.
type BindingListParams struct {
	// BindingType keeps only bindings of these types; sent as one
	// BindingType query parameter per value.
	BindingType []BindingType
	// Identity keeps only the bindings of the users with these identities
	// (exact matches, any strings but empty ones); sent as one Identity
	// query parameter per value. Every binding yielded is checked against
	// it.
	Identity []string
	// PageSize is how many bindings each request returns, 1 to 1000,
	// sent as given; 0 leaves it to the server (50). See
	// UserBindingListParams.PageSize.
	PageSize int
	// Limit stops a List after this many bindings; 0 means no limit. With
	// PageSize 0, the page size becomes min(Limit, 50).
	Limit int
	// Prefetch fetches the next page while the caller works on the current
	// one (see UserBindingListParams.Prefetch).
	Prefetch bool
}

// listQuery holds either listing's parameters: one set of rules for both.
type listQuery struct {
	BindingType []BindingType `url:"BindingType,omitempty"`
	Identity    []string      `url:"Identity,omitempty"`
	PageSize    int           `url:"PageSize,omitempty"`

	limit    int
	prefetch bool
}

func (p *UserBindingListParams) listQuery() listQuery {
	if p == nil {
		return listQuery{}
	}
	return listQuery{BindingType: p.BindingType, PageSize: p.PageSize, limit: p.Limit, prefetch: p.Prefetch}
}

func (p *BindingListParams) listQuery() listQuery {
	if p == nil {
		return listQuery{}
	}
	return listQuery{BindingType: p.BindingType, Identity: p.Identity, PageSize: p.PageSize, limit: p.Limit, prefetch: p.Prefetch}
}

// encode validates q and returns the query string to send. q is a copy, so
// the caller's params are never touched.
func (q listQuery) encode() (string, error) {
	if q.PageSize < 0 || q.PageSize > MaxPageSize {
		return "", &client.ValidationError{Param: "PageSize", Value: strconv.Itoa(q.PageSize), Rule: "must be between 1 and 1000, or 0 for the server's default"}
	}
	if q.limit < 0 {
		return "", &client.ValidationError{Param: "Limit", Value: strconv.Itoa(q.limit), Rule: "must be 0 (no limit) or positive"}
	}
	for _, t := range q.BindingType {
		if !t.Known() {
			return "", &client.ValidationError{Param: "BindingType", Value: string(t), Rule: `must be "apn", "gcm" or "fcm"`}
		}
	}
	for _, id := range q.Identity {
		switch {
		case id == "":
			return "", &client.ValidationError{Param: "Identity", Value: id, Rule: "must be a user's identity, not empty"}
		case !utf8.ValidString(id):
			return "", &client.ValidationError{Param: "Identity", Value: id, Rule: "must be valid UTF-8"}
		}
	}
	if q.limit > 0 && q.PageSize == 0 {
		q.PageSize = min(q.limit, AutoPageSize)
	}
	v, err := query.Values(q)
	if err != nil {
		return "", err
	}
	return v.Encode(), nil
}
