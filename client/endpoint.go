package client

import (
	"net"
	"net/url"
	"strings"
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
	u, err := url.Parse(s.baseURL)
	if err != nil {
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "is not a URL: " + err.Error()}
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
		return nil, &ConfigError{Setting: "WithBaseURL", Problem: "uses plain http to " + u.Hostname() + ", which would send credentials in clear text; use https, or add WithInsecureHTTP inside a trusted network"}
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

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
