package client

import (
	"encoding/base64"
	"fmt"
	"os"

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

func newCredentials(s *settings) (*credentials, error) {
	if s.username == "" {
		if err := s.fromEnv(os.Getenv); err != nil {
			return nil, err
		}
	}
	if !sid.Valid(sid.Account, s.accountSID) {
		return nil, &ConfigError{Setting: "account SID", Problem: "must be AC followed by 32 hex digits; got " + describeSecretish(s.accountSID) + " (find it in the Twilio Console)"}
	}
	if s.apiKey && !sid.Valid(sid.APIKey, s.username) {
		return nil, &ConfigError{Setting: "API key SID", Problem: "must be SK followed by 32 hex digits; got " + describeSecretish(s.username)}
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

// describeSecretish says what a misconfigured identifier looks like without
// echoing it: a caller who swapped the account SID and the token must not
// find the token in a log.
func describeSecretish(v string) string {
	switch {
	case v == "":
		return "an empty string"
	case len(v) <= 2:
		return fmt.Sprintf("%d characters", len(v))
	default:
		return fmt.Sprintf("%d characters starting %q", len(v), v[:2])
	}
}
