package cli

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Printable returns s as it is when every character prints as itself, and
// otherwise quoted with Go escapes: an identity holding a newline, a
// carriage return, an escape sequence or a bidirectional override must not
// forge a row of a table or move the terminal's cursor.
func Printable(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
