package cleanup

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFollowLinksReadsDotDotAsTheKernelDoes: ".." after a component that
// is a symbolic link goes to the parent of where the link leads, as the
// kernel goes, in the path given and in a link's target.
// Case a: the path given is "ln/../journal", ln a link to real/deep.
// Case b: the journal is a link whose target is "ln/../j".
func TestFollowLinksReadsDotDotAsTheKernelDoes(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	deep := filepath.Join(real, "deep")
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(deep, filepath.Join(root, "ln")); err != nil {
		t.Skip(err)
	}
	// The kernel's file for case a: root/real/journal.
	if err := os.WriteFile(filepath.Join(real, "journal"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Case b: root/j is a decoy at the lexical place; the kernel's is root/real/j.
	if err := os.WriteFile(filepath.Join(real, "j"), []byte("kernel"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "j"), []byte("lexical"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("ln/../j", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	for _, given := range []string{filepath.Join(root, "ln") + "/../journal", filepath.Join(root, "link")} {
		kernel, err := os.Stat(given)
		if err != nil {
			t.Fatal(err)
		}
		got, err := followLinks(given)
		if err != nil {
			t.Fatalf("%s: %v", given, err)
		}
		fi, err := os.Stat(got)
		if err != nil || !os.SameFile(fi, kernel) {
			t.Errorf("followLinks(%q) = %q (stat: %v); the kernel opens another file", given, got, err)
		}
	}
}
