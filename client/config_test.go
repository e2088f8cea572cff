package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewConfiguration(t *testing.T) {
	t.Parallel()
	creds := WithCredentials(testAccount, testToken)
	cases := []struct {
		name    string
		opts    []Option
		wantURL string
		wantErr string // substring of the error; "" means success
	}{
		{"default host", []Option{creds}, "https://chat.twilio.com", ""},
		{"api key", []Option{WithAPIKey(testKey, testSecret, testAccount)}, "https://chat.twilio.com", ""},
		{"region", []Option{creds, WithRegion("ie1")}, "https://chat.ie1.twilio.com", ""},
		{"edge and region", []Option{creds, WithRegion("ie1"), WithEdge("dublin")}, "https://chat.dublin.ie1.twilio.com", ""},
		{"edge alone means us1", []Option{creds, WithEdge("ashburn")}, "https://chat.ashburn.us1.twilio.com", ""},
		{"base URL", []Option{creds, WithBaseURL("https://proxy.example/twilio/")}, "https://proxy.example/twilio", ""},
		{"loopback http", []Option{creds, WithBaseURL("http://127.0.0.1:8080")}, "http://127.0.0.1:8080", ""},
		{"localhost http", []Option{creds, WithBaseURL("http://localhost:8080")}, "http://localhost:8080", ""},
		{"ipv6 loopback http", []Option{creds, WithBaseURL("http://[::1]:8080")}, "http://[::1]:8080", ""},
		{"insecure http allowed", []Option{creds, WithBaseURL("http://10.0.0.5"), WithInsecureHTTP()}, "http://10.0.0.5", ""},

		{"localhost upper case http", []Option{creds, WithBaseURL("http://LOCALHOST:8080")}, "http://LOCALHOST:8080", ""},

		{"http to remote host", []Option{creds, WithBaseURL("http://proxy.example")}, "", "clear text"},
		{"http to a name under localhost", []Option{creds, WithBaseURL("http://evil.localhost:8080")}, "", "clear text"},
		{"http to localhost with a trailing dot", []Option{creds, WithBaseURL("http://localhost.:8080")}, "", "clear text"},
		{"http to a loopback-looking name", []Option{creds, WithBaseURL("http://127.0.0.1.nip.io")}, "", "clear text"},
		{"base URL with credentials", []Option{creds, WithBaseURL("https://u:p@proxy.example")}, "", "must not carry credentials"},
		{"base URL with query", []Option{creds, WithBaseURL("https://proxy.example?x=1")}, "", "query"},
		{"base URL not http", []Option{creds, WithBaseURL("ftp://proxy.example")}, "", "http or https"},
		{"base URL relative", []Option{creds, WithBaseURL("/v2")}, "", "http or https"},
		{"base URL and region", []Option{creds, WithBaseURL("https://proxy.example"), WithRegion("ie1")}, "", "cannot be combined"},
		{"region not a label", []Option{creds, WithRegion("evil.example/")}, "", "DNS label"},
		{"edge upper case", []Option{creds, WithEdge("Dublin")}, "", "DNS label"},
		{"account SID wrong prefix", []Option{WithCredentials("XX0123456789abcdef0123456789abcdef", testToken)}, "", "account SID must be AC"},
		{"account SID short", []Option{WithCredentials("AC123", testToken)}, "", "5 characters"},
		{"empty token", []Option{WithCredentials(testAccount, "")}, "", "auth token is empty"},
		{"api key wrong prefix", []Option{WithAPIKey(testAccount, testSecret, testAccount)}, "", "API key SID must be SK"},
		{"api key empty secret", []Option{WithAPIKey(testKey, "", testAccount)}, "", "API key secret is empty"},
		{"api key bad account", []Option{WithAPIKey(testKey, testSecret, "")}, "", "an empty string"},
		{"nil http client", []Option{creds, WithHTTPClient(nil)}, "", "nil"},
		{"negative retries", []Option{creds, WithMaxRetries(-1)}, "", "between 0 and 100"},
		{"retry wait inverted", []Option{creds, WithRetryWait(time.Second, time.Millisecond)}, "", "min <= max"},
		{"zero timeout", []Option{creds, WithTimeout(0)}, "", "positive"},
		{"tiny body limit", []Option{creds, WithMaxResponseBytes(10)}, "", "at least 1024"},
		{"negative retry-after limit", []Option{creds, WithRetryAfterLimit(-time.Second)}, "", "negative"},
		{"user agent with newline", []Option{creds, WithUserAgent("x\r\nInjected: 1")}, "", "control character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.opts...)
			if tc.wantErr != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: err = %v, want a *ConfigError containing %q", err, tc.wantErr)
				}
				if c != nil {
					t.Fatal("New returned a client with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := c.BaseURL().String(); got != tc.wantURL {
				t.Errorf("BaseURL = %q, want %q", got, tc.wantURL)
			}
			if c.AccountSID() != testAccount {
				t.Errorf("AccountSID = %q", c.AccountSID())
			}
		})
	}
}

