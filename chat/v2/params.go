package chat

import (
	"strconv"

	"github.com/google/go-querystring/query"
	"github.com/twiliochat/twiliochat-go/client"
)

// MaxPageSize is the largest page the API serves.
const MaxPageSize = 1000

// UserBindingListParams filters and sizes a listing of a user's bindings.
// The zero value (or nil) lists every binding in pages of the server's
// default size (50). Methods never modify the params they are given.
type UserBindingListParams struct {
	// BindingType keeps only bindings of these types; sent as one
	// BindingType query parameter per value.
	BindingType []BindingType `url:"BindingType,omitempty"`
	// PageSize is how many bindings each request returns, 1 to 1000;
	// 0 leaves it to the server.
	PageSize int `url:"PageSize,omitempty"`
	// Limit stops a List after this many bindings; 0 means no limit. When
	// PageSize is 0, a Limit also sets the page size to min(Limit, 1000), so
	// a small Limit costs one small request.
	Limit int `url:"-"`
	// Prefetch fetches the next page while the caller works on the current
	// one, hiding the API's latency behind the caller's. It costs one
	// goroutine per listing, stopped and waited for when the loop ends, and
	// at most one page fetched and not used when the caller breaks early.
	Prefetch bool `url:"-"`
}

// prepared validates p and returns the query to send and the limit, without
// touching p.
func (p *UserBindingListParams) prepared() (q string, limit int, err error) {
	var c UserBindingListParams
	if p != nil {
		c = *p
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		return "", 0, &client.ValidationError{Param: "PageSize", Value: strconv.Itoa(c.PageSize), Rule: "must be between 1 and 1000, or 0 for the server's default"}
	}
	if c.Limit < 0 {
		return "", 0, &client.ValidationError{Param: "Limit", Value: strconv.Itoa(c.Limit), Rule: "must be 0 (no limit) or positive"}
	}
	for _, t := range c.BindingType {
		if !t.Known() {
			return "", 0, &client.ValidationError{Param: "BindingType", Value: string(t), Rule: `must be "apn", "gcm" or "fcm"`}
		}
	}
	if c.Limit > 0 && c.PageSize == 0 {
		c.PageSize = min(c.Limit, MaxPageSize)
	}
	v, err := query.Values(c)
	if err != nil {
		return "", 0, err
	}
	return v.Encode(), c.Limit, nil
}
