package cleanup_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
)

// interruptAfter is an OnOutcome that cancels the job after n outcomes.
func interruptAfter(n int, cancel func()) func(cleanup.Outcome) {
	var seen atomic.Int64
	return func(cleanup.Outcome) {
		if seen.Add(1) == int64(n) {
			cancel()
		}
	}
}

// TestResumeUsersAfterAnInterruption: a job of users stopped midway and
// started again with its journal lists none of the users it finished,
// removes nothing twice, and leaves no stale binding.
func TestResumeUsersAfterAnInterruption(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 20, 6)
	journal := filepath.Join(t.TempDir(), "job.journal")
	ctx, cancel := context.WithCancel(context.Background())
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Concurrency: 2, OnOutcome: interruptAfter(25, cancel)})
	r1, err := job.Users(ctx, w.names())
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v", err)
	}
	firstLists := c.userLists()
	var got outcomes
	job, _ = cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Concurrency: 2, OnOutcome: got.add})
	r2, err := job.Users(context.Background(), w.names())
	if err != nil {
		t.Fatalf("resumed: %v", err)
	}
	got.agree(t, r2)
	relisted := c.userLists() - firstLists
	if r2.Skipped == 0 || relisted != 20-int(r2.Skipped) {
		t.Errorf("resumed: %d users skipped as finished, %d listed; want every other user listed once", r2.Skipped, relisted)
	}
	if stale, _ := w.left(t); stale != 0 || r1.Removed+r2.Removed != 60 || w.srv.Stats().RemoveMisses != 0 || c.deletedTwice() != 0 {
		t.Errorf("%d stale left; removed %d then %d; %d DELETEs found nothing", stale, r1.Removed, r2.Removed, w.srv.Stats().RemoveMisses)
	}
	// Opened again, the journal is compacted: the users it counts as done
	// are hashes of their names, and nothing is pending.
	job, _ = cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
	if r3, err := job.Users(context.Background(), w.names()); err != nil || r3.Skipped != 20 || r3.Matched != 0 {
		t.Fatalf("a third run: %+v, %v", r3, err)
	}
	raw, _ := os.ReadFile(journal)
	if bytes.Contains(raw, []byte("ops@example.com")) || bytes.Count(raw, []byte("\n")) != 22 {
		t.Errorf("the compacted journal: want a header, a cutoff and 20 users as hashes of their names:\n%s", raw)
	}
}

// TestResumeAWalkFromItsPlace: a service-wide walk stopped midway goes on
// from the first page it had not finished.
func TestResumeAWalkFromItsPlace(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 10, 10) // 100 bindings, pages of 5: 20 pages
	journal := filepath.Join(t.TempDir(), "walk.journal")
	ctx, cancel := context.WithCancel(context.Background())
	opts := cleanup.Options{OlderThan: month, Apply: true, Journal: journal, PageSize: 5, Concurrency: 1}
	opts.OnOutcome = interruptAfter(30, cancel)
	job, _ := cleanup.New(w.service(), opts)
	r1, _ := job.Service(ctx)
	cancel()
	firstPages := c.count("GET", w.svc.SID+"/Bindings")
	opts.OnOutcome = nil
	job, _ = cleanup.New(w.service(), opts)
	r2, err := job.Service(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resumedPages := c.count("GET", w.svc.SID+"/Bindings") - firstPages
	// The walk's pages shrink as bindings go: what is left fits in fewer.
	if resumedPages == 0 || resumedPages >= firstPages+10 {
		t.Errorf("the first run fetched %d pages, the resumed one %d", firstPages, resumedPages)
	}
	if stale, _ := w.left(t); stale != 0 || r1.Removed+r2.Removed != 50 || w.srv.Stats().RemoveMisses != 0 {
		t.Errorf("%d stale left; removed %d then %d; %d removed twice", stale, r1.Removed, r2.Removed, w.srv.Stats().RemoveMisses)
	}
	// Finished: started again, it has nothing to do and sends nothing.
	before := w.srv.Stats().Requests
	for i := 0; i < 3; i++ {
		job, _ = cleanup.New(w.service(), opts)
		if r, err := job.Service(context.Background()); err != nil || r.Matched != 0 {
			t.Fatalf("a finished walk resumed: %+v, %v", r, err)
		}
	}
	if n := w.srv.Stats().Requests - before; n != 0 {
		t.Errorf("a finished walk resumed sent %d requests", n)
	}
	if fi, _ := os.Stat(journal); fi.Size() > 512 {
		t.Errorf("a finished walk's journal holds %d bytes; it keeps only that it finished", fi.Size())
	}
}