// TestBaseURLErrorsNeverEchoUserinfo gives base URLs that carry
// credentials and are broken in other ways too (url.Parse's own errors
// quote the whole input): no error may contain any part of the userinfo.
func TestBaseURLErrorsNeverEchoUserinfo(t *testing.T) {
	t.Parallel()
	const user, token = "ACfeedfacefeedfacefeedfacefeedface", "TOKEN-must-not-leak-42"
	bases := []string{
		"https://" + user + ":" + token + "@chat.twilio.com:44x3",
		"https://" + user + ":" + token + "@chat.twilio.com\x7f/",
		"https://" + user + ":" + token + "@chat.twilio.com/\x00",
		"https://" + user + ":" + token + "@[::1",
		"https://" + user + ":" + token + "@chat.twilio.com",
		"http://" + user + ":" + token + "@10.0.0.1",
		"https://" + token + "@chat.twilio.com",
		"https://" + user + ":" + token + "@chat.twilio.com/%zz",
		" https://" + user + ":" + token + "@chat.twilio.com",
		"https://chat.twilio.com:44x3/" + token, // no userinfo: a path is not a secret, but still not echoed
	}
	for _, base := range bases {
		_, err := New(WithCredentials(testAccount, testToken), WithBaseURL(base))
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%q: err = %v, want a *ConfigError", base, err)
			continue
		}
		for _, v := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(v, token) || strings.Contains(v, user) || strings.Contains(v, "TOKEN") {
				t.Errorf("%q: the error echoes the userinfo: %s", base, v)
			}
		}
	}
}

