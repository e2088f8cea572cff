// Package sid holds the one definition of a Twilio SID used across the module:
// two upper-case letters naming the resource type, then 32 hexadecimal digits.
package sid

import (
	"crypto/rand"
	"encoding/hex"
)

// Len is the length of every SID: a two-letter prefix and 32 hex digits.
const Len = 34

// Prefixes of the resource types this module handles.
const (
	Account    = "AC"
	APIKey     = "SK"
	Service    = "IS"
	User       = "US"
	Binding    = "BS"
	Credential = "CR"
	Request    = "RQ"
)

// Valid reports whether s is prefix followed by exactly 32 hex digits
// (either case), the pattern ^XX[0-9a-fA-F]{32}$ of the API specification.
// It is generic so decoders can check bytes without converting them first.
func Valid[T string | []byte](prefix string, s T) bool {
	if len(s) != Len || len(prefix) != 2 || s[0] != prefix[0] || s[1] != prefix[1] {
		return false
	}
	for i := 2; i < Len; i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// Same reports whether a and b name the same resource: they are equal, or
// both are SIDs with the same prefix whose hex digits differ only in case
// (the API's pattern allows either case). It is the one rule every
// comparison of SIDs in the module uses, so a SID given in upper-case hex
// matches the lower-case one the API writes.
func Same(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) != Len || len(b) != Len || a[0] != b[0] || a[1] != b[1] || !Valid(a[:2], a) || !Valid(b[:2], b) {
		return false
	}
	for i := 2; i < Len; i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// Canonical is s with its hex digits in lower case when s is a SID, and s
// unchanged otherwise: the key under which a SID is stored, so that Same
// SIDs find the same entry.
func Canonical(s string) string {
	if len(s) != Len || !Valid(s[:2], s) {
		return s
	}
	for i := 2; i < Len; i++ {
		if 'A' <= s[i] && s[i] <= 'F' {
			b := []byte(s)
			for j := 2; j < Len; j++ {
				b[j] = lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Pattern returns the regular expression the API specification gives for SIDs
// with prefix, for messages that tell a caller what was expected.
func Pattern(prefix string) string {
	return "^" + prefix + "[0-9a-fA-F]{32}$"
}

// New returns a random SID with prefix, for emulators and tests.
func New(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand.Read is documented never to return an error.
		panic("sid: crypto/rand failed: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])
}
