package cleanup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/client"
)

// The modes of a job, as its journal and plan name them.
const (
	modeUsers   = "users"
	modeService = "service"
	modePlan    = "plan"
)

// inFlightGrace is how long removals already in flight may go on after a
// job is interrupted: they finish, and no new one starts.
const inFlightGrace = 10 * time.Second

// Job removes the stale bindings of one Chat service. Make one with New;
// a Job runs once, with Users, Service or ApplyPlan, and is safe for
// concurrent use by Progress meanwhile.
type Job struct {
	svc  chat.ServiceHandle
	c    *client.Client
	opts Options
	head header // the job as its journal and plan name it, mode set by the run

	ran   atomic.Bool
	start atomic.Int64 // when the run began, in Unix nanoseconds; 0 before
	cut   cutoff
	n     counts

	// Decisions reach the audit, the journal, the plan and OnOutcome one
	// at a time, in the order they are made.
	outMu   sync.Mutex
	journal *journal
	plan    *planWriter
	audit   audit

	seenMu  sync.Mutex
	matched map[sidKey]struct{} // bindings judged stale in this job (or decided by an earlier run)
	users   keySet              // users listed, named otherwise, or done by an earlier run
	earlier *replayed           // what the journal says an earlier run did; empty without one

	failing  atomic.Int64 // since when calls have failed with nothing moving, in Unix nanoseconds; 0: not failing
	waiting  atomic.Int64 // calls to the API under way (in retry)
	cancel   context.CancelCauseFunc
	failOnce sync.Once
	failErr  error // the first write error: it ends the job
	panicked any   // what the caller's code (OnOutcome, the users) panicked with; guarded by outMu
}

// New prepares a job on the service svc addresses, through the client svc
// was made with (its retries and rate limit). Bad options are refused with
// an *OptionError, and a handle that addresses no service by its SID with a
// *client.ValidationError, before anything is sent.
func New(svc chat.ServiceHandle, opts Options) (*Job, error) {
	o, err := opts.check()
	if err != nil {
		return nil, err
	}
	if svc.Client() == nil || !chat.ServiceSID(svc.SID()).Valid() {
		return nil, &client.ValidationError{Param: "ServiceSid", Value: svc.SID(), Rule: "must be IS followed by 32 hex digits, on a handle made with chat.New(c).Services(sid)"}
	}
	j := &Job{
		svc:     svc,
		c:       svc.Client(),
		opts:    o,
		matched: map[sidKey]struct{}{},
		earlier: &replayed{users: &keySet{}},
		audit:   newAudit(o.Audit),
	}
	j.head = header{Journal: journalVersion, Service: svc.SID(), OlderThan: o.OlderThan.String()}
	for _, t := range o.Types {
		j.head.Types = append(j.head.Types, string(t))
	}
	j.cut.olderThan = o.OlderThan
	return j, nil
}

// Progress reports what the job has done so far; at the end, what it did.
func (j *Job) Progress() Report {
	r := j.n.report()
	r.Cutoff = j.cut.get()
	if start := j.start.Load(); start != 0 {
		r.Elapsed = time.Since(time.Unix(0, start))
	}
	return r
}

// task is one stale binding on its way to an outcome.
type task struct {
	sid      chat.BindingSID
	user     string // as named; "" for the service-wide resource
	identity string
	typ      chat.BindingType
	updated  time.Time
	unit     *unit
	resumed  bool // an earlier run may have sent its DELETE
}

