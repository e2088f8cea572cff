package cleanup

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// A plan is a dry run's verdict as JSON lines: a header that records how
// it was chosen, one line per binding that would be removed, and a last
// line that counts them, says whether the dry run finished, and holds the
// SHA-256 of every line before it, so that an edited plan is refused:
//
//	{"plan":2,"id":"…","service":"IS…","mode":"users","types":["apn"],"older_than":"720h0m0s","cutoff":"…","api_time":"…","created":"…"}
//	{"sid":"BS…","user":"alice","identity":"alice","binding_type":"apn","date_updated":"…"}
//	{"end":true,"lines":1,"finished":true,"sha256":"…"}
//
// ApplyPlan removes exactly the bindings of a plan, each re-checked against
// the plan's filters and cutoff immediately before its removal.

const planVersion = 2

// PlanHeader is the first line of a plan: how its bindings were chosen.
type PlanHeader struct {
	Plan      int       `json:"plan"` // the format's version
	ID        string    `json:"id"`   // random, naming the plan to a journal
	Service   string    `json:"service"`
	Mode      string    `json:"mode"` // users or service
	Types     []string  `json:"types,omitempty"`
	OlderThan string    `json:"older_than"`
	Cutoff    time.Time `json:"cutoff"`   // zero only in a plan of no binding
	APITime   time.Time `json:"api_time"` // the API's time the cutoff was taken at: Cutoff is OlderThan before it
	Created   time.Time `json:"created"`  // by this machine's clock
}

// OlderThanDuration is the header's OlderThan, for Options.OlderThan.
func (h PlanHeader) OlderThanDuration() (time.Duration, error) {
	return time.ParseDuration(h.OlderThan)
}

// BindingTypes is the header's Types, for Options.Types.
func (h PlanHeader) BindingTypes() []chat.BindingType {
	out := make([]chat.BindingType, 0, len(h.Types))
	for _, t := range h.Types {
		out = append(out, chat.BindingType(t))
	}
	return out
}

type planLine struct {
	SID         chat.BindingSID  `json:"sid"`
	User        string           `json:"user,omitempty"`
	Identity    string           `json:"identity,omitempty"`
	BindingType chat.BindingType `json:"binding_type"`
	DateUpdated time.Time        `json:"date_updated"`
}

type planEnd struct {
	End      bool   `json:"end"`
	Lines    int64  `json:"lines"`
	Finished bool   `json:"finished"`
	SHA256   string `json:"sha256"` // of every line before this one, newlines included
}

// planWriter writes a plan as a dry run decides, the header before the
// first line (when the cutoff is known) or at the end.
type planWriter struct {
	mu     sync.Mutex
	w      io.Writer
	sum    hash.Hash
	head   PlanHeader
	headed bool
	lines  int64
}

func newPlanWriter(w io.Writer, h header) *planWriter {
	var id [12]byte
	_, _ = rand.Read(id[:])
	return &planWriter{w: w, sum: sha256.New(), head: PlanHeader{Plan: planVersion, ID: hex.EncodeToString(id[:]), Service: h.Service, Mode: h.Mode,
		Types: h.Types, OlderThan: h.OlderThan, Created: time.Now().UTC().Truncate(time.Second)}}
}

// writeLine writes v as one line, in one Write, and sums it.
func (p *planWriter) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		p.sum.Write(b)
		_, err = p.w.Write(b)
	}
	if err != nil {
		return &WriteError{What: "plan", Err: err}
	}
	return nil
}

func (p *planWriter) ensureHeader(cut, apiTime time.Time) error {
	if p.headed {
		return nil
	}
	p.head.Cutoff, p.head.APITime = cut, apiTime
	p.headed = true
	return p.writeLine(p.head)
}

func (p *planWriter) add(t *task, cut, apiTime time.Time) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensureHeader(cut, apiTime); err != nil {
		return err
	}
	p.lines++
	return p.writeLine(planLine{SID: t.sid, User: t.user, Identity: t.identity, BindingType: t.typ, DateUpdated: t.updated})
}

// end writes the header if no line did, and the last line.
func (p *planWriter) end(cut, apiTime time.Time, finished bool) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensureHeader(cut, apiTime); err != nil {
		return err
	}
	return p.writeLine(planEnd{End: true, Lines: p.lines, Finished: finished, SHA256: hex.EncodeToString(p.sum.Sum(nil))})
}

// Plan is a plan read and checked whole, ready for ApplyPlan.
type Plan struct {
	Header PlanHeader
	// Lines is how many bindings it names; Finished whether the dry run
	// that wrote it finished (a plan of an interrupted dry run names what
	// was found before the interruption).
	Lines    int64
	Finished bool

	r      io.ReadSeeker
	digest string
	sums   []uint64 // each binding line's, to tell a plan changed after it was read
}

// maxPlanLine bounds a line of a plan: a user's name, at most 1 MiB.
const maxPlanLine = 1<<20 + 4096

