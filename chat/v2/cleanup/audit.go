package cleanup

import (
	"encoding/json"
	"io"
	"os"
	"time"
)

// AuditRecord is one line of the audit (Options.Audit): an outcome of a job
// that applies, as JSON.
//
//	{"time":"…","sid":"BS…","user":"alice","identity":"alice","binding_type":"apn","date_updated":"…","outcome":"removed","request_id":"RQ…"}
//
// Outcome is one of removed, already_gone, kept_refreshed, failed (with
// Error). A failed listing has no SID. After a kill and a resume, a removal
// may be audited twice, never not at all: the audit line is written before
// the journal records the outcome.
type AuditRecord struct {
	Time        time.Time `json:"time"`
	SID         string    `json:"sid,omitempty"`
	User        string    `json:"user,omitempty"`
	Identity    string    `json:"identity,omitempty"`
	BindingType string    `json:"binding_type,omitempty"`
	DateUpdated time.Time `json:"date_updated"`
	Outcome     string    `json:"outcome"`
	RequestID   string    `json:"request_id,omitempty"`
	Error       string    `json:"error,omitempty"`
}

// audit writes records to w, one Write each.
type audit struct {
	w    io.Writer
	sync func() error // nil: w is not a file that can be synced
}

// newAudit syncs w when it is a regular file: a pipe or a terminal (an
// audit on stdout, piped to jq) has nothing to sync, and says EINVAL.
func newAudit(w io.Writer) audit {
	a := audit{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			a.sync = f.Sync
		}
	} else if s, ok := w.(interface{ Sync() error }); ok {
		a.sync = s.Sync
	}
	return a
}

func (a audit) write(o Outcome) error {
	if a.w == nil {
		return nil
	}
	rec := AuditRecord{Time: time.Now().UTC(), SID: string(o.SID), User: o.User, Identity: o.Identity, BindingType: string(o.Type),
		DateUpdated: o.Updated, Outcome: o.Result.String(), RequestID: o.RequestID}
	if o.Err != nil {
		rec.Error = o.Err.Error()
	}
	line, err := json.Marshal(rec)
	if err == nil {
		_, err = a.w.Write(append(line, '\n'))
	}
	if err != nil {
		return &WriteError{What: "audit", Err: err}
	}
	return nil
}

// flush syncs w if it can be.
func (a audit) flush() error {
	if a.sync == nil {
		return nil
	}
	if err := a.sync(); err != nil {
		return &WriteError{What: "audit", Err: err}
	}
	return nil
}