// TestAnUnansweredRemovalIsReportedRemoved: a job killed after it sent a
// DELETE, before the answer came back, left an intent in its journal (as
// the package documents the format). Resumed, the job finds the binding
// gone and reports it removed, and audits it so, not "already gone".
func TestAnUnansweredRemovalIsReportedRemoved(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2)
	u := w.users[0]
	var sid string
	for _, b := range u.Bindings() {
		if w.stale[b.SID] {
			sid = string(b.SID)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	cut := now.Add(-month)
	journal := filepath.Join(t.TempDir(), "job.journal")
	lines := []string{
		`{"journal":1,"service":"` + w.svc.SID + `","mode":"users","older_than":"720h0m0s"}`,
		`{"cutoff":"` + cut.Format(time.RFC3339) + `","api_time":"` + now.Format(time.RFC3339) + `"}`,
		`{"sid":"` + sid + `","user":"` + u.Identity + `","intent":true}`,
	}
	if err := os.WriteFile(journal, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	u.RemoveBinding(sid) // the DELETE the killed job sent was served
	var audit bytes.Buffer
	var got outcomes
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Audit: &audit, OnOutcome: got.add})
	r, err := job.Users(context.Background(), w.names())
	if err != nil || r.Removed != 1 || r.AlreadyGone != 0 || r.Cutoff != cut {
		t.Fatalf("resumed: %+v, %v", r, err)
	}
	if !strings.Contains(audit.String(), `"sid":"`+sid+`"`) || !strings.Contains(audit.String(), `"outcome":"removed"`) {
		t.Errorf("the audit of the resumed run does not say %s was removed:\n%s", sid, audit.String())
	}
	if got.list[0].SID != chat.BindingSID(sid) || got.list[0].User != u.Identity || got.list[0].Result != cleanup.Removed {
		t.Errorf("the resumed outcome: %+v", got.list[0])
	}
}

// TestFailedRemovalsAreTriedAgain: removals that failed are tried again by
// the resumed job, once each, even when the walk meets them again; a
// resumed job interrupted before it tried them keeps them for the next.
func TestFailedRemovalsAreTriedAgain(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 4, 10)
	journal := filepath.Join(t.TempDir(), "walk.journal")
	opts := cleanup.Options{OlderThan: month, Apply: true, Journal: journal, PageSize: 7}
	w.srv.Inject(chattest.Fault{Method: "DELETE", Status: 403, Times: 3})
	job, _ := cleanup.New(w.service(), opts)
	r1, err := job.Service(context.Background())
	if !errors.Is(err, cleanup.ErrFailed) || r1.Failed != 3 || r1.Removed != 17 {
		t.Fatalf("first run: %+v, %v", r1, err)
	}
	// Interrupted before it could try them: they stay in the journal.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	job, _ = cleanup.New(w.service(), opts)
	if _, err := job.Service(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("an interrupted resume: %v", err)
	}
	c.mu.Lock()
	c.deletes = map[string]int{}
	c.mu.Unlock()
	job, _ = cleanup.New(w.service(), opts)
	r3, err := job.Service(context.Background())
	if err != nil || r3.Removed != 3 || r3.Failed != 0 {
		t.Fatalf("resumed: %+v, %v", r3, err)
	}
	if stale, _ := w.left(t); stale != 0 || c.deletedTwice() != 0 || w.srv.Stats().RemoveMisses != 0 {
		t.Errorf("%d stale left; %d bindings DELETEd twice by the resumed walk; %d DELETEs found nothing", stale, c.deletedTwice(), w.srv.Stats().RemoveMisses)
	}
}

// TestAJournalOfAnotherJobIsRefused, before anything is sent.
func TestAJournalOfAnotherJobIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 2)
	journal := filepath.Join(t.TempDir(), "job.journal")
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
	if _, err := job.Service(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := w.srv.Stats().Requests
	cases := map[string]func() (cleanup.Report, error){
		"another mode": func() (cleanup.Report, error) {
			job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
			return job.Users(context.Background(), w.names())
		},
		"another age": func() (cleanup.Report, error) {
			job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: 2 * month, Apply: true, Journal: journal})
			return job.Service(context.Background())
		},
		"other types": func() (cleanup.Report, error) {
			job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal, Types: []chat.BindingType{chat.BindingTypeAPN}})
			return job.Service(context.Background())
		},
		"another service": func() (cleanup.Report, error) {
			other := newWorld(t, 1, 1)
			job, _ := cleanup.New(other.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
			return job.Service(context.Background())
		},
	}
	for name, run := range cases {
		if _, err := run(); !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), "journal of another job") {
			t.Errorf("%s: %v, want the journal refused (ErrRefused)", name, err)
		}
	}
	if n := w.srv.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent with a refused journal", n)
	}
	// The same service in upper-case hex is the same job.
	upper := w.api.Services(w.svc.SID[:2] + strings.ToUpper(w.svc.SID[2:]))
	job, _ = cleanup.New(upper, cleanup.Options{OlderThan: month, Apply: true, Journal: journal})
	if _, err := job.Service(context.Background()); err != nil {
		t.Errorf("the journal's service in upper case: %v", err)
	}
}

