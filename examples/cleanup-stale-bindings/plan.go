package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// A plan is a dry run's matches as JSON lines, after a header that records
// how they were chosen: -apply -from-plan removes exactly those bindings,
// each re-checked against the same filters and cutoff first.

type planHead struct {
	Plan      int       `json:"plan"` // the format's version
	Service   string    `json:"service"`
	Mode      string    `json:"mode"` // users or all-users
	Types     []string  `json:"types,omitempty"`
	OlderThan string    `json:"older_than"`
	Cutoff    time.Time `json:"cutoff"`
	Created   time.Time `json:"created"`
}

type planLine struct {
	SID         chat.BindingSID  `json:"sid"`
	User        string           `json:"user,omitempty"` // as named; empty for the service-wide resource
	Identity    string           `json:"identity,omitempty"`
	BindingType chat.BindingType `json:"binding_type"`
	DateUpdated time.Time        `json:"date_updated"`
}

const planVersion = 1

// planWriter writes a plan: the lines as they come, to a temporary file
// renamed into place, with its header, when the dry run ends.
type planWriter struct {
	mu     sync.Mutex // listers add lines concurrently
	path   string
	head   planHead
	body   *os.File
	w      *bufio.Writer
	cutoff time.Time
	err    error
}

func createPlan(path string, fp fingerprint) (*planWriter, error) {
	body, err := os.CreateTemp("", "cleanup-plan-*")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err == nil {
		body.Close()
		os.Remove(body.Name())
		return nil, cli.Usagef("-plan %s exists; give a new file", path)
	}
	return &planWriter{path: path, body: body, w: bufio.NewWriter(body),
		head: planHead{Plan: planVersion, Service: fp.Service, Mode: fp.Mode, Types: fp.Types, OlderThan: fp.OlderThan, Created: time.Now().UTC()}}, nil
}

func (p *planWriter) add(j *job) {
	line, _ := json.Marshal(planLine{SID: j.sid, User: j.user, Identity: j.identity, BindingType: j.typ, DateUpdated: j.updated})
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(append(line, '\n')); err != nil && p.err == nil {
		p.err = err
	}
}

func (p *planWriter) close() error {
	defer os.Remove(p.body.Name())
	defer p.body.Close()
	if p.err != nil {
		return p.err
	}
	if err := p.w.Flush(); err != nil {
		return err
	}
	if _, err := p.body.Seek(0, io.SeekStart); err != nil {
		return err
	}
	p.head.Cutoff = p.cutoff
	head, _ := json.Marshal(p.head)
	var all strings.Builder
	all.Write(head)
	all.WriteByte('\n')
	if _, err := io.Copy(&all, p.body); err != nil {
		return err
	}
	return writeFileAtomic(p.path, []byte(all.String()))
}

// planReader streams a plan's lines.
type planReader struct {
	f    *os.File
	sc   *bufio.Scanner
	head planHead
	sum  string
	line int
}

func openPlan(path string) (*planReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cli.Usagef("-from-plan: %v", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	p := &planReader{f: f, sc: bufio.NewScanner(f), sum: hex.EncodeToString(h.Sum(nil))}
	p.sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !p.sc.Scan() || json.Unmarshal(p.sc.Bytes(), &p.head) != nil || p.head.Plan != planVersion || p.head.Cutoff.IsZero() {
		f.Close()
		return nil, cli.Usagef("-from-plan %s is not a plan written by -plan (its first line is not a plan header)", path)
	}
	return p, nil
}

// agrees checks the run's flags against the plan's: what is given must be
// what the plan was made with.
func (p *planReader) agrees(cfg *config, service string) error {
	var types []string
	for _, t := range cfg.Types {
		types = append(types, string(t))
	}
	slices.Sort(types)
	switch {
	case p.head.Service != service:
		return cli.Usagef("the plan is for service %s, not %s", p.head.Service, service)
	case len(types) > 0 && !slices.Equal(types, p.head.Types):
		return cli.Usagef("the plan was made with -type %q; give the same or none", strings.Join(p.head.Types, ","))
	case cfg.olderThanOK && cfg.olderThan.String() != p.head.OlderThan:
		return cli.Usagef("the plan was made with -older-than %s; give the same or none", p.head.OlderThan)
	}
	if len(types) == 0 {
		for _, t := range p.head.Types {
			cfg.Types = append(cfg.Types, chat.BindingType(t))
		}
	}
	if d, err := time.ParseDuration(p.head.OlderThan); err == nil {
		cfg.olderThan = d
	}
	return nil
}

func (p *planReader) fingerprint() fingerprint {
	return fingerprint{Service: p.head.Service, Mode: "plan", Types: p.head.Types, OlderThan: p.head.OlderThan, Plan: p.sum}
}

// next returns the next line of the plan, or false at its end.
func (p *planReader) next() (planLine, bool, error) {
	if !p.sc.Scan() {
		return planLine{}, false, p.sc.Err()
	}
	p.line++
	var l planLine
	if err := json.Unmarshal(p.sc.Bytes(), &l); err != nil || !l.SID.Valid() {
		return planLine{}, false, fmt.Errorf("line %d of the plan is not a binding", p.line+1)
	}
	return l, true, nil
}

func (p *planReader) Close() error { return p.f.Close() }
