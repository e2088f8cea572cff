package cleanup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// The journal is a file of JSON lines, appended as the job goes: a header
// naming the job it belongs to, then records of what happened. A record is
// one write to a file opened for appending, so a kill at any moment loses
// no record already written; the file is synced every second and at the
// end, so a crash of the machine loses at most the last second. A torn last
// line (a kill mid-write) is ignored: what it would have recorded is done
// again, re-checked.
//
//	{"journal":1,"service":"IS…","mode":"users","types":["apn"],"older_than":"720h0m0s"}
//	{"cutoff":"2026-11-01T00:00:00Z","api_time":"2026-12-01T00:00:00Z"}
//	{"done":"8f2c…"}                          a user listed, and each of its removals decided (a hash of its name)
//	{"sid":"BS…","user":"alice","intent":true,…} a DELETE may be sent next (with the binding as last read)
//	{"sid":"BS…","user":"alice","result":"removed"}
//	{"walk":"https://…"}                      the service-wide walk goes on from this page ("" is the first)
//	{"finished":true}                         the job did all it was asked
//
// Opening a journal replays it and writes it again compacted, so that
// resuming a job many times, or a job that finished, does not grow it.

// journalVersion is the format's version.
const journalVersion = 1

// maxJournalLine bounds a line: a record holds at most a user's name,
// which the tools read in lines of at most 1 MiB.
const maxJournalLine = 1<<20 + 4096

// header is the first line: the job a journal belongs to.
type header struct {
	Journal   int      `json:"journal"`
	Service   string   `json:"service"`
	Mode      string   `json:"mode"` // users, service, or plan
	Types     []string `json:"types,omitempty"`
	OlderThan string   `json:"older_than"`
	Plan      string   `json:"plan,omitempty"` // the plan's digest
}

// record is any other line; exactly one of its kinds is set.
type record struct {
	Cutoff   *time.Time `json:"cutoff,omitempty"`
	APITime  *time.Time `json:"api_time,omitempty"`
	Done     string     `json:"done,omitempty"`
	SID      string     `json:"sid,omitempty"`
	User     string     `json:"user,omitempty"`
	Intent   bool       `json:"intent,omitempty"`
	Identity string     `json:"identity,omitempty"`     // an intent's binding as last read
	Type     string     `json:"binding_type,omitempty"` // …
	Updated  *time.Time `json:"date_updated,omitempty"` // …
	Result   string     `json:"result,omitempty"`
	Walk     *string    `json:"walk,omitempty"`
	Finished bool       `json:"finished,omitempty"`
}

// sidKey is a binding SID's 32 hex digits, decoded: one key for either case.
type sidKey [16]byte

func keyOf(sid chat.BindingSID) (sidKey, bool) {
	var k sidKey
	if !sid.Valid() {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(sid[2:]))
	return k, err == nil
}

// userKey is the first 8 bytes of the SHA-256 of a user's name: a journal
// of a million users holds 8 MiB of them, not the names. Two names share a
// key with a probability of about 3·10⁻⁸ in a million.
type userKey uint64

func userKeyOf(name string) userKey {
	sum := sha256.Sum256([]byte(name))
	return userKey(binary.BigEndian.Uint64(sum[:8]))
}

// pending is a binding an earlier run left undecided: its DELETE may have
// been sent (intent), or it failed.
type pending struct {
	sid      chat.BindingSID
	user     string
	intent   bool
	identity string           // as last read, for the outcome's line
	typ      chat.BindingType // as last read
	updated  time.Time        // as last read
}

// replayed is what a journal says an earlier run did.
type replayed struct {
	cutoff, apiTime time.Time
	users           *keySet
	decided         map[sidKey]Result // plan mode: every binding decided
	pending         map[sidKey]pending
	walk            *string
	finished        bool
}

// journal appends records to the file of one job.
type journal struct {
	path   string
	unlock func() // releases path+".lock"

	mu    sync.Mutex
	f     *os.File
	dirty bool
	err   error // the first write error: the journal is then unusable
}

