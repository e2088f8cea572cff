package cleanup

import (
	"context"
	"errors"
	"iter"
	"sync"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
)

// Users lists the bindings of the users users names (user SIDs or
// identities, as chat.ServiceHandle.Users takes them), Concurrency at a
// time, and removes (or, in a dry run, reports) the stale ones. Names are
// taken from users as they are needed, never held whole: the job keeps
// about 12 bytes of each name it was given (a hash, to list each name
// once). A user named by identity and by SID is listed under each, and each
// of its bindings still judged once. With a journal, users an earlier run
// finished are skipped (Report.Skipped), and what it left undecided is
// decided first.
//
// It returns when every user has been listed and every stale binding
// decided, or when ctx ends (with ctx's error or cause: nothing new starts,
// removals in flight finish; users is not waited for, and its yield returns
// false when it next calls it), or when writing the journal, the plan or
// the audit fails (a *WriteError), or when the API let nothing move for
// NoProgress (ErrNoProgress). A job whose removals or listings failed
// returns ErrFailed. A panic in users, or in OnOutcome, stops the job and is
// raised again in the caller's goroutine.
func (j *Job) Users(ctx context.Context, users iter.Seq[string]) (Report, error) {
	if users == nil {
		return Report{}, errors.New("cleanup: Users needs the users to list: give an iter.Seq[string], such as slices.Values(names)")
	}
	return j.run(ctx, modeUsers, "", nil, func(ctx context.Context, queue func(*task)) bool {
		// The names come from the caller's iterator, which may wait for
		// its next one (a pipe, a queue): on a goroutine of its own, so
		// that an interruption does not wait with it. names is never
		// closed, since that goroutine may yet send on it; quit ends the
		// listers.
		names, quit := make(chan string), make(chan struct{})
		var listers sync.WaitGroup
		for i := 0; i < j.opts.Concurrency; i++ {
			listers.Add(1)
			go func() {
				defer listers.Done()
				for {
					select {
					case name := <-names:
						if j.firstTimeFor(name) {
							j.listUser(ctx, name, queue)
						}
					case <-quit:
						return
					}
				}
			}()
		}
		fed := make(chan bool, 1)
		go func() {
			all := false
			defer func() {
				if p := recover(); p != nil {
					j.callerPanicked(p)
				}
				fed <- all
			}()
			asked := time.Now()
			for name := range users {
				// The wait for a name is the caller's, unless the job
				// had calls of its own under way meanwhile.
				if j.waiting.Load() == 0 {
					j.pause(asked)
				}
				select {
				case names <- name:
					asked = time.Now()
					continue
				case <-ctx.Done():
				}
				return
			}
			all = true
		}()
		var all bool
		select {
		case all = <-fed: // every name was taken by a lister
		case <-ctx.Done():
		}
		close(quit)
		listers.Wait()
		return all && ctx.Err() == nil
	})
}

// firstTimeFor reports whether the user named name is to be listed: not
// already listed (or named otherwise) in this job, nor done by an earlier
// run, which counts it skipped.
func (j *Job) firstTimeFor(name string) bool {
	k := userKeyOf(name)
	j.seenMu.Lock()
	defer j.seenMu.Unlock()
	if !j.users.add(k) {
		if j.earlier.users.has(k) {
			j.n.skipped.Add(1)
		}
		return false
	}
	return true
}

// listUser lists one user's bindings page by page; the user is done, for
// the journal, when every stale one has an outcome.
func (j *Job) listUser(ctx context.Context, name string, queue func(*task)) {
	u := &unit{fail: j.fail}
	if j.journal != nil {
		u.onDone = func() error { return j.journal.userDone(name) }
	}
	bindings := j.svc.Users(name).UserBindings
	params := &chat.UserBindingListParams{BindingType: j.opts.Types, PageSize: j.opts.PageSize}
	var page *chat.UserBindingPage
	err := j.retry(ctx, func() (err error) { page, err = bindings.FirstPage(ctx, params); return err })
	for err == nil && page != nil {
		if _, err = j.cut.from(page.Response); err != nil {
			break
		}
		j.moved()
		for _, b := range page.Bindings {
			j.consider(&task{sid: b.SID, user: name, identity: b.Identity, typ: b.BindingType, updated: b.DateUpdated, unit: u}, queue)
		}
		cur := page
		err = j.retry(ctx, func() (err error) { page, err = cur.Next(ctx); return err })
	}
	if err != nil && ctx.Err() == nil {
		j.listFailed(name, err)
	}
	u.seal(err == nil)
}

