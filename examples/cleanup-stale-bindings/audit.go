package main

import (
	"encoding/json"
	"os"
	"sync"
	"time"

	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// auditLog appends one JSON line per removal decision and outcome. Each
// line is one write to a file opened for appending, so a crash loses no
// line already written, and lines from concurrent removers never mix; the
// file is synced before every save of the state, so the audit holds at
// least every removal the state counts as done.
type auditLog struct {
	mu sync.Mutex
	f  *os.File
}

type auditRecord struct {
	Time        time.Time `json:"time"`
	SID         string    `json:"sid"`
	User        string    `json:"user,omitempty"`
	Identity    string    `json:"identity,omitempty"`
	BindingType string    `json:"binding_type,omitempty"`
	DateUpdated time.Time `json:"date_updated"`
	Outcome     string    `json:"outcome"` // removed, already_gone, kept_refreshed, failed
	RequestID   string    `json:"request_id,omitempty"`
	Error       string    `json:"error,omitempty"`
}

func openAudit(path string) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, cli.Usagef("-audit: %v", err)
	}
	return &auditLog{f: f}, nil
}

func (a *auditLog) write(j *job, outcome, requestID string, err error) {
	if a == nil {
		return
	}
	r := auditRecord{Time: time.Now().UTC(), SID: string(j.sid), User: j.user, Identity: j.identity, BindingType: string(j.typ),
		DateUpdated: j.updated, Outcome: outcome, RequestID: requestID}
	if err != nil {
		r.Error = err.Error()
	}
	line, _ := json.Marshal(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	_, _ = a.f.Write(append(line, '\n'))
}

func (a *auditLog) sync() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Sync()
}

func (a *auditLog) close() {
	if a != nil {
		_ = a.f.Sync()
		_ = a.f.Close()
	}
}
