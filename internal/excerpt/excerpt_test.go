package excerpt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, `"abc"`},
		{"abcdef", 3, `"abc"…`},
		{"ééé", 3, `"é"…`}, // never half a rune
		{"a\nb", 5, `"a\nb"`},
		{"\xff\xfe", 5, "\"\uFFFD\""}, // a run of invalid bytes is one replacement
		{"", 5, `""`},
	}
	for _, tc := range cases {
		if got := Quote(tc.in, tc.n); got != tc.want {
			t.Errorf("Quote(%q, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
		if got := QuoteBytes([]byte(tc.in), tc.n); got != tc.want {
			t.Errorf("QuoteBytes(%q, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestAMillionDigitsStayShort(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("9", 1_000_000)
	for _, s := range []string{Quote(huge, Short), QuoteBytes([]byte(huge), Short), Text([]byte(huge), Long)} {
		if len(s) > Long+8 || !utf8.ValidString(s) || !strings.HasSuffix(s, "…") {
			t.Errorf("excerpt of a million digits is %d bytes: %.80s", len(s), s)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"  <html>\n<body>oops</body>\r\n", 100, "<html> <body>oops</body>"},
		{"0123456789", 4, "0123…"},
		{"日本語", 4, "日…"},
		{"\x00\x7f", 10, ""},
	}
	for _, tc := range cases {
		if got := Text([]byte(tc.in), tc.n); got != tc.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