// ReadPlan reads a plan whole, checking every line, then goes back to its
// first binding for ApplyPlan: a plan that is not one, was cut off or
// edited (its last line holds the SHA-256 of every line before it), has a
// line that is not a binding, or whose cutoff is not its older_than before
// the API time it was taken at, is refused before anything is removed, with
// an error that names the line. It keeps 8 bytes a line, to refuse a plan
// changed after it was read. The refusals are ErrRefused. A reader that
// cannot go back (a pipe) is refused first, before a line is read: the plan
// would be checked whole and then not applied.
//
// The last line's SHA-256 is a check against accidents (a plan cut off,
// edited by hand, mixed with another), not a seal: anyone who can write the
// plan can write a digest that fits.
func ReadPlan(r io.ReadSeeker) (*Plan, error) {
	if _, err := r.Seek(0, io.SeekCurrent); err != nil {
		return nil, refuse("cleanup: the plan cannot be read twice (%v): give a file, not a pipe; save a piped plan to a file first", err)
	}
	p := &Plan{r: r}
	h := sha256.New()
	whole := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(r, whole))
	sc.Buffer(make([]byte, 64<<10), maxPlanLine)
	bad := func(n int, why string) error { return refuse("cleanup: line %d of the plan %s", n, why) }
	var version struct {
		Plan int `json:"plan"`
	}
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &version) != nil || version.Plan == 0 {
		return nil, refuse("cleanup: not a plan: its first line is not a plan header (a plan is written by a dry run with Options.Plan)")
	}
	if version.Plan != planVersion {
		return nil, refuse("cleanup: a plan of version %d; this package reads version %d: write it again with a dry run", version.Plan, planVersion)
	}
	if strictDecode(sc.Bytes(), &p.Header) != nil {
		return nil, bad(1, "is not a plan header")
	}
	line := func() { h.Write(sc.Bytes()); h.Write([]byte{'\n'}) }
	line()
	olderThan, err := p.Header.OlderThanDuration()
	switch {
	case p.Header.Mode != modeUsers && p.Header.Mode != modeService:
		return nil, bad(1, "has a mode "+p.Header.Mode+" that is not users or service")
	case err != nil:
		return nil, bad(1, "has an older_than that is not a duration")
	case !p.Header.Cutoff.IsZero() && !p.Header.Cutoff.Equal(p.Header.APITime.Add(-olderThan)):
		return nil, bad(1, "has a cutoff that is not its older_than before the API time it was taken at: it was edited")
	}
	ended := false
	n := 1
	for sc.Scan() {
		n++
		if ended {
			return nil, bad(n, "follows the plan's last line")
		}
		var l planLine
		if strictDecode(sc.Bytes(), &l) != nil {
			var e planEnd
			if strictDecode(sc.Bytes(), &e) != nil || !e.End {
				return nil, bad(n, "is not a binding or the plan's last line")
			}
			if e.Lines != p.Lines {
				return nil, bad(n, fmt.Sprintf("counts %d bindings, but the plan has %d: lines were added or removed", e.Lines, p.Lines))
			}
			if e.SHA256 != hex.EncodeToString(h.Sum(nil)) {
				return nil, bad(n, "holds a digest that the lines before it do not have: the plan was edited; write it again with a dry run")
			}
			ended, p.Finished = true, e.Finished
			continue
		}
		if !l.SID.Valid() {
			return nil, bad(n, "names a binding SID that is not one")
		}
		if p.Header.Cutoff.IsZero() {
			return nil, bad(1, "has no cutoff, yet the plan names bindings")
		}
		line()
		p.sums = append(p.sums, lineSum(sc.Bytes()))
		p.Lines++
	}
	if err := sc.Err(); err != nil {
		return nil, bad(n+1, "cannot be read: "+err.Error())
	}
	if !ended {
		return nil, refuse("cleanup: the plan ends after line %d without its last line: it was cut off; write it again with a dry run", n)
	}
	p.digest = hex.EncodeToString(whole.Sum(nil))
	return p, nil
}

// lineSum is 8 bytes of the SHA-256 of a line.
func lineSum(b []byte) uint64 {
	s := sha256.Sum256(b)
	return binary.BigEndian.Uint64(s[:8])
}

// strictDecode decodes one JSON object, refusing unknown fields and
// anything after it.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one value")
	}
	return nil
}

// agrees checks that a job's options are the ones the plan was made with.
func (p *Plan) agrees(h header) error {
	want := header{Service: p.Header.Service, Types: slices.Clone(p.Header.Types), OlderThan: p.Header.OlderThan}
	slices.Sort(want.Types)
	got := header{Service: h.Service, Types: h.Types, OlderThan: h.OlderThan}
	if d := got.differences(want); d != "" {
		return refuse("cleanup: the plan was made by a job with other options (%s): give the job the plan's (PlanHeader.BindingTypes, OlderThanDuration)", d)
	}
	return nil
}

// errPlanChanged is a plan whose file changed after ReadPlan read it.
var errPlanChanged = errors.New("cleanup: the plan changed after ReadPlan read it: nothing after the change was applied; read it again")

// each reads the plan's bindings again, from the first, each held to what
// ReadPlan read: a line that changed since stops it before it is used.
func (p *Plan) each(yield func(planLine) bool) error {
	if _, err := p.r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(p.r)
	sc.Buffer(make([]byte, 64<<10), maxPlanLine)
	sc.Scan() // the header, read by ReadPlan
	for i := 0; i < len(p.sums); i++ {
		var l planLine
		if !sc.Scan() || lineSum(sc.Bytes()) != p.sums[i] || strictDecode(sc.Bytes(), &l) != nil {
			if err := sc.Err(); err != nil {
				return err
			}
			return errPlanChanged
		}
		if !yield(l) {
			return nil
		}
	}
	return nil
}
