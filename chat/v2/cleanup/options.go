package cleanup

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// Options configure a Job. The zero value of every field but OlderThan is
// a sensible default.
type Options struct {
	// OlderThan is how long a binding may go without an update before it
	// is stale: bindings whose date_updated is older than OlderThan before
	// the API's clock (the Date of its first answer, fixed once per job)
	// are removed. It must be positive.
	OlderThan time.Duration
	// Types limits the job to bindings of these types; empty means all.
	// Each binding is checked against it, not only the server's filter.
	Types []chat.BindingType
	// Apply removes the stale bindings; without it the job is a dry run,
	// which decides WouldRemove and removes nothing.
	Apply bool
	// Concurrency is how many users are listed at once, and how many
	// removals are in progress at once; 0 means 8.
	Concurrency int
	// PageSize is how many bindings each list request asks for; 0 means
	// chat.AutoPageSize (50), the most the current API description allows.
	PageSize int
	// OnOutcome, when set, is called with each outcome as it is decided,
	// one call at a time, in the order decided. A slow OnOutcome slows
	// the job.
	OnOutcome func(Outcome)

	// Plan, in a dry run, receives the plan: a header, then one line per
	// binding that would be removed, as each is decided, then a last line
	// that says how many and whether the job finished. ApplyPlan removes
	// exactly those. Not with Apply.
	Plan io.Writer
	// Journal, with Apply, is the path of the job's journal, which makes it
	// resumable: started again with the same options and journal after a
	// kill (at any moment) or an interruption, a job lists no user or page
	// the journal counts as finished, removes nothing twice, tries again
	// what failed, and reports a removal that was sent but not answered as
	// Removed. A journal written by a job with other options is refused,
	// and one another job is using (it holds the lock file Journal+".lock",
	// beside it). See the package README for its format.
	Journal string
	// Audit, with Apply, receives one JSON line per outcome as it is
	// decided, each in a single Write (see AuditRecord). An *os.File that
	// is a regular file, or another writer with a Sync() error method, is
	// synced with the journal; a pipe or a terminal is not.
	Audit io.Writer

	// NoProgress ends the job with ErrNoProgress when, from a call the API
	// failed (a 429, a 5xx, a connection or a timeout), nothing moves for
	// this long: no page listed and no binding decided, as when the API
	// answers 429 or 5xx to everything. A final answer (a 404, a 403) is the
	// API working, and a job that meets no failure never stalls. Time spent
	// in OnOutcome or waiting for the next user name is not counted; the
	// job's own rate limit is, once a call failed, so give it longer than
	// the job's slowest pace (1/PerSecond). 0 means 5 minutes; a negative
	// value, never.
	NoProgress time.Duration
}

// Defaults.
const (
	DefaultConcurrency = 8
	DefaultNoProgress  = 5 * time.Minute
)

// OptionError is a bad Options field, refused by New before anything is
// sent.
type OptionError struct {
	Field   string // such as "OlderThan"
	Problem string
}

// Error names the field and says what to give instead.
func (e *OptionError) Error() string { return "cleanup: Options." + e.Field + " " + e.Problem }

// Errors that end a job, for errors.Is.
var (
	// ErrNoProgress: nothing moved for Options.NoProgress.
	ErrNoProgress = errors.New("cleanup: no progress: no page was listed and no binding decided for the time Options.NoProgress allows; the API may be answering 429 or 5xx to everything")
	// ErrFailed: the job ran to its end, but some removals or listings
	// failed; the Report counts them and each Outcome carries its error.
	ErrFailed = errors.New("cleanup: some removals or listings failed")
	// ErrUsed: a Job runs once.
	ErrUsed = errors.New("cleanup: the Job has already run; make another with New")
	// ErrRefused: the journal or the plan cannot be this job's (another
	// job's, another version, cut off, edited, or a cutoff taken at an API
	// time that has not come); the job removed nothing. The error says
	// which, and what to do.
	ErrRefused = errors.New("cleanup: refused the journal or plan")
)

// refusal is an error for errors.Is(err, ErrRefused), whose message is its
// own.
type refusal struct{ msg string }

func (e *refusal) Error() string        { return e.msg }
func (e *refusal) Is(target error) bool { return target == ErrRefused }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// WriteError is a failure to write the journal, the plan or the audit. It
// ends the job: nothing is dropped silently.
type WriteError struct {
	What string // "journal", "plan" or "audit"
	Err  error
}

// Error says what could not be written and why.
func (e *WriteError) Error() string {
	return "cleanup: writing the " + e.What + ": " + e.Err.Error() + " (the job stopped; nothing after this was done)"
}

// Unwrap returns the cause, such as syscall.ENOSPC.
func (e *WriteError) Unwrap() error { return e.Err }

// check validates o and returns it with defaults applied.
func (o Options) check() (Options, error) {
	bad := func(field, format string, args ...any) (Options, error) {
		return o, &OptionError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case o.OlderThan <= 0:
		return bad("OlderThan", "must be positive, such as 720 * time.Hour; got %v", o.OlderThan)
	case o.Concurrency < 0:
		return bad("Concurrency", "must be 0 (the default, %d) or positive; got %d", DefaultConcurrency, o.Concurrency)
	case o.PageSize < 0 || o.PageSize > chat.MaxPageSize:
		return bad("PageSize", "must be 0 (the default, %d) or 1 to %d; got %d", chat.AutoPageSize, chat.MaxPageSize, o.PageSize)
	case o.Plan != nil && o.Apply:
		return bad("Plan", "is written by a dry run: leave Apply false, then apply the plan with ApplyPlan")
	case o.Journal != "" && !o.Apply:
		return bad("Journal", "records removals: set Apply, or leave it empty for a dry run")
	case o.Audit != nil && !o.Apply:
		return bad("Audit", "records removals: set Apply, or leave it nil for a dry run")
	}
	for _, t := range o.Types {
		if !t.Known() {
			return bad("Types", "holds %q, which is not a binding type: use chat.BindingTypeAPN, BindingTypeGCM or BindingTypeFCM", t)
		}
	}
	o.Types = slices.Clone(o.Types)
	slices.Sort(o.Types)
	o.Types = slices.Compact(o.Types)
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PageSize == 0 {
		o.PageSize = chat.AutoPageSize
	}
	if o.NoProgress == 0 {
		o.NoProgress = DefaultNoProgress
	}
	return o, nil
}
