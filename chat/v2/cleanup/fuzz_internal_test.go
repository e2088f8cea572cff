package cleanup

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// FuzzReadPlan: whatever a plan file holds, ReadPlan does not panic, and a
// plan it accepts yields exactly the bindings it counted.
func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(`{"plan":1,"id":"x","service":"IS0123456789abcdef0123456789abcdef","mode":"users","older_than":"720h0m0s","cutoff":"2026-01-01T00:00:00Z","created":"2026-01-31T00:00:00Z"}
{"sid":"BS0123456789abcdef0123456789abcdef","user":"alice","binding_type":"apn","date_updated":"2025-01-01T00:00:00Z"}
{"end":true,"lines":1,"finished":true}
`))
	f.Add([]byte(`{"plan":1,"mode":"service","older_than":"1h"}` + "\n" + `{"end":true,"lines":0,"finished":false}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ReadPlan(bytes.NewReader(in))
		if err != nil {
			return
		}
		n := int64(0)
		if err := p.each(func(l planLine) bool {
			if !l.SID.Valid() {
				t.Fatalf("yielded a line with SID %q", l.SID)
			}
			n++
			return true
		}); err != nil || n != p.Lines {
			t.Fatalf("accepted a plan counting %d bindings, which yields %d (%v)", p.Lines, n, err)
		}
	})
}

// FuzzJournal: whatever a journal file holds, opening it does not panic;
// one it accepts is written back compacted, and reads back the same.
func FuzzJournal(f *testing.F) {
	h := header{Journal: journalVersion, Service: "IS0123456789abcdef0123456789abcdef", Mode: modeService, OlderThan: "720h0m0s"}
	head := `{"journal":1,"service":"IS0123456789abcdef0123456789abcdef","mode":"service","older_than":"720h0m0s"}` + "\n"
	f.Add([]byte(head + `{"cutoff":"2026-01-01T00:00:00Z","api_time":"2026-01-31T00:00:00Z"}` + "\n" +
		`{"sid":"BS0123456789abcdef0123456789abcdef","intent":true}` + "\n" + `{"walk":"https://x/v2/Services/IS/Bindings?PageToken=PA1"}` + "\n"))
	f.Add([]byte(head + `{"done":"0123456789abcdef"}` + "\n" + `{"sid":"BS0123456789abcdef0123456789abcdee","result":"failed","user":"bob"}` + "\n" + `{"finished":true}` + "\n"))
	f.Add([]byte(head + `{"sid":"BS0123`))
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(t.TempDir(), "j")
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Fatal(err)
		}
		j, first, err := openJournal(path, h, 720*time.Hour)
		if err != nil {
			return
		}
		j.close()
		j.release()
		j, again, err := openJournal(path, h, 720*time.Hour)
		if err != nil {
			t.Fatalf("a journal written back compacted is refused: %v", err)
		}
		j.close()
		j.release()
		if first.finished { // a finished job keeps only that it finished
			if !again.finished {
				t.Fatal("a finished journal written back compacted is no longer finished")
			}
			return
		}
		if again.finished || !reflect.DeepEqual(first.pending, again.pending) || !first.cutoff.Equal(again.cutoff) ||
			!reflect.DeepEqual(first.users, again.users) || !reflect.DeepEqual(first.walk, again.walk) {
			t.Fatalf("the compacted journal reads back otherwise:\n%+v\n%+v", first, again)
		}
	})
}
