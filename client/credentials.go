package client

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// Environment variables read by New when no credentials option is given.
const (
	EnvAccountSID = "TWILIO_ACCOUNT_SID"
	EnvAuthToken  = "TWILIO_AUTH_TOKEN"
	EnvAPIKey     = "TWILIO_API_KEY"
	EnvAPISecret  = "TWILIO_API_SECRET"
	EnvRegion     = "TWILIO_REGION"
	EnvEdge       = "TWILIO_EDGE"
)

// credentials hold the secret only inside a closure: fmt prints a func as
// an address whatever the verb and however deep, so no formatting of a
// Client or of this struct can reveal it (a string field, even behind a
// pointer, is printed by %s of the enclosing struct).
type credentials struct {
	accountSID string
	username   string        // account SID, or API key SID
	authHeader func() string // "Basic …"
}

// newCredentials checks the credentials s holds, or, when no option gave
// any, those getenv finds in the environment.
func newCredentials(s *settings, getenv func(string) string) (*credentials, error) {
	env := s.username == ""
	if env {
		if err := s.fromEnv(getenv); err != nil {
			return nil, err
		}
	}
	if !sid.Valid(sid.Account, s.accountSID) {
		return nil, &ConfigError{Setting: "account SID", Problem: "must be AC followed by 32 hex digits (find it in the Twilio Console); got " +
			describeSecretish(s.accountSID, sid.Account) + swapHint(s.accountSID, sid.Account, env, s.apiKey)}
	}
	if s.apiKey && !sid.Valid(sid.APIKey, s.username) {
		return nil, &ConfigError{Setting: "API key SID", Problem: "must be SK followed by 32 hex digits; got " +
			describeSecretish(s.username, sid.APIKey) + swapHint(s.username, sid.APIKey, env, true)}
	}
	if s.password == "" {
		what := "auth token"
		if s.apiKey {
			what = "API key secret"
		}
		return nil, &ConfigError{Setting: what, Problem: "is empty"}
	}
	header := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.username+":"+s.password))
	s.password = ""
	return &credentials{accountSID: s.accountSID, username: s.username, authHeader: func() string { return header }}, nil
}

// fromEnv fills credentials, region and edge from the environment, the way
// the official SDKs do, when the caller passed no credentials option.
func (s *settings) fromEnv(getenv func(string) string) error {
	account, token := getenv(EnvAccountSID), getenv(EnvAuthToken)
	key, secret := getenv(EnvAPIKey), getenv(EnvAPISecret)
	switch {
	case key != "" || secret != "":
		if key == "" || secret == "" || account == "" {
			return &ConfigError{Setting: "environment", Problem: EnvAPIKey + ", " + EnvAPISecret + " and " + EnvAccountSID + " must all be set to use an API key"}
		}
		s.accountSID, s.username, s.password, s.apiKey = account, key, secret, true
	case account != "" || token != "":
		if account == "" || token == "" {
			return &ConfigError{Setting: "environment", Problem: "set both " + EnvAccountSID + " and " + EnvAuthToken + ", or pass client.WithCredentials"}
		}
		s.accountSID, s.username, s.password = account, account, token
	default:
		return &ConfigError{Setting: "credentials", Problem: "none given: pass client.WithCredentials or client.WithAPIKey, or set " + EnvAccountSID + " and " + EnvAuthToken}
	}
	if s.region == "" && s.edge == "" && s.baseURL == "" {
		s.region, s.edge = getenv(EnvRegion), getenv(EnvEdge)
	}
	return nil
}

// describeSecretish says what a misconfigured identifier looks like
// without a single character of it: a caller who swapped the account SID and
// the token must not find any of the token in a log. It gives the length,
// and whether the value starts with prefix, the SID's own two letters.
func describeSecretish(v, prefix string) string {
	n := fmt.Sprintf("%d characters", len(v))
	if len(v) == 1 {
		n = "1 character"
	}
	switch {
	case v == "":
		return "an empty string"
	case !strings.HasPrefix(v, prefix):
		return n + " not starting with " + prefix
	case len(v) != sid.Len:
		return fmt.Sprintf("%s starting with %s (a SID has %d)", n, prefix, sid.Len)
	default:
		return n + " starting with " + prefix + ", but not all of the rest are hex digits"
	}
}

// swapHint suggests, for a value that lacks its SID's prefix, the likeliest
// cause: the arguments, or the environment variables, given in the wrong
// order.
func swapHint(v, prefix string, env, apiKey bool) string {
	switch {
	case v == "" || strings.HasPrefix(v, prefix):
		return ""
	case env && apiKey:
		return ": check that " + EnvAPIKey + ", " + EnvAPISecret + " and " + EnvAccountSID + " are not swapped"
	case env:
		return ": check that " + EnvAccountSID + " and " + EnvAuthToken + " are not swapped"
	case apiKey:
		return ": the arguments may be swapped (client.WithAPIKey takes the API key SID, its secret, then the account SID)"
	default:
		return ": the arguments may be swapped (client.WithCredentials takes the account SID, then the auth token)"
	}
}
