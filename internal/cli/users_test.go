package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "users.txt")
	if err := os.WriteFile(file, []byte("alice\r\n# comment\n\n bob with spaces \nUS0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := []string{"alice", " bob with spaces ", "US0123456789abcdef0123456789abcdef"}
	cases := []struct {
		name     string
		args     []string
		file     string
		stdin    string
		fallback []string
		want     []string
		wantErr  bool
	}{
		{"arguments win", []string{"x", "y"}, file, "z\n", nil, []string{"x", "y"}, false},
		{"file", nil, file, "z\n", nil, fromFile, false},
		{"dash is stdin", nil, "-", "z\nw\n", nil, []string{"z", "w"}, false},
		{"piped stdin", nil, "", "z\n", nil, []string{"z"}, false},
		{"fallback", nil, "", "", []string{"demo"}, []string{"demo"}, false},
		{"nothing", nil, "", "", nil, nil, true},
		{"missing file", nil, file + ".nope", "", nil, nil, true},
	}
	for _, tc := range cases {
		got, err := Users(tc.args, tc.file, strings.NewReader(tc.stdin), tc.fallback)
		if (err != nil) != tc.wantErr || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
}