// errLocked is a journal another job holds.
var errLocked = errors.New("locked")

// openJournal opens the journal at path for the job h describes: a new one,
// or one an earlier run of the same job wrote, which it replays and writes
// again compacted. A file that is not a journal, or is one of another job,
// is refused with an error that says which, having read at most its first
// line.
//
// A journal is one job's at a time: opening it takes a lock on the file
// path+".lock" (on systems with flock), which a second job given the same
// path is refused for; a kill releases it.
func openJournal(path string, h header, olderThan time.Duration) (*journal, *replayed, error) {
	path, err := followLinks(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cleanup: journal: %w", err)
	}
	unlock, err := lockFile(path + ".lock")
	switch {
	case errors.Is(err, errLocked):
		return nil, nil, refuse("cleanup: the journal %s is in use by another job, which holds %s.lock: wait for it to end, or give another path", path, path)
	case err != nil:
		return nil, nil, fmt.Errorf("cleanup: journal: %w", err)
	}
	j, r, err := openLocked(path, h, olderThan)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	j.unlock = unlock
	return j, r, nil
}

func openLocked(path string, h header, olderThan time.Duration) (*journal, *replayed, error) {
	r := &replayed{users: &keySet{}, decided: map[sidKey]Result{}, pending: map[sidKey]pending{}}
	// Opening a FIFO would wait for a writer for ever, and a journal is
	// written again by renaming over it: only a regular file is one.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, refuse("cleanup: %s is not a regular file but %s; a journal is one: give another path", path, kindOf(fi.Mode()))
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, nil, fmt.Errorf("cleanup: journal: %w", err)
	default:
		err = r.read(f, path, h, olderThan)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	j := &journal{path: path}
	if err := j.rewrite(h, r); err != nil {
		return nil, nil, &WriteError{What: "journal", Err: err}
	}
	return j, r, nil
}

// read replays a journal.
func (r *replayed) read(f io.Reader, path string, h header, olderThan time.Duration) error {
	br := bufio.NewReaderSize(f, 64<<10)
	line, torn, err := readLine(br)
	var got header
	if err != nil || torn || json.Unmarshal(line, &got) != nil || got.Journal == 0 {
		return refuse("cleanup: %s is not a journal of this package (its first line is not a journal header); give another path", path)
	}
	if got.Journal != journalVersion {
		return refuse("cleanup: %s is a journal of version %d; this package reads version %d", path, got.Journal, journalVersion)
	}
	if diff := h.differences(got); diff != "" {
		return refuse("cleanup: %s is the journal of another job (%s): run the job it records, or give another path", path, diff)
	}
	for n := 2; ; n++ {
		line, torn, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		bad := func(why string) error {
			return refuse("cleanup: line %d of the journal %s %s; it may have been edited: give another path, or restore it", n, path, why)
		}
		if err != nil {
			return bad("cannot be read: " + err.Error())
		}
		var rec record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil || dec.More() {
			if torn {
				return nil // cut off by a kill mid-write: never done
			}
			return bad("is not a journal record")
		}
		if err := r.apply(rec, olderThan); err != nil {
			return bad(err.Error())
		}
	}
}

// readLine reads one line, without its newline; torn reports a last line
// with no newline. A line longer than maxJournalLine is an error.
func readLine(br *bufio.Reader) (line []byte, torn bool, err error) {
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		switch {
		case len(line) > maxJournalLine:
			return nil, false, errors.New("a line longer than any record")
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) == 0:
			return nil, false, io.EOF
		case err == io.EOF:
			return line, true, nil
		case err != nil:
			return nil, false, err
		}
		return line[:len(line)-1], false, nil
	}
}

