package client

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "tok3n-that-must-never-leak-0123456"
	testKey     = "SK0123456789abcdef0123456789abcdef"
	testSecret  = "s3cret-that-must-never-leak-98765"
	testBase    = "https://api.test/prefix"
)

// newMockClient returns a client whose requests go to a fresh MockTransport
// under testBase, with millisecond retry waits.
func newMockClient(t *testing.T, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	all := append([]Option{
		WithCredentials(testAccount, testToken),
		WithBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}, opts...)
	c, err := New(all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, mt
}

// sequence answers successive requests with successive responders and
// fails the test if more requests come than it has answers.
func sequence(t *testing.T, rs ...httpmock.Responder) httpmock.Responder {
	i := 0
	return func(req *http.Request) (*http.Response, error) {
		if i >= len(rs) {
			t.Errorf("unexpected request %d: %s %s", i+1, req.Method, req.URL)
			return httpmock.NewStringResponse(599, "unexpected"), nil
		}
		i++
		return rs[i-1](req)
	}
}

func withHeader(r httpmock.Responder, k, v string) httpmock.Responder {
	return r.HeaderSet(http.Header{k: {v}})
}

// brokenBody yields some bytes and then fails, like a connection reset
// mid-body.
type brokenBody struct{ r io.Reader }

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}
func (b *brokenBody) Close() error { return nil }

func brokenResponder(prefix string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &brokenBody{strings.NewReader(prefix)}}, nil
	}
}