// Service walks every binding of the service through the service-wide
// Binding resource, one request per page, and removes (or reports) the
// stale ones. With a journal, a walk an earlier run began goes on from the
// first page it had not finished. It returns as Users does.
func (j *Job) Service(ctx context.Context) (Report, error) {
	return j.run(ctx, modeService, "", nil, func(ctx context.Context, queue func(*task)) bool {
		marks := &walkMarks{done: map[int]bool{}, next: map[int]string{}, record: func(string) error { return nil }}
		if j.journal != nil {
			marks.record = j.journal.walkFrom
		}
		bindings := j.svc.Bindings
		var page *chat.BindingPage
		err := j.retry(ctx, func() (err error) {
			if from := j.earlier.walk; from != nil && *from != "" {
				page, err = bindings.PageFromURL(ctx, *from)
			} else {
				page, err = bindings.FirstPage(ctx, &chat.BindingListParams{BindingType: j.opts.Types, PageSize: j.opts.PageSize})
			}
			return err
		})
		for i := 0; err == nil && page != nil; i++ {
			if _, err = j.cut.from(page.Response); err != nil {
				break
			}
			j.moved()
			u := marks.open(i, page.Meta.NextPageURL, j.fail)
			for _, b := range page.Bindings {
				j.consider(&task{sid: b.SID, identity: b.Identity, typ: b.BindingType, updated: b.DateUpdated, unit: u}, queue)
			}
			u.seal(true)
			cur := page
			err = j.retry(ctx, func() (err error) { page, err = cur.Next(ctx); return err })
		}
		if err != nil && ctx.Err() == nil {
			j.listFailed("", err)
		}
		return err == nil && ctx.Err() == nil
	})
}

// ApplyPlan removes exactly the bindings of plan p, read by ReadPlan and
// written by a dry run of a job with the same options (service, OlderThan,
// Types), which must have Apply: each is read again and removed only if it
// is still stale by the plan's cutoff, and nothing is listed. The plan's
// cutoff is first held to the API's clock (its API time must have come),
// and a line that changed since ReadPlan read it stops the job. With a
// journal, the lines an earlier run decided are skipped. It returns as Users
// does.
func (j *Job) ApplyPlan(ctx context.Context, p *Plan) (Report, error) {
	switch {
	case p == nil || p.r == nil:
		return Report{}, errors.New("cleanup: ApplyPlan needs a plan read by ReadPlan")
	case !j.opts.Apply:
		return Report{}, &OptionError{Field: "Apply", Problem: "must be true to apply a plan: the plan is the dry run"}
	}
	if err := p.agrees(j.head); err != nil {
		return Report{}, err
	}
	pinned := &[2]time.Time{p.Header.Cutoff.UTC(), p.Header.APITime.UTC()}
	return j.run(ctx, modePlan, p.digest, pinned, func(ctx context.Context, queue func(*task)) bool {
		u := &unit{fail: j.fail} // a plan's progress is its bindings' outcomes
		err := p.each(func(l planLine) bool {
			if ctx.Err() != nil {
				return false
			}
			k, _ := keyOf(l.SID)
			j.seenMu.Lock()
			_, before := j.earlier.decided[k]
			j.seenMu.Unlock()
			if before {
				j.n.skipped.Add(1)
				return true
			}
			j.consider(&task{sid: l.SID, user: l.User, identity: l.Identity, typ: l.BindingType, updated: l.DateUpdated, unit: u}, queue)
			return true
		})
		u.seal(true)
		switch {
		case errors.Is(err, errPlanChanged):
			j.fail(err) // not a listing that failed: the plan is not the one checked
		case err != nil && ctx.Err() == nil:
			j.listFailed("", err)
		}
		return err == nil && ctx.Err() == nil
	})
}