// apply replays one record.
func (r *replayed) apply(rec record, olderThan time.Duration) error {
	switch {
	case rec.Cutoff != nil:
		// The API time is held to the API's clock before anything is
		// removed (Job.checkPinned).
		if rec.APITime == nil || !rec.Cutoff.Equal(rec.APITime.Add(-olderThan)) {
			return fmt.Errorf("has a cutoff that is not older_than (%v) before the API time it was taken at", olderThan)
		}
		r.cutoff, r.apiTime = rec.Cutoff.UTC(), rec.APITime.UTC()
	case rec.SID != "":
		k, ok := keyOf(chat.BindingSID(rec.SID))
		if !ok {
			return errors.New("names a binding SID that is not one")
		}
		switch {
		case rec.Intent:
			p := pending{sid: chat.BindingSID(rec.SID), user: rec.User, intent: true, identity: rec.Identity, typ: chat.BindingType(rec.Type)}
			if rec.Updated != nil {
				p.updated = rec.Updated.UTC()
			}
			r.pending[k] = p
		case rec.Result == Failed.String():
			p := r.pending[k] // a failure after an intent may still have removed it
			p.sid, p.user = chat.BindingSID(rec.SID), rec.User
			r.pending[k] = p
		default:
			res, ok := resultNamed(rec.Result)
			if !ok {
				return fmt.Errorf("has a result %q that is not one", rec.Result)
			}
			delete(r.pending, k)
			r.decided[k] = res
		}
	case rec.Done != "":
		b, err := hex.DecodeString(rec.Done)
		if err != nil || len(b) != 8 {
			return errors.New("names a finished user by something that is not a key")
		}
		r.users.add(userKey(binary.BigEndian.Uint64(b)))
	case rec.Walk != nil:
		r.walk = rec.Walk
	case rec.Finished:
		r.finished = true
	default:
		return errors.New("is empty")
	}
	return nil
}

func resultNamed(s string) (Result, bool) {
	for _, r := range []Result{Removed, AlreadyGone, Kept} {
		if r.String() == s {
			return r, true
		}
	}
	return 0, false
}

func (h header) differences(was header) string {
	var d []string
	if !sid.Same(h.Service, was.Service) {
		d = append(d, fmt.Sprintf("service %s, not %s", was.Service, h.Service))
	}
	if h.Mode != was.Mode {
		d = append(d, fmt.Sprintf("a walk of %s, not %s", was.Mode, h.Mode))
	}
	if !slices.Equal(h.Types, was.Types) {
		d = append(d, fmt.Sprintf("types %q, not %q", strings.Join(was.Types, ","), strings.Join(h.Types, ",")))
	}
	if h.OlderThan != was.OlderThan {
		d = append(d, fmt.Sprintf("older than %s, not %s", was.OlderThan, h.OlderThan))
	}
	if h.Plan != was.Plan {
		d = append(d, "another plan")
	}
	return strings.Join(d, "; ")
}

