package cleanup

import (
	"sync/atomic"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// Result is what a job decided, or did, for one binding.
type Result int

// The results. The zero value is no result.
const (
	// WouldRemove: a dry run found the binding stale.
	WouldRemove Result = iota + 1
	// Removed: the job removed the binding (or, after a kill, a DELETE it
	// had sent did).
	Removed
	// AlreadyGone: the binding was gone before the job removed it (someone
	// else, or Twilio itself, removed it).
	AlreadyGone
	// Kept: read again just before its removal, the binding was no longer
	// stale (a device that registered again), and was kept.
	Kept
	// Failed: the removal, or the listing, failed; Outcome.Err says why.
	Failed
)

// String names the result as the audit does: "would_remove", "removed",
// "already_gone", "kept_refreshed" or "failed".
func (r Result) String() string {
	switch r {
	case WouldRemove:
		return "would_remove"
	case Removed:
		return "removed"
	case AlreadyGone:
		return "already_gone"
	case Kept:
		return "kept_refreshed"
	case Failed:
		return "failed"
	}
	return "none"
}

// Outcome is one decision of a job: a binding's, or, with an empty SID, a
// listing that failed (of User, or of the service-wide walk when User is
// empty too).
type Outcome struct {
	SID      chat.BindingSID
	User     string // the user as named to Users, or as a plan names it; "" for the service-wide walk
	Identity string // the binding's user's identity, as last read
	Type     chat.BindingType
	Updated  time.Time // date_updated, as last read
	Result   Result
	Err      error // why it failed
	// RequestID is the Twilio-Request-Id of the answer that decided it: the
	// DELETE's, the 404's, or the read's that found it refreshed.
	RequestID string
}

// Report counts what a job did. Every matched binding has exactly one
// outcome, or is counted NotDone: Matched = WouldRemove + Removed +
// AlreadyGone + Kept + Failed + NotDone.
type Report struct {
	Scanned     int64 // bindings listed, or plan lines read
	Matched     int64 // of those, the stale ones, each counted once
	WouldRemove int64
	Removed     int64
	AlreadyGone int64
	Kept        int64
	Failed      int64 // removals that failed
	NotDone     int64 // matched, but not decided: the job stopped first
	ListFailed  int64 // users or pages that could not be listed
	Skipped     int64 // users, or plan lines, that an earlier run of the journal finished
	// Cutoff is the time before which a binding's date_updated is stale:
	// OlderThan before the API's clock.
	Cutoff  time.Time
	Elapsed time.Duration
}

// counts are a Report as it accrues, read by Progress at any time.
type counts struct {
	scanned, matched, wouldRemove, removed, gone, kept, failed, notDone, listFailed, skipped atomic.Int64
}

func (c *counts) add(r Result) {
	switch r {
	case WouldRemove:
		c.wouldRemove.Add(1)
	case Removed:
		c.removed.Add(1)
	case AlreadyGone:
		c.gone.Add(1)
	case Kept:
		c.kept.Add(1)
	case Failed:
		c.failed.Add(1)
	}
}

func (c *counts) report() Report {
	return Report{
		Scanned: c.scanned.Load(), Matched: c.matched.Load(), WouldRemove: c.wouldRemove.Load(),
		Removed: c.removed.Load(), AlreadyGone: c.gone.Load(), Kept: c.kept.Load(), Failed: c.failed.Load(),
		NotDone: c.notDone.Load(), ListFailed: c.listFailed.Load(), Skipped: c.skipped.Load(),
	}
}
