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

func TestSameAndCanonical(t *testing.T) {
	t.Parallel()
	lowerSID := "US0123456789abcdef0123456789abcdef"
	upperSID := "US0123456789ABCDEF0123456789ABCDEF"
	cases := []struct {
		a, b string
		same bool
	}{
		{lowerSID, lowerSID, true},
		{lowerSID, upperSID, true},
		{"US0123456789aBcDeF0123456789abcdef", upperSID, true},
		{lowerSID, "us0123456789abcdef0123456789abcdef", false}, // the prefix is not hex: its case counts
		{lowerSID, "IS0123456789abcdef0123456789abcdef", false},
		{lowerSID, "US0123456789abcdef0123456789abcdee", false},
		{"alice", "ALICE", false}, // identities are not SIDs: exact
		{"alice", "alice", true},
		{"", "", true},
		{"US" + strings.Repeat("g", 32), "US" + strings.Repeat("G", 32), false},
	}
	for _, c := range cases {
		if got := Same(c.a, c.b); got != c.same {
			t.Errorf("Same(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
		if got := Same(c.b, c.a); got != c.same {
			t.Errorf("Same(%q, %q) = %v, want %v", c.b, c.a, got, c.same)
		}
		if got := Canonical(c.a) == Canonical(c.b); got != c.same {
			t.Errorf("Canonical(%q) == Canonical(%q) is %v, want %v", c.a, c.b, got, c.same)
		}
	}
	if Canonical(upperSID) != lowerSID || Canonical("Bob") != "Bob" {
		t.Errorf("Canonical: %q, %q", Canonical(upperSID), Canonical("Bob"))
	}
}

func FuzzSame(f *testing.F) {
	f.Add("BS0123456789abcdefABCDEF0123456789", "BS0123456789ABCDEFabcdef0123456789")
	f.Add("a", "A")
	f.Fuzz(func(t *testing.T, a, b string) {
		// Equal, or two SIDs of one prefix equal but for case.
		want := a == b || len(a) == Len && Valid(a[:2], a) && Valid(a[:2], b) && strings.EqualFold(a, b)
		if got := Same(a, b); got != want {
			t.Fatalf("Same(%q, %q) = %v, want %v", a, b, got, want)
		}
		if Same(a, b) != (Canonical(a) == Canonical(b)) {
			t.Fatalf("Same and Canonical disagree on %q, %q", a, b)
		}
	})
}