// run is the body of every kind of job: it opens the journal (before
// anything is sent), checks a cutoff an earlier run or a plan fixed against
// the API's clock, starts the removers, lets list find the stale bindings
// (reporting whether it listed all there was), and reports. pinned, if not
// nil, is the cutoff of a plan and the API time it was taken at.
func (j *Job) run(ctx context.Context, mode, planDigest string, pinned *[2]time.Time, list func(ctx context.Context, queue func(*task)) bool) (Report, error) {
	if !j.ran.CompareAndSwap(false, true) {
		return Report{}, ErrUsed
	}
	j.head.Mode, j.head.Plan = mode, planDigest
	if pinned != nil && !pinned[0].IsZero() {
		j.cut.fix(pinned[0], pinned[1])
	}
	if j.opts.Journal != "" {
		jr, earlier, err := openJournal(j.opts.Journal, j.head, j.opts.OlderThan)
		if err != nil {
			return Report{}, err
		}
		defer jr.release()
		j.journal, j.earlier = jr, earlier
		if !earlier.cutoff.IsZero() && j.cut.get().IsZero() {
			j.cut.fix(earlier.cutoff, earlier.apiTime)
		}
		j.cut.onFix = jr.cutoff
		earlier.users.each(func(k userKey) { j.users.add(k) })
		for k := range earlier.decided {
			j.matched[k] = struct{}{}
		}
	}
	if err := j.checkPinned(ctx); err != nil {
		_ = j.journal.close()
		return Report{}, err
	}
	if j.opts.Plan != nil {
		j.plan = newPlanWriter(j.opts.Plan, j.head)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	j.cancel = cancel
	j.start.Store(time.Now().UnixNano())
	j.moved()
	stopWatch := j.watch(ctx)

	tasks := make(chan *task, 2*j.opts.Concurrency)
	var removers sync.WaitGroup
	for i := 0; i < j.opts.Concurrency && j.opts.Apply; i++ {
		removers.Add(1)
		go func() {
			defer removers.Done()
			for t := range tasks {
				j.decide(ctx, t)
			}
		}()
	}
	queue := func(t *task) {
		if !j.opts.Apply {
			j.settle(t, Outcome{SID: t.sid, User: t.user, Identity: t.identity, Type: t.typ, Updated: t.updated, Result: WouldRemove})
			return
		}
		select {
		case tasks <- t:
		case <-ctx.Done():
			j.notDone(t)
		}
	}
	listed := j.earlier.finished
	if !listed {
		j.resumePending(ctx, queue)
		listed = list(ctx, queue)
	}
	close(tasks)
	removers.Wait()
	stopWatch()
	r, err := j.finish(ctx, listed)
	j.outMu.Lock()
	p := j.panicked
	j.outMu.Unlock()
	if p != nil {
		panic(p) // the caller's own code panicked: the job is shut down, its files closed
	}
	return r, err
}

// checkPinned holds a cutoff that an earlier run or a plan fixed to the
// API's clock now: it was taken at an API time that has come, and so is at
// least OlderThan in the past. A journal or plan edited to a later cutoff
// would otherwise remove young bindings. It costs one read, before any
// removal.
func (j *Job) checkPinned(ctx context.Context) error {
	cut, apiTime := j.cut.pinned()
	if cut.IsZero() || j.earlier.finished {
		return nil
	}
	page, err := j.svc.Bindings.FirstPage(ctx, &chat.BindingListParams{PageSize: 1})
	if err != nil {
		return fmt.Errorf("cleanup: reading the API's clock to check the cutoff an earlier run or a plan fixed: %w", err)
	}
	now, err := http.ParseTime(page.Response.Header.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	if apiTime.After(now.Add(time.Minute)) {
		return refuse("cleanup: the cutoff %s was taken at API time %s, which has not come yet (the API says %s): the journal or plan was edited, or another API's; give another",
			cut.Format(time.RFC3339), apiTime.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// resumePending queues again what an earlier run left undecided: removals
// that failed, and removals whose DELETE may have been sent when it died.
func (j *Job) resumePending(ctx context.Context, queue func(*task)) {
	keys := make([]sidKey, 0, len(j.earlier.pending))
	for k := range j.earlier.pending {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b sidKey) int { return slices.Compare(a[:], b[:]) })
	for _, k := range keys {
		if ctx.Err() != nil {
			return
		}
		p := j.earlier.pending[k]
		j.seenMu.Lock()
		j.matched[k] = struct{}{}
		j.seenMu.Unlock()
		j.n.matched.Add(1)
		u := &unit{fail: j.fail}
		u.add()
		u.seal(true)
		queue(&task{sid: p.sid, user: p.user, identity: p.identity, typ: p.typ, updated: p.updated, unit: u, resumed: p.intent})
	}
}

// consider judges one binding found by a listing: a stale one not yet
// judged in this job goes on to its outcome.
func (j *Job) consider(t *task, queue func(*task)) {
	j.n.scanned.Add(1)
	if !j.stale(t.sid, t.typ, t.updated) {
		return
	}
	k, _ := keyOf(t.sid)
	j.seenMu.Lock()
	_, judged := j.matched[k]
	j.matched[k] = struct{}{}
	j.seenMu.Unlock()
	if judged {
		return
	}
	j.n.matched.Add(1)
	t.unit.add()
	queue(t)
}

// stale is the one place that decides what may be removed: every filter
// must match, and a binding of unknown age is never stale.
func (j *Job) stale(sid chat.BindingSID, typ chat.BindingType, updated time.Time) bool {
	cut := j.cut.get()
	if !sid.Valid() || updated.IsZero() || cut.IsZero() || !updated.Before(cut) {
		return false
	}
	return len(j.opts.Types) == 0 || slices.Contains(j.opts.Types, typ)
}

// decide re-reads and removes one stale binding, with RemoveIf. It waits for
// its turn under the rate limit under the job's context, so an interrupted
// job starts no new removal; once it has its turn, the removal goes on for
// up to inFlightGrace after an interruption.
func (j *Job) decide(ctx context.Context, t *task) {
	var res chat.RemoveResult
	var resp client.Response
	var stopped error  // the journal could not record the intent: nothing was sent
	maybe := t.resumed // a DELETE of this job, or of a run that died, may have removed it
	err := j.retry(ctx, func() error {
		turn, err := j.c.Turn(ctx)
		if err != nil {
			return err
		}
		inFlight, done := afterGrace(turn, ctx, inFlightGrace)
		defer done()
		res, err = j.removeIf(inFlight, t, &resp, &stopped)
		maybe = maybe || client.MayHaveApplied(err)
		return err
	})
	switch {
	case stopped != nil:
		j.notDone(t)
		return
	case err != nil && ctx.Err() != nil:
		j.notDone(t) // interrupted: a DELETE that may have gone is in the journal
		return
	}
	o := Outcome{SID: t.sid, User: t.user, Identity: t.identity, Type: t.typ, Updated: t.updated, RequestID: resp.RequestID}
	switch {
	case err != nil:
		o.Result, o.Err, o.RequestID = Failed, err, requestIDOf(err)
	case res == chat.Removed:
		o.Result = Removed
	case res == chat.AlreadyGone && maybe:
		o.Result = Removed // a DELETE this job sent earlier, or one an earlier run sent as it died
	case res == chat.AlreadyGone:
		o.Result = AlreadyGone
	default:
		o.Result = Kept
	}
	j.settle(t, o)
}

// removeIf removes t if it is still stale when read again, recording the
// intent in the journal before the DELETE is sent.
func (j *Job) removeIf(ctx context.Context, t *task, resp *client.Response, stopped *error) (chat.RemoveResult, error) {
	decide := func(identity string, typ chat.BindingType, updated time.Time) bool {
		t.identity, t.typ, t.updated = identity, typ, updated
		if !j.stale(t.sid, typ, updated) {
			return false
		}
		if err := j.journal.intent(t); err != nil {
			*stopped = err
			j.fail(err)
			return false
		}
		return true
	}
	if t.user == "" {
		return j.svc.Bindings(string(t.sid)).RemoveIf(ctx, func(b *chat.Binding) bool {
			return decide(b.Identity, b.BindingType, b.DateUpdated)
		}, chat.ResponseInto(resp))
	}
	return j.svc.Users(t.user).UserBindings(string(t.sid)).RemoveIf(ctx, func(b *chat.UserBinding) bool {
		return decide(b.Identity, b.BindingType, b.DateUpdated)
	}, chat.ResponseInto(resp))
}

// afterGrace is a context with the values of valuesFrom (a turn) that ends
// grace after stop does, and the function that releases it.
func afterGrace(valuesFrom, stop context.Context, grace time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(valuesFrom))
	var mu sync.Mutex
	var timer *time.Timer
	unhook := context.AfterFunc(stop, func() {
		mu.Lock()
		timer = time.AfterFunc(grace, cancel)
		mu.Unlock()
	})
	return ctx, func() {
		unhook()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

func requestIDOf(err error) string {
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	return ""
}

// settle records an outcome: the audit first (so that after a kill a
// removal is audited twice rather than never), then the journal, then the
// plan, then OnOutcome. A failure to write ends the job; the outcome is
// counted and reported all the same, for it happened.
func (j *Job) settle(t *task, o Outcome) {
	j.outMu.Lock()
	err := j.audit.write(o)
	if err == nil && t != nil {
		err = j.journal.outcome(t, o.Result)
	}
	if err == nil && t != nil && o.Result == WouldRemove {
		cut, apiTime := j.cut.taken()
		err = j.plan.add(t, cut, apiTime)
	}
	if err != nil {
		j.fail(err)
	}
	switch {
	case t == nil:
		j.n.listFailed.Add(1)
	default:
		j.n.add(o.Result)
	}
	if o.Result != Failed {
		j.moved()
	}
	j.callOnOutcome(o)
	j.outMu.Unlock()
	if t != nil {
		t.unit.settle(err == nil)
	}
}

// callOnOutcome calls OnOutcome, and catches a panic in it: the job stops,
// and run panics again in the caller's goroutine once everything has
// stopped. The time spent in it does not count as the API's. The caller
// holds outMu.
func (j *Job) callOnOutcome(o Outcome) {
	if j.opts.OnOutcome == nil || j.panicked != nil {
		return
	}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			j.panicked = p
			j.cancel(errCallerPanicked)
		}
		j.pause(start) // the time in OnOutcome is the caller's
	}()
	j.opts.OnOutcome(o)
}

// pause takes the time since start off NoProgress's clock, if it was
// running then: time spent in the caller's code is not the API's.
func (j *Job) pause(start time.Time) {
	if since := j.failing.Load(); since != 0 && since <= start.UnixNano() {
		j.failing.CompareAndSwap(since, min(since+int64(time.Since(start)), time.Now().UnixNano()))
	}
}

// callerPanicked stops the job for a panic in the caller's code elsewhere
// than OnOutcome (its users), to be raised again by run.
func (j *Job) callerPanicked(p any) {
	j.outMu.Lock()
	if j.panicked == nil {
		j.panicked = p
	}
	j.outMu.Unlock()
	j.cancel(errCallerPanicked)
}

// errCallerPanicked ends a job whose caller's code panicked.
var errCallerPanicked = errors.New("cleanup: the caller's OnOutcome or users panicked")

// notDone counts a stale binding left undecided by a job that stopped.
func (j *Job) notDone(t *task) {
	j.n.notDone.Add(1)
	t.unit.settle(false)
}

// listFailed reports a listing that failed: of user, or of the walk.
func (j *Job) listFailed(user string, err error) {
	j.settle(nil, Outcome{User: user, Result: Failed, Err: err, RequestID: requestIDOf(err)})
}

// fail ends the job with err, the first of its write errors.
func (j *Job) fail(err error) {
	j.failOnce.Do(func() {
		j.failErr = err
		j.cancel(err)
	})
}

// moved records progress (a page listed, a binding decided): whatever
// failed before, the job is not stalled.
func (j *Job) moved() { j.failing.Store(0) }

// failed records a call that failed: if nothing moves from the first such
// failure on for NoProgress, the job is stalled.
func (j *Job) failed() { j.failing.CompareAndSwap(0, time.Now().UnixNano()) }

// watch syncs the journal and the audit every second, and ends the job when
// nothing has moved for Options.NoProgress, until the returned function is
// called.
func (j *Job) watch(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(min(time.Second, max(j.opts.NoProgress/4, time.Millisecond)))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := j.sync(); err != nil {
				j.fail(err)
			}
			// Stalled when, from a call the API failed, nothing moves;
			// the time in OnOutcome and waiting for names is taken off
			// (paused).
			if since := j.failing.Load(); j.opts.NoProgress > 0 && since != 0 && time.Since(time.Unix(0, since)) > j.opts.NoProgress {
				j.cancel(ErrNoProgress)
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// sync makes the audit, then the journal, durable: the audit holds at
// least every removal the journal counts.
func (j *Job) sync() error {
	if err := j.audit.flush(); err != nil {
		return err
	}
	return j.journal.sync()
}

// finish closes the job's files and says how it ended. A walk or a plan
// that listed all there was, and decided all it found, is finished: its
// journal says so, and a resumed job has nothing to do. (A job of users is
// never finished that way: it may be given more users.)
func (j *Job) finish(ctx context.Context, listed bool) (Report, error) {
	interrupted := ctx.Err() != nil
	r := j.Progress()
	complete := listed && !interrupted && j.failErr == nil && r.Failed == 0 && r.ListFailed == 0 && r.NotDone == 0
	var errs []error
	if complete && j.head.Mode != modeUsers && !j.earlier.finished {
		if err := j.journal.finished(); err != nil {
			errs = append(errs, err)
		}
	}
	if j.plan != nil {
		cut, apiTime := j.cut.taken()
		if err := j.plan.end(cut, apiTime, complete); err != nil {
			errs = append(errs, err)
		}
	}
	if err := j.sync(); err != nil {
		errs = append(errs, err)
	}
	if err := j.journal.close(); err != nil {
		errs = append(errs, err)
	}
	switch cause := context.Cause(ctx); {
	case j.failErr != nil:
		errs = append([]error{j.failErr}, errs...)
	case interrupted:
		errs = append(errs, cause)
	case r.Failed > 0 || r.ListFailed > 0:
		errs = append(errs, fmt.Errorf("%w: %d removals and %d listings", ErrFailed, r.Failed, r.ListFailed))
	}
	return r, errors.Join(errs...)
}