// rewrite writes the journal anew, compacted, atomically: a temporary file
// in the same directory, synced, renamed over the old one, the directory
// synced. A finished job keeps only that it finished.
func (j *journal) rewrite(h header, r *replayed) error {
	dir := filepath.Dir(j.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(j.path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	put := func(v any) {
		if err == nil {
			err = enc.Encode(v)
		}
	}
	put(h)
	if !r.cutoff.IsZero() {
		put(record{Cutoff: &r.cutoff, APITime: &r.apiTime})
	}
	if r.finished {
		put(record{Finished: true})
	} else {
		r.users.each(func(k userKey) { put(record{Done: fmt.Sprintf("%016x", uint64(k))}) })
		if r.walk != nil {
			put(record{Walk: r.walk})
		}
		if h.Mode == modePlan {
			for k, res := range r.decided {
				put(record{SID: "BS" + hex.EncodeToString(k[:]), Result: res.String()})
			}
		}
		for _, p := range r.pending {
			if p.intent {
				rec := record{SID: string(p.sid), User: p.user, Intent: true, Identity: p.identity, Type: string(p.typ)}
				if !p.updated.IsZero() {
					rec.Updated = &p.updated
				}
				put(rec)
			} else {
				put(record{SID: string(p.sid), User: p.user, Result: Failed.String()})
			}
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), j.path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil {
		j.f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// put appends one record, in one write.
func (j *journal) put(rec record) error {
	if j == nil {
		return nil
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		j.err = &WriteError{What: "journal", Err: err}
		return j.err
	}
	j.dirty = true
	return nil
}

func (j *journal) cutoff(cut, apiTime time.Time) error {
	return j.put(record{Cutoff: &cut, APITime: &apiTime})
}

func (j *journal) intent(t *task) error {
	return j.put(record{SID: string(t.sid), User: t.user, Intent: true, Identity: t.identity, Type: string(t.typ), Updated: &t.updated})
}

// outcome records a binding's outcome: a failed one with its user, to be
// tried again through the same resource.
func (j *journal) outcome(t *task, r Result) error {
	switch r {
	case WouldRemove:
		return nil
	case Failed:
		return j.put(record{SID: string(t.sid), User: t.user, Result: r.String()})
	}
	return j.put(record{SID: string(t.sid), Result: r.String()})
}

func (j *journal) userDone(name string) error {
	return j.put(record{Done: fmt.Sprintf("%016x", uint64(userKeyOf(name)))})
}

func (j *journal) walkFrom(pageURL string) error { return j.put(record{Walk: &pageURL}) }

func (j *journal) finished() error { return j.put(record{Finished: true}) }

// sync makes what was written durable, if anything was, and checks that
// the file at the journal's path is still the one written to: a journal
// replaced or removed under the job (by another job on a system without
// flock, a rotation, an operator) would lose every record after it.
func (j *journal) sync() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if j.dirty {
		if err := j.f.Sync(); err != nil {
			j.err = &WriteError{What: "journal", Err: err}
			return j.err
		}
		j.dirty = false
	}
	open, err1 := j.f.Stat()
	named, err2 := os.Stat(j.path)
	if err1 != nil || err2 != nil || !os.SameFile(open, named) {
		j.err = &WriteError{What: "journal", Err: fmt.Errorf("%s was replaced or removed while the job ran; what the job did since is not in it", j.path)}
	}
	return j.err
}

// release gives the journal's lock back.
func (j *journal) release() {
	if j != nil && j.unlock != nil {
		j.unlock()
	}
}

// close syncs and closes the file. (The lock stays until release.)
func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	err := j.sync()
	j.mu.Lock()
	defer j.mu.Unlock()
	if cerr := j.f.Close(); err == nil && cerr != nil {
		err = &WriteError{What: "journal", Err: cerr}
	}
	return err
}

// followLinks is the file path names through any symbolic links, the last
// of which need not lead to a file yet. The journal is written again by
// renaming a new file over it, which would replace a link (a journal kept on
// a mounted volume) rather than the file it leads to. Nothing is cleaned
// by its text: ".." after a link is the link's parent, as the kernel reads
// it ("ln/../j" with ln leading to "real/deep" is "real/j", not "j"), so the
// directory part is resolved by filepath.EvalSymlinks, which walks it so.
func followLinks(path string) (string, error) {
	for hops := 0; ; hops++ {
		dir, base := ".", path
		if i := strings.LastIndexByte(path, filepath.Separator); i >= 0 {
			dir, base = path[:i+1], path[i+1:]
		}
		dir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return path, nil // no such directory: opening it says so
			}
			return "", err
		}
		path = dir + string(filepath.Separator) + base
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, os.ErrNotExist) || err == nil && fi.Mode()&os.ModeSymlink == 0:
			return path, nil
		case err != nil:
			return "", err
		case hops == 40:
			return "", fmt.Errorf("%s: too many symbolic links", path)
		}
		to, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(to) {
			to = dir + string(filepath.Separator) + to
		}
		path = to
	}
}

// kindOf names what a file that is not a regular one is.
func kindOf(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m.IsDir():
		return "a directory"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "something else"
}