// TestConfigErrorsNeverEchoASwappedToken gives New a secret where a SID
// belongs, by every argument order and environment mix-up: the error must
// not hold a character of it. It is the same whatever the secret's
// characters (only its length shows), and still says what to fix.
func TestConfigErrorsNeverEchoASwappedToken(t *testing.T) {
	t.Parallel()
	const secret = "9f3c0d2e7a1b4c5d6e7f8091a2b3c4d5" // a real token's shape: 32 hex digits
	cases := []struct {
		name string
		// opts places v, a secret, where a SID belongs; env is the
		// environment when opts gives no credentials.
		opts func(v string) []Option
		env  func(v string) map[string]string
		want []string // what the message must say
	}{
		{"WithCredentials(token, account)", func(v string) []Option { return []Option{WithCredentials(v, testAccount)} }, nil,
			[]string{"account SID", "32 characters not starting with AC", "arguments may be swapped", "WithCredentials takes the account SID"}},
		{"WithAPIKey(secret, key, account)", func(v string) []Option { return []Option{WithAPIKey(v, testKey, testAccount)} }, nil,
			[]string{"API key SID", "32 characters not starting with SK", "arguments may be swapped", "WithAPIKey takes the API key SID"}},
		{"WithAPIKey(key, account, secret)", func(v string) []Option { return []Option{WithAPIKey(testKey, testAccount, v)} }, nil,
			[]string{"account SID", "32 characters not starting with AC", "WithAPIKey takes the API key SID"}},
		{"WithAPIKey(account, key, secret)", func(v string) []Option { return []Option{WithAPIKey(testAccount, testKey, v)} }, nil,
			[]string{"account SID", "32 characters not starting with AC", "arguments may be swapped"}},
		{"a short secret as the account SID", func(v string) []Option { return []Option{WithCredentials(v[:3], testAccount)} }, nil,
			[]string{"3 characters not starting with AC"}},
		{"a secret of one character", func(v string) []Option { return []Option{WithCredentials(v[:1], testAccount)} }, nil,
			[]string{"1 character not starting with AC"}},
		{"TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN swapped", nil,
			func(v string) map[string]string {
				return map[string]string{EnvAccountSID: v, EnvAuthToken: testAccount}
			},
			[]string{"32 characters not starting with AC", EnvAccountSID + " and " + EnvAuthToken + " are not swapped"}},
		{"TWILIO_API_KEY and TWILIO_API_SECRET swapped", nil,
			func(v string) map[string]string {
				return map[string]string{EnvAccountSID: testAccount, EnvAPIKey: v, EnvAPISecret: testKey}
			},
			[]string{"32 characters not starting with SK", EnvAPIKey + ", " + EnvAPISecret + " and " + EnvAccountSID + " are not swapped"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			message := func(v string) string {
				var s settings
				if tc.opts != nil {
					for _, opt := range tc.opts(v) {
						if err := opt(&s); err != nil {
							t.Fatal(err)
						}
					}
				}
				env := map[string]string{}
				if tc.env != nil {
					env = tc.env(v)
				}
				_, err := newCredentials(&s, func(k string) string { return env[k] })
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("err = %v, want a *ConfigError", err)
				}
				return fmt.Sprintf("%v %+v %#v", err, err, err)
			}
			got := message(secret)
			// Every character changed: a message that depends on any of
			// them differs.
			if other := message(strings.Repeat("z", len(secret))); other != got {
				t.Errorf("the message depends on the secret's characters:\n%s\n%s", got, other)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s\ndoes not say %q", got, w)
				}
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		env      map[string]string
		wantUser string
		wantRgn  string
		wantErr  string
	}{
		{"token", map[string]string{EnvAccountSID: testAccount, EnvAuthToken: testToken}, testAccount, "", ""},
		{"api key", map[string]string{EnvAccountSID: testAccount, EnvAPIKey: testKey, EnvAPISecret: testSecret}, testKey, "", ""},
		{"region and edge", map[string]string{EnvAccountSID: testAccount, EnvAuthToken: testToken, EnvRegion: "au1", EnvEdge: "sydney"}, testAccount, "au1", ""},
		{"nothing", map[string]string{}, "", "", "none given"},
		{"token without account", map[string]string{EnvAuthToken: testToken}, "", "", "set both"},
		{"key without secret", map[string]string{EnvAccountSID: testAccount, EnvAPIKey: testKey}, "", "", "must all be set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s settings
			err := s.fromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || s.username != tc.wantUser || s.region != tc.wantRgn {
				t.Fatalf("fromEnv: user %q region %q err %v", s.username, s.region, err)
			}
		})
	}
}

// TestNewReadsEnvironment cannot run in parallel: it sets the process
// environment.
func TestNewReadsEnvironment(t *testing.T) {
	t.Setenv(EnvAccountSID, testAccount)
	t.Setenv(EnvAuthToken, testToken)
	t.Setenv(EnvAPIKey, "")
	t.Setenv(EnvAPISecret, "")
	t.Setenv(EnvRegion, "ie1")
	t.Setenv(EnvEdge, "")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL().Host; got != "chat.ie1.twilio.com" {
		t.Errorf("host = %q, want the region from the environment", got)
	}
}

func TestNoFormattingRevealsSecrets(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithCredentials(testAccount, testToken), WithAPIKey(testKey, testSecret, testAccount)} {
		c, err := New(opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T"} {
			for _, v := range []any{c, *c, c.creds, *c.creds, opt} {
				out := fmt.Sprintf(verb, v)
				for _, secret := range []string{testToken, testSecret, c.creds.authHeader()[6:]} {
					if strings.Contains(out, secret) {
						t.Errorf("fmt.Sprintf(%q, %T) reveals a secret: %s", verb, v, out)
					}
				}
			}
		}
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t, WithUserAgent("cleanup-job/1.2"))
	var got string
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Get("User-Agent")
		return &http.Response{StatusCode: 204, Body: http.NoBody}, nil
	})
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/v2/x"}, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "twiliochat-go/"+Version+" (") || !strings.Contains(got, ") go/go") || !strings.HasSuffix(got, " cleanup-job/1.2") {
		t.Errorf("User-Agent = %q", got)
	}
}
