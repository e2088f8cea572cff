package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// A run's progress is kept in units, numbered in the order the run meets
// them: the users in the order they are given, the lines of a plan, the
// pages of a service-wide walk. A unit is finished when it has been listed
// and every binding found in it has an outcome. The state file records the
// finished units (a count of leading ones, a hash of their names, and the
// few finished beyond them), the units that failed (to be done again), and
// for a walk the URL of the first page not finished, so that a run started
// again with the same flags and file neither lists a finished user again
// nor removes anything twice.

// fingerprint is what a state file must have been written with.
type fingerprint struct {
	Service   string   `json:"service"`
	Mode      string   `json:"mode"` // users, all-users, or plan
	Types     []string `json:"types,omitempty"`
	OlderThan string   `json:"older_than"`
	Plan      string   `json:"plan,omitempty"` // sha256 of the plan file
}

// stateDoc is the state file.
type stateDoc struct {
	Version int         `json:"version"`
	Flags   fingerprint `json:"flags"`
	Cutoff  time.Time   `json:"cutoff"`

	Done      int    `json:"done"`                 // leading units finished
	DoneHash  string `json:"done_hash,omitempty"`  // sha256 of the names of those units, one per line
	DoneAfter []int  `json:"done_after,omitempty"` // finished units beyond them
	Failed    []int  `json:"failed,omitempty"`     // units to do again

	NextPage   string   `json:"next_page,omitempty"`   // walk: where to go on
	Finished   bool     `json:"finished,omitempty"`    // walk: its last page is done
	FailedSIDs []string `json:"failed_sids,omitempty"` // walk: removals to try again
}

const stateVersion = 1

// unit is one user, plan line or page of a run.
type unit struct {
	t       *tracker
	index   int
	name    string // a user's name, or the URL of the page after a page
	last    bool   // the last page of a walk
	pending int    // jobs without an outcome
	sealed  bool   // listed: no more jobs will come
	failed  bool
}

// add counts one more job in u; see tracker.settle.
func (u *unit) add() {
	u.t.mu.Lock()
	u.pending++
	u.t.mu.Unlock()
}

// tracker follows units to completion and keeps the state file. One lock
// guards it and its units: the run's bookkeeping, held for microseconds.
type tracker struct {
	mu    sync.Mutex
	path  string
	doc   stateDoc
	prev  stateDoc // as read at the start, for resuming
	audit *auditLog

	prevFailed, prevDoneAfter map[int]bool // prev's lists, as sets

	units    map[int]*unit // units not yet past the watermark
	next     int           // the watermark: every unit below it is settled
	hash     hash.Hash     // over the names of the units below the watermark
	settled  map[int]bool  // settled units at or above the watermark
	failedAt map[int]bool
	dirty    bool
	err      error
}

// openTracker reads the state file at path, if there is one, and checks
// that it was written with the same flags. Without a path, it only counts.
func openTracker(path string, fp fingerprint, audit *auditLog) (*tracker, error) {
	t := &tracker{path: path, units: map[int]*unit{}, settled: map[int]bool{}, failedAt: map[int]bool{}, hash: sha256.New(), audit: audit}
	t.doc = stateDoc{Version: stateVersion, Flags: fp}
	if path == "" {
		return t, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, cli.Usagef("-state: %v", err)
	}
	if err := json.Unmarshal(b, &t.prev); err != nil || t.prev.Version != stateVersion {
		return nil, cli.Usagef("-state %s is not a state file of this tool (version %d); give another file", path, stateVersion)
	}
	if diff := fp.differences(t.prev.Flags); diff != "" {
		return nil, cli.Usagef("-state %s was written by a run with other flags (%s): run again with those flags, or give another -state file", path, diff)
	}
	t.doc.Cutoff = t.prev.Cutoff
	t.doc.NextPage, t.doc.Finished = t.prev.NextPage, t.prev.Finished
	t.prevFailed, t.prevDoneAfter = setOf(t.prev.Failed), setOf(t.prev.DoneAfter)
	return t, nil
}

