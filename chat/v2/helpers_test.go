package chat

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/twiliochat/twiliochat-go/client"
)

const (
	testBase    = "https://api.test/prefix"
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testService = "IS0123456789abcdef0123456789abcdef"
	testUser    = "US0123456789abcdef0123456789abcdef"
	testBinding = "BS0123456789abcdef0123456789abcdef"
	testCred    = "CR0123456789abcdef0123456789abcdef"
)

// newTestAPI returns an API whose requests go to a fresh MockTransport under
// testBase (a path prefix, so a request that ignores the base URL fails),
// with millisecond retry waits.
func newTestAPI(t *testing.T, opts ...client.Option) (*API, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c, err := client.New(append([]client.Option{
		client.WithCredentials(testAccount, "test-token"),
		client.WithBaseURL(testBase),
		client.WithHTTPClient(&http.Client{Transport: mt}),
		client.WithRetryWait(time.Millisecond, 2*time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return New(c), mt
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bindingJSON renders a valid binding with SID number i.
func bindingJSON(i int, typ string) string {
	sid := fmt.Sprintf("BS%032x", i)
	return fmt.Sprintf(`{"sid":%q,"account_sid":%q,"service_sid":%q,"user_sid":%q,"credential_sid":%q,`+
		`"date_created":"2016-10-21T11:37:03Z","date_updated":"2016-10-21T11:37:03Z","endpoint":"endpoint-%d",`+
		`"identity":"alice","binding_type":%q,"message_types":["new_message","added_to_channel"],"url":"https://chat.twilio.com/v2/Services/%s/Users/%s/Bindings/%s"}`,
		sid, testAccount, testService, testUser, testCred, i, typ, testService, testUser, sid)
}

// pageJSON renders page number page of total bindings in pages of size,
// with a next_page_url on the list's own path when more remain.
func pageJSON(listURL string, page, size, total int) string {
	var items []string
	for i := page * size; i < min(total, (page+1)*size); i++ {
		items = append(items, bindingJSON(i, "apn"))
	}
	next := "null"
	if (page+1)*size < total {
		next = fmt.Sprintf(`"%s?PageSize=%d&Page=%d&PageToken=PT%d"`, listURL, size, page+1, page+1)
	}
	return fmt.Sprintf(`{"meta":{"page":%d,"page_size":%d,"first_page_url":"%s?PageSize=%d&Page=0","previous_page_url":null,"url":"%s","next_page_url":%s,"key":"bindings"},"bindings":[%s]}`,
		page, size, listURL, size, listURL, next, strings.Join(items, ","))
}

// pager serves total bindings in pages of size on the bindings list of
// testService/testUser, and records the queries it was asked for.
type pager struct {
	mu      sync.Mutex
	queries []string
}

func (p *pager) register(mt *httpmock.MockTransport, size, total int) {
	listPath := "/v2/Services/" + testService + "/Users/" + testUser + "/Bindings"
	mt.RegisterResponder("GET", testBase+listPath, func(r *http.Request) (*http.Response, error) {
		p.mu.Lock()
		p.queries = append(p.queries, r.URL.RawQuery)
		p.mu.Unlock()
		page := 0
		fmt.Sscan(r.URL.Query().Get("Page"), &page)
		return httpmock.NewStringResponse(200, pageJSON("https://chat.twilio.com"+listPath, page, size, total)), nil
	})
}

func (p *pager) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queries)
}
