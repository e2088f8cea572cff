// Package excerpt shortens untrusted text before it goes into an error
// message. Servers, proxies and callers can hand the library values of any
// length (a million-digit number, a 10 MiB page token); an error quotes at
// most a bounded, printable part of them, so logs stay readable and an error
// never costs more than a few hundred bytes.
package excerpt

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Short and Long are the caps the module uses: Short for a value inside a
// sentence (a SID, a number), Long for a URL or a body.
const (
	Short = 64
	Long  = 200
)

// Cut returns at most n bytes of s, cut at a rune boundary and made valid
// UTF-8, and whether anything was cut.
func Cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return strings.ToValidUTF8(s, "\uFFFD"), false
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strings.ToValidUTF8(s[:i], "\uFFFD"), true
}

// Quote is strconv.Quote of at most n bytes of s, followed by "…" when s
// was longer.
func Quote(s string, n int) string {
	cut, more := Cut(s, n)
	q := strconv.Quote(cut)
	if more {
		q += "…"
	}
	return q
}

// QuoteBytes is Quote for a byte slice, without copying more than n bytes.
func QuoteBytes(b []byte, n int) string {
	if len(b) > n+utf8.UTFMax {
		b = b[:n+utf8.UTFMax]
		return Quote(string(b), n) // still longer than n, so Quote adds "…"
	}
	return Quote(string(b), n)
}

// Text is at most n bytes of b as printable text: control characters
// become spaces, surrounding space is trimmed, and "…" marks a cut.
func Text(b []byte, n int) string {
	if len(b) > n+utf8.UTFMax {
		b = b[:n+utf8.UTFMax]
	}
	s, more := Cut(string(b), n)
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
	if more {
		s += "…"
	}
	return s
}
