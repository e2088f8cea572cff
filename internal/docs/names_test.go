package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	testFunc  = regexp.MustCompile(`(?m)^func ((?:Test|Example|Fuzz|Benchmark)[A-Za-z0-9_]*)\(`)
	citedName = regexp.MustCompile("`((?:Test|Example|Fuzz|Benchmark)[A-Z_][A-Za-z0-9_]*)(\\*?)`")
)

// TestCitedTestsExist checks that every test, example, fuzz target or
// benchmark a README names in code (`TestSecretsNeverLeak`, `TestStall*`)
// is declared in some _test.go file of the repository, the conformance
// module included: a README's evidence must not outlive its test.
func TestCitedTestsExist(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	declared := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(src), -1) {
			declared[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cited := 0
	for _, rel := range readmes(t, root) {
		md, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range citedName.FindAllStringSubmatch(prose(string(md)), -1) {
			cited++
			name, prefix := m[1], m[2] == "*"
			found := declared[name]
			for d := range declared {
				found = found || prefix && strings.HasPrefix(d, name)
			}
			if !found {
				t.Errorf("%s cites %s%s, which no _test.go file declares", rel, name, m[2])
			}
		}
	}
	if cited < 30 {
		t.Errorf("only %d tests cited: is the pattern still right?", cited)
	}
}