// TestWhatIsNotAJournalIsRefused having read at most its first line: a 1 GiB
// file of zeros, a file of something else, an empty file, and journals
// edited so that their cutoff contradicts their age, or a line is no
// record. A line cut off by a kill mid-write is what was never done.
func TestWhatIsNotAJournalIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1, 2)
	dir := t.TempDir()
	run := func(path string) error {
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: path})
		_, err := job.Service(context.Background())
		return err
	}
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	if err := run(huge); !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), "not a journal") {
		t.Errorf("a 1 GiB file: %v", err)
	}
	t.Logf("a 1 GiB file refused in %v", time.Since(start))
	head := `{"journal":1,"service":"` + w.svc.SID + `","mode":"service","older_than":"720h0m0s"}`
	now := time.Now().UTC().Truncate(time.Second)
	cutoff := func(cut, api time.Time) string {
		return `{"cutoff":"` + cut.Format(time.RFC3339) + `","api_time":"` + api.Format(time.RFC3339) + `"}`
	}
	cases := map[string]struct{ body, want string }{
		"something else":           {"users.txt\nalice\n", "not a journal"},
		"empty":                    {"", "not a journal"},
		"a cutoff a day old":       {head + "\n" + cutoff(now.Add(-24*time.Hour), now) + "\n", "cutoff"},
		"a cutoff from the future": {head + "\n" + cutoff(now.Add(24*time.Hour-month), now.Add(24*time.Hour)) + "\n", "has not come yet"},
		"a line that is no record": {head + "\n" + `{"sid":"BS1","intent":true}` + "\n", "line 2"},
		"an unknown record":        {head + "\n" + `{"removed":"everything"}` + "\n", "line 2"},
		"a header later":           {head + "\n" + head + "\n", "line 2"},
	}
	for name, tc := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := run(path); !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrRefused, saying %q", name, err, tc.want)
		}
	}
	torn := filepath.Join(dir, "torn")
	if err := os.WriteFile(torn, []byte(head+"\n"+cutoff(now.Add(-month), now)+"\n"+`{"sid":"BS0123`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(torn); err != nil {
		t.Errorf("a journal whose last line was cut off by a kill: %v", err)
	}
}

// TestAJournalThroughASymlinkStaysWhereItLeads: a journal named by a link
// (kept on a mounted volume) is written where the link leads, and the link
// stays a link, through being written again compacted and resumed.
func TestAJournalThroughASymlinkStaysWhereItLeads(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 2)
	volume, here := t.TempDir(), t.TempDir()
	target := filepath.Join(volume, "job.journal")
	link := filepath.Join(here, "job.journal")
	if err := os.Symlink(filepath.Join("..", filepath.Base(volume), "job.journal"), link); err != nil {
		t.Skip(err) // no symbolic links here
	}
	for run := 1; run <= 2; run++ {
		job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Journal: link})
		if _, err := job.Users(context.Background(), w.names()); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("run %d: %s is no longer a link (%v, %v)", run, link, fi.Mode(), err)
		}
		b, err := os.ReadFile(target)
		if err != nil || !strings.Contains(string(b), `"done"`) {
			t.Fatalf("run %d: the link's target holds %q, %v; want the journal", run, b, err)
		}
	}
}

// TestAFullDiskUnderTheAuditEndsTheJob: an audit that cannot be written
// ends the job with a *WriteError; the removal it could not audit is
// counted all the same, and nothing more is removed.
func TestAFullDiskUnderTheAuditEndsTheJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 5, 20)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Apply: true, Audit: &failingWriter{after: 2}, Concurrency: 1})
	r, err := job.Service(context.Background())
	var we *cleanup.WriteError
	if !errors.As(err, &we) || we.What != "audit" || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want a WriteError on the audit", err)
	}
	if stale, _ := w.left(t); r.Removed > 4 || int64(50-stale) != r.Removed {
		t.Errorf("%+v; %d stale left: the job went on after the audit failed, or lost count", r, stale)
	}
}
