package cleanup

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// A plan is a dry run's verdict as JSON lines: a header that records how
// it was chosen, one line per binding that would be removed, and a last
// line that counts them and says whether the dry run finished:
//
//	{"plan":1,"id":"…","service":"IS…","mode":"users","types":["apn"],"older_than":"720h0m0s","cutoff":"…","created":"…"}
//	{"sid":"BS…","user":"alice","identity":"alice","binding_type":"apn","date_updated":"…"}
//	{"end":true,"lines":1,"finished":true}
//
// ApplyPlan removes exactly the bindings of a plan, each re-checked against
// the plan's filters and cutoff immediately before its removal.

const planVersion = 1

// PlanHeader is the first line of a plan: how its bindings were chosen.
type PlanHeader struct {
	Plan      int       `json:"plan"` // the format's version
	ID        string    `json:"id"`   // random, naming the plan to a journal
	Service   string    `json:"service"`
	Mode      string    `json:"mode"` // users or service
	Types     []string  `json:"types,omitempty"`
	OlderThan string    `json:"older_than"`
	Cutoff    time.Time `json:"cutoff"` // zero only in a plan of no binding
	Created   time.Time `json:"created"`
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
	End      bool  `json:"end"`
	Lines    int64 `json:"lines"`
	Finished bool  `json:"finished"`
}

// planWriter writes a plan as a dry run decides, the header before the
// first line (when the cutoff is known) or at the end.
type planWriter struct {
	mu     sync.Mutex
	w      io.Writer
	head   PlanHeader
	headed bool
	lines  int64
}

func newPlanWriter(w io.Writer, h header) *planWriter {
	var id [12]byte
	_, _ = rand.Read(id[:])
	return &planWriter{w: w, head: PlanHeader{Plan: planVersion, ID: hex.EncodeToString(id[:]), Service: h.Service, Mode: h.Mode,
		Types: h.Types, OlderThan: h.OlderThan, Created: time.Now().UTC().Truncate(time.Second)}}
}

// writeLine writes v as one line, in one Write.
func (p *planWriter) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		_, err = p.w.Write(append(b, '\n'))
	}
	if err != nil {
		return &WriteError{What: "plan", Err: err}
	}
	return nil
}

func (p *planWriter) ensureHeader(cut time.Time) error {
	if p.headed {
		return nil
	}
	p.head.Cutoff = cut
	p.headed = true
	return p.writeLine(p.head)
}

func (p *planWriter) add(t *task, cut time.Time) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensureHeader(cut); err != nil {
		return err
	}
	p.lines++
	return p.writeLine(planLine{SID: t.sid, User: t.user, Identity: t.identity, BindingType: t.typ, DateUpdated: t.updated})
}

// end writes the header if no line did, and the last line.
func (p *planWriter) end(cut time.Time, finished bool) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ensureHeader(cut); err != nil {
		return err
	}
	return p.writeLine(planEnd{End: true, Lines: p.lines, Finished: finished})
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
}

// maxPlanLine bounds a line of a plan: a user's name, at most 1 MiB.
const maxPlanLine = 1<<20 + 4096

// ReadPlan reads a plan whole, checking every line, then goes back to its
// first binding for ApplyPlan: a plan that is not one, was cut off, or has
// a line that is not a binding is refused before anything is removed, with
// an error that names the line.
func ReadPlan(r io.ReadSeeker) (*Plan, error) {
	p := &Plan{r: r}
	h := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(r, h))
	sc.Buffer(make([]byte, 64<<10), maxPlanLine)
	bad := func(n int, why string) error { return fmt.Errorf("cleanup: line %d of the plan %s", n, why) }
	if !sc.Scan() || strictDecode(sc.Bytes(), &p.Header) != nil || p.Header.Plan == 0 {
		return nil, errors.New("cleanup: not a plan: its first line is not a plan header (a plan is written by a dry run with Options.Plan)")
	}
	switch {
	case p.Header.Plan != planVersion:
		return nil, fmt.Errorf("cleanup: a plan of version %d; this package reads version %d", p.Header.Plan, planVersion)
	case p.Header.Mode != modeUsers && p.Header.Mode != modeService:
		return nil, bad(1, "has a mode "+p.Header.Mode+" that is not users or service")
	}
	if _, err := p.Header.OlderThanDuration(); err != nil {
		return nil, bad(1, "has an older_than that is not a duration")
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
			ended, p.Finished = true, e.Finished
			continue
		}
		if !l.SID.Valid() {
			return nil, bad(n, "names a binding SID that is not one")
		}
		if p.Header.Cutoff.IsZero() {
			return nil, bad(1, "has no cutoff, yet the plan names bindings")
		}
		p.Lines++
	}
	if err := sc.Err(); err != nil {
		return nil, bad(n+1, "cannot be read: "+err.Error())
	}
	if !ended {
		return nil, fmt.Errorf("cleanup: the plan ends after line %d without its last line: it was cut off; write it again with a dry run", n)
	}
	p.digest = hex.EncodeToString(h.Sum(nil))
	return p, nil
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
		return fmt.Errorf("cleanup: the plan was made by a job with other options (%s): give the job the plan's (PlanHeader.BindingTypes, OlderThanDuration)", d)
	}
	return nil
}

// each reads the plan's bindings again, from the first.
func (p *Plan) each(yield func(planLine) bool) error {
	if _, err := p.r.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(p.r)
	sc.Buffer(make([]byte, 64<<10), maxPlanLine)
	sc.Scan() // the header, read by ReadPlan
	for sc.Scan() {
		var l planLine
		if strictDecode(sc.Bytes(), &l) != nil {
			break // the last line
		}
		if !yield(l) {
			return nil
		}
	}
	return sc.Err()
}
