package client

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var (
	semver       = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	releaseEntry = regexp.MustCompile(`(?m)^\*\*v([0-9][0-9A-Za-z.+-]*)\*\*`)
)

// changelogVersions returns the versions of the changelog in README.md,
// in the order they are written.
func changelogVersions(t *testing.T) []string {
	t.Helper()
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, log, ok := strings.Cut(string(md), "\n### Changelog\n")
	if !ok {
		t.Fatal(`README.md has no "### Changelog" section`)
	}
	if next := strings.Index(log, "\n## "); next >= 0 {
		log = log[:next]
	}
	var out []string
	for _, m := range releaseEntry.FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}

// less reports whether version a comes before b; both match semver.
func less(a, b string) bool {
	pa, pb := semver.FindStringSubmatch(a)[1:], semver.FindStringSubmatch(b)[1:]
	for i := range pa {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) < len(pb[i])
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func TestVersionIsTheChangelogsNewest(t *testing.T) {
	t.Parallel()
	versions := changelogVersions(t)
	if len(versions) == 0 {
		t.Fatal("the changelog in README.md lists no version (entries start with a line **vX.Y.Z**)")
	}
	for i, v := range versions {
		if !semver.MatchString(v) {
			t.Fatalf("changelog version v%s is not vMAJOR.MINOR.PATCH", v)
		}
		if i > 0 && !less(v, versions[i-1]) {
			t.Errorf("changelog: v%s comes after v%s; newest first, each version once", v, versions[i-1])
		}
	}
	if Version != versions[0] {
		t.Errorf("client.Version is %q but the changelog's newest version is v%s: keep them in step", Version, versions[0])
	}
}

func TestVersionOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"0.1.0", "0.2.0", true}, {"0.2.0", "0.1.0", false}, {"0.9.0", "0.10.0", true},
		{"1.0.0", "0.99.99", false}, {"0.2.0", "0.2.0", false}, {"0.2.1", "0.2.10", true},
	} {
		if got := less(tc.a, tc.b); got != tc.want {
			t.Errorf("less(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
