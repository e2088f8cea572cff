package client

import (
	"net"
	"net/url"
	"strings"

	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// DefaultBaseURL is the Chat API's global endpoint.
const DefaultBaseURL = "https://chat.twilio.com"

// resolveBaseURL applies Twilio's host rules: chat.{edge}.{region}.twilio.com,
// with region us1 when only an edge is given and chat.{region}.twilio.com
// when only a region is. A base URL replaces those rules entirely.
func resolveBaseURL(s *settings) (*url.URL, error) {
	if s.baseURL == "" {
		host := "chat.twilio.com"
		if s.region != "" || s.edge != "" {
			if err := checkLabel("region", s.region); err != nil {
				return nil, err
			}
			if err := checkLabel("edge", s.edge); err != nil {
				return nil, err
			}
			region := s.region
			if region == "" {
				region = "us1"
			}
			host = "chat." + region + ".twilio.com"
			if s.edge != "" {
				host = "chat." + s.edge + "." + region + ".twilio.com"
			}
		}
		return &url.URL{Scheme: "https", Host: host}, nil
	}
	if s.region != "" || s.edge != "" {
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "cannot be combined with a region or edge: the base URL already names the host"}
	}
	// Checked before parsing, and never echoed: url.Parse's errors quote
	// the whole input, credentials included.
	if hasUserinfo(s.baseURL) {
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "must not carry credentials (user:password@); use WithCredentials or WithAPIKey"}
	}
	u, err := url.Parse(s.baseURL)
	if err != nil {
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "is not a valid URL: check its scheme, host and port, and remove any white space or control characters"}
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "must be an http or https URL with a host, such as https://chat.twilio.com"}
	case u.Host == "":
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "has no host"}
	case u.User != nil:
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "must not carry credentials; use WithCredentials or WithAPIKey"}
	case u.RawQuery != "" || u.Fragment != "":
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "must not have a query or fragment"}
	case u.Scheme == "http" && !isLoopback(u.Hostname()) && !s.insecureHTTP:
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "uses plain http to " + excerpt.Quote(u.Hostname(), excerpt.Short) + ", which would send credentials in clear text; use https, or add WithInsecureHTTP inside a trusted network"}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// checkLabel keeps region and edge to DNS labels, so neither can smuggle a
// different host or a path into the URL.
func checkLabel(setting, v string) error {
	if v == "" {
		return nil
	}
	ok := len(v) <= 63 && v[0] != '-' && v[len(v)-1] != '-'
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return &ConfigError{Setting: setting, Problem: "must be a lower-case DNS label such as \"ie1\" or \"dublin\""}
	}
	return nil
}

// isLoopback accepts only what cannot leave the machine: a literal loopback
// address, or the name localhost itself. A name under .localhost is looked
// up like any other and may resolve to a remote address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hasUserinfo reports whether the authority of a URL-like string holds an
// '@', without parsing it: the check must work on strings url.Parse rejects.
func hasUserinfo(raw string) bool {
	i := strings.Index(raw, "//")
	if i < 0 {
		return false
	}
	authority := raw[i+2:]
	if end := strings.IndexAny(authority, "/?#"); end >= 0 {
		authority = authority[:end]
	}
	return strings.Contains(authority, "@")
}