func setOf(xs []int) map[int]bool {
	m := make(map[int]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (fp fingerprint) differences(was fingerprint) string {
	var d []string
	if fp.Service != was.Service {
		d = append(d, fmt.Sprintf("service %s, not %s", was.Service, fp.Service))
	}
	if fp.Mode != was.Mode {
		d = append(d, fmt.Sprintf("mode %s, not %s", was.Mode, fp.Mode))
	}
	if !slices.Equal(fp.Types, was.Types) {
		d = append(d, fmt.Sprintf("-type %q, not %q", strings.Join(was.Types, ","), strings.Join(fp.Types, ",")))
	}
	if fp.OlderThan != was.OlderThan {
		d = append(d, fmt.Sprintf("-older-than %s, not %s", was.OlderThan, fp.OlderThan))
	}
	if fp.Plan != was.Plan {
		d = append(d, "another plan")
	}
	return strings.Join(d, "; ")
}

func (t *tracker) pinnedCutoff() time.Time { return t.doc.Cutoff }

func (t *tracker) pinCutoff(c time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.doc.Cutoff, t.dirty = c, true
}

// resumeUsers returns the users still to do: those the state file does not
// record as finished, the ones that failed first. The names of the
// finished ones must hash as they did, or the users given are not the ones
// the state file is about.
func (t *tracker) resumeUsers(users *cli.Users) (func() (int, string, bool), error) {
	i := 0
	plain := func() (int, string, bool) {
		for {
			name, ok := users.Next()
			if !ok {
				return 0, "", false
			}
			i++
			if t.prevDoneAfter[i-1] {
				t.skip(i-1, name)
				continue
			}
			return i - 1, name, true
		}
	}
	if t.prev.Done == 0 {
		return plain, nil
	}
	type todo struct {
		i    int
		name string
	}
	var again []todo
	h := sha256.New()
	for ; i < t.prev.Done; i++ {
		name, ok := users.Next()
		if !ok {
			return nil, cli.Usagef("-state %s records %d finished users, but only %d were given: give the same users as the run it records", t.path, t.prev.Done, i)
		}
		h.Write([]byte(name + "\n"))
		if t.prevFailed[i] {
			again = append(again, todo{i, name})
			continue
		}
		t.skip(i, name)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != t.prev.DoneHash {
		return nil, cli.Usagef("-state %s was written for other users: the first %d given differ from the run it records", t.path, t.prev.Done)
	}
	return func() (int, string, bool) {
		if len(again) > 0 {
			a := again[0]
			again = again[1:]
			return a.i, a.name, true
		}
		return plain()
	}, nil
}

// resumeLines reports, for each line of a plan, whether it is still to do.
func (t *tracker) resumeLines() func(int) bool {
	return func(i int) bool {
		if (i < t.prev.Done && !t.prevFailed[i]) || t.prevDoneAfter[i] {
			t.skip(i, "")
			return false
		}
		return true
	}
}

// walkFrom is where a walk resumes, and whether it has nothing left.
func (t *tracker) walkFrom() (string, bool) { return t.prev.NextPage, t.prev.Finished }

// retrySIDs are the removals a walk's earlier run failed.
func (t *tracker) retrySIDs() []string { return t.prev.FailedSIDs }

// skip settles a unit that an earlier run finished.
func (t *tracker) skip(i int, name string) {
	u := t.open(i, name)
	t.seal(u, false)
}

// open starts following unit i (index -1: outside the numbering).
func (t *tracker) open(i int, name string) *unit {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := &unit{t: t, index: i, name: name}
	if i >= 0 {
		t.units[i] = u
	}
	return u
}

// openPage starts following the page numbered i of a walk; after is the
// URL of the page after it.
func (t *tracker) openPage(i int, after string) *unit {
	u := t.open(i, after)
	u.last = after == ""
	return u
}

// seal notes that u has been listed; failed if the listing failed.
func (t *tracker) seal(u *unit, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u.sealed = true
	u.failed = u.failed || failed
	t.check(u)
}

// settle notes that one job of u has its outcome.
func (t *tracker) settle(u *unit, failed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u.pending--
	u.failed = u.failed || failed
	t.check(u)
}

// failedSID remembers a failed removal of a walk, to try again.
func (t *tracker) failedSID(sid chat.BindingSID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.doc.Flags.Mode == "all-users" {
		t.doc.FailedSIDs = append(t.doc.FailedSIDs, string(sid))
		t.dirty = true
	}
}

// check advances the watermark past settled units; the caller holds t.mu.
func (t *tracker) check(u *unit) {
	if u.index < 0 || !u.sealed || u.pending > 0 {
		return
	}
	t.settled[u.index] = true
	if u.failed && t.doc.Flags.Mode != "all-users" {
		t.failedAt[u.index] = true
	}
	for t.settled[t.next] {
		v := t.units[t.next]
		if t.doc.Flags.Mode == "all-users" {
			if v.last {
				t.doc.NextPage, t.doc.Finished = "", true
			} else {
				t.doc.NextPage = v.name
			}
		} else {
			t.hash.Write([]byte(v.name + "\n"))
		}
		delete(t.settled, t.next)
		delete(t.units, t.next)
		t.next++
	}
	t.dirty = true
}

// snapshot is the state to write now; the caller holds t.mu.
func (t *tracker) snapshot() stateDoc {
	d := t.doc
	d.Done = t.next
	if d.Flags.Mode != "all-users" {
		d.DoneHash = hex.EncodeToString(t.hash.Sum(nil))
		d.Failed = nil
		d.DoneAfter = nil
		for i := range t.failedAt {
			d.Failed = append(d.Failed, i)
		}
		for i := range t.settled {
			if !t.failedAt[i] {
				d.DoneAfter = append(d.DoneAfter, i)
			}
		}
		slices.Sort(d.Failed)
		slices.Sort(d.DoneAfter)
	} else {
		d.Done = 0
	}
	return d
}

// save writes the state file if anything changed: the audit log first (so
// it holds every removal the state counts as done), then the state to a
// temporary file, synced, and renamed over the old one.
func (t *tracker) save() error {
	if t.path == "" {
		return nil
	}
	t.mu.Lock()
	if !t.dirty {
		t.mu.Unlock()
		return nil
	}
	doc := t.snapshot()
	t.dirty = false
	t.mu.Unlock()
	if err := t.audit.sync(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(t.path, append(b, '\n'))
}

// saveEvery saves the state every interval until the returned function is
// called, which saves it once more.
func (t *tracker) saveEvery(interval time.Duration, errOut io.Writer) (stop func()) {
	if t.path == "" {
		return func() {}
	}
	save := func() {
		if err := t.save(); err != nil && t.err == nil {
			t.err = err
			fmt.Fprintln(errOut, "cleanup-stale-bindings: saving the state:", err)
		}
	}
	stopTicks := every(interval, save)
	return func() {
		stopTicks()
		save()
	}
}

// writeFileAtomic replaces path with data so that a crash at any moment
// leaves either the old file or the new one, whole.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
