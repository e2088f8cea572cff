package sid

import (
	"regexp"
	"strings"
	"testing"
)

func TestValidMatchesSpecPattern(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(Pattern(Binding))
	cases := []string{
		"BS" + strings.Repeat("a", 32),
		"BS" + strings.Repeat("A", 32),
		"BS" + strings.Repeat("0", 32),
		"BS0123456789abcdefABCDEF0123456789",
		"bs" + strings.Repeat("a", 32),
		"IS" + strings.Repeat("a", 32),
		"BS" + strings.Repeat("a", 31),
		"BS" + strings.Repeat("a", 33),
		"BS" + strings.Repeat("g", 32),
		"BS" + strings.Repeat("a", 31) + "\n",
		" BS" + strings.Repeat("a", 31),
		"",
		"BS",
	}
	for _, c := range cases {
		if got, want := Valid(Binding, c), re.MatchString(c); got != want {
			t.Errorf("Valid(%q) = %v, regexp says %v", c, got, want)
		}
		if Valid(Binding, []byte(c)) != Valid(Binding, c) {
			t.Errorf("Valid disagrees between string and bytes for %q", c)
		}
	}
}

func TestNewIsValid(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, p := range []string{Account, Service, User, Binding, Credential, Request} {
		s := New(p)
		if !Valid(p, s) {
			t.Errorf("New(%q) = %q, not valid", p, s)
		}
		if seen[s] {
			t.Errorf("New returned %q twice", s)
		}
		seen[s] = true
	}
}

func FuzzValid(f *testing.F) {
	f.Add("BS0123456789abcdefABCDEF0123456789")
	f.Add("BS..")
	re := regexp.MustCompile(Pattern(Binding))
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(Binding, s) != re.MatchString(s) {
			t.Fatalf("Valid(%q) disagrees with %s", s, re)
		}
	})
}
