package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/internal/cli"
)

// cleaner finds stale bindings (listing named users, walking the service,
// or reading a plan) and hands them to removers, recording what happened.
type cleaner struct {
	cfg    *config
	env    *cli.Env
	svc    chat.ServiceHandle
	stderr io.Writer
	start  time.Time

	outMu sync.Mutex
	out   *bufio.Writer

	cutoffMu sync.Mutex
	cutoff   time.Time // fixed once, from the API's clock, a state file or a plan

	seen    cli.Seen
	tracker *tracker
	audit   *auditLog
	plan    *planWriter
	source  func(ctx context.Context, jobs chan<- *job)

	scanned, matched, removed, gone, kept, failed, notDone, listFailed atomic.Int64
}

// job is one binding judged stale, on its way to removal.
type job struct {
	sid      chat.BindingSID
	user     string // as the operator named it; "" for the service-wide resource
	identity string
	typ      chat.BindingType
	updated  time.Time
	unit     *unit
}

func newCleaner(cfg *config, env *cli.Env, stdout, stderr io.Writer) *cleaner {
	return &cleaner{
		cfg:    cfg,
		env:    env,
		svc:    env.API.Services(env.ServiceSID),
		stderr: stderr,
		start:  time.Now(),
		out:    bufio.NewWriter(stdout),
	}
}

// open prepares the run's files and its source of bindings.
func (c *cleaner) open(names []string, stdin io.Reader) (err error) {
	fp := fingerprint{Service: c.env.ServiceSID, Mode: "users", OlderThan: c.cfg.olderThan.String()}
	for _, t := range c.cfg.Types {
		fp.Types = append(fp.Types, string(t))
	}
	slices.Sort(fp.Types)
	var plan *planReader
	defer func() {
		if err != nil && plan != nil {
			plan.Close()
		}
	}()
	switch {
	case c.cfg.fromPlan != "":
		if plan, err = openPlan(c.cfg.fromPlan); err != nil {
			return err
		}
		if err := plan.agrees(c.cfg, c.env.ServiceSID); err != nil {
			return err
		}
		fp = plan.fingerprint()
		c.setCutoff(plan.head.Cutoff)
	case c.cfg.AllUsers:
		fp.Mode = "all-users"
	}
	if c.cfg.auditFile != "" {
		if c.audit, err = openAudit(c.cfg.auditFile); err != nil {
			return err
		}
	}
	if c.tracker, err = openTracker(c.cfg.stateFile, fp, c.audit); err != nil {
		return err
	}
	if cut := c.tracker.pinnedCutoff(); !cut.IsZero() {
		c.setCutoff(cut)
	}
	if c.cfg.planFile != "" {
		if c.plan, err = createPlan(c.cfg.planFile, fp); err != nil {
			return err
		}
	}
	switch {
	case plan != nil:
		c.source = func(ctx context.Context, jobs chan<- *job) { c.fromPlan(ctx, plan, jobs) }
	case c.cfg.AllUsers:
		c.source = c.walk
	default:
		users, err := cli.OpenUsers(names, c.cfg.File, stdin, c.env.DemoUsers)
		if err != nil {
			return err
		}
		next, err := c.tracker.resumeUsers(users)
		if err != nil {
			users.Close()
			return err
		}
		c.source = func(ctx context.Context, jobs chan<- *job) { c.eachUser(ctx, users, next, jobs) }
	}
	return nil
}

func (c *cleaner) close() {
	c.audit.close()
	if c.plan != nil {
		if err := c.plan.close(); err != nil {
			fmt.Fprintln(c.stderr, "cleanup-stale-bindings: writing the plan:", err)
		}
	}
}

// setCutoff fixes the cutoff.
func (c *cleaner) setCutoff(t time.Time) {
	c.cutoffMu.Lock()
	defer c.cutoffMu.Unlock()
	if c.cutoff.IsZero() {
		c.cutoff = t
	}
}

// cutoffTime is -older-than before the API's time, fixed the first time it
// is needed (after the first response has told the API's time) and kept
// for the whole run, and for a resumed run in its state file.
func (c *cleaner) cutoffTime() time.Time {
	c.cutoffMu.Lock()
	defer c.cutoffMu.Unlock()
	if c.cutoff.IsZero() {
		c.cutoff = c.env.Clock.Now().Add(-c.cfg.olderThan).UTC().Truncate(time.Second)
		c.tracker.pinCutoff(c.cutoff)
		if c.plan != nil {
			c.plan.cutoff = c.cutoff
		}
	}
	return c.cutoff
}

// stale is the one place that decides what may be removed: every filter
// must match, and a binding of unknown age is never stale.
func (c *cleaner) stale(sid chat.BindingSID, typ chat.BindingType, updated time.Time) bool {
	if sid == "" || updated.IsZero() || !updated.Before(c.cutoffTime()) {
		return false
	}
	return len(c.cfg.Types) == 0 || slices.Contains(c.cfg.Types, typ)
}

func (c *cleaner) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.out, format, args...)
}

// run finds and removes until the source is done or ctx ends; removals in
// flight when ctx ends finish.
func (c *cleaner) run(ctx context.Context) {
	jobs := make(chan *job, 2*c.cfg.Concurrency)
	var wg sync.WaitGroup
	if c.cfg.apply {
		for i := 0; i < c.cfg.Concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					c.removeOne(ctx, j)
				}
			}()
		}
	}
	stopSaving := c.tracker.saveEvery(time.Second, c.stderr)
	c.source(ctx, jobs)
	close(jobs)
	wg.Wait()
	stopSaving()
	c.outMu.Lock()
	c.out.Flush()
	c.outMu.Unlock()
}

// consider judges one binding found by a listing: stale ones become jobs
// (or, in a dry run, lines of output and of the plan).
func (c *cleaner) consider(ctx context.Context, j *job, jobs chan<- *job) {
	c.scanned.Add(1)
	if !c.stale(j.sid, j.typ, j.updated) {
		return
	}
	c.matched.Add(1)
	if !c.cfg.apply {
		c.printf("would remove %s  %-4s updated %s  %s\n", j.sid, cli.Printable(string(j.typ)), j.updated.Format(time.RFC3339), c.who(j))
		if c.plan != nil {
			c.plan.add(j)
		}
		return
	}
	c.queue(ctx, j, jobs)
}

// queue hands j to the removers, or counts it not done when the run is
// interrupted first. A job not done leaves its unit unfinished, so a
// resumed run comes back to it.
func (c *cleaner) queue(ctx context.Context, j *job, jobs chan<- *job) {
	j.unit.add()
	select {
	case jobs <- j:
	case <-ctx.Done():
		c.notDone.Add(1)
	}
}

// who names a binding's user for output.
func (c *cleaner) who(j *job) string {
	if j.user != "" {
		return fmt.Sprintf("user %q", j.user)
	}
	return fmt.Sprintf("identity %q", j.identity)
}

// eachUser lists the users -concurrency at a time.
func (c *cleaner) eachUser(ctx context.Context, users *cli.Users, next func() (int, string, bool), jobs chan<- *job) {
	defer users.Close()
	cli.EachUser(ctx, next, c.cfg.Concurrency, func(ctx context.Context, index int, user string) {
		u := c.tracker.open(index, user)
		failed := !c.listUser(ctx, user, u, jobs)
		c.tracker.seal(u, failed)
	})
	if err := users.Err(); err != nil {
		fmt.Fprintln(c.stderr, "cleanup-stale-bindings: reading users:", err)
		c.listFailed.Add(1)
	}
}

// listUser lists one user's bindings page by page, retrying pages that
// fail for passing reasons, and reports whether the listing finished.
func (c *cleaner) listUser(ctx context.Context, user string, u *unit, jobs chan<- *job) bool {
	bindings := c.svc.Users(user).UserBindings
	params := &chat.UserBindingListParams{BindingType: c.cfg.Types, PageSize: c.cfg.PageSize}
	page, err := retry(ctx, c.cfg.retryWait, func() (*chat.UserBindingPage, error) { return bindings.FirstPage(ctx, params) })
	for err == nil && page != nil {
		for _, b := range page.Bindings {
			if c.seen.Add(b.SID) {
				c.consider(ctx, &job{sid: b.SID, user: user, identity: b.Identity, typ: b.BindingType, updated: b.DateUpdated, unit: u}, jobs)
			}
		}
		cur := page
		page, err = retry(ctx, c.cfg.retryWait, func() (*chat.UserBindingPage, error) { return cur.Next(ctx) })
	}
	if err != nil && ctx.Err() == nil {
		c.listFailed.Add(1)
		c.printf("failed to list user %q: %v\n", user, err)
	}
	return err == nil
}

// walk lists every binding of the service through the service-wide
// resource, a page at a time, resuming where a state file says.
func (c *cleaner) walk(ctx context.Context, jobs chan<- *job) {
	// Removals that failed in the run the state file records are tried
	// again first; the re-check before removal reads what they are now.
	for _, sid := range c.tracker.retrySIDs() {
		u := c.tracker.open(-1, "")
		c.scanned.Add(1)
		c.matched.Add(1)
		c.queue(ctx, &job{sid: chat.BindingSID(sid), unit: u}, jobs)
		c.tracker.seal(u, false)
	}
	from, finished := c.tracker.walkFrom()
	if finished {
		return
	}
	params := &chat.BindingListParams{BindingType: c.cfg.Types, PageSize: c.cfg.PageSize}
	page, err := retry(ctx, c.cfg.retryWait, func() (*chat.BindingPage, error) {
		if from != "" {
			return c.svc.Bindings.PageFromURL(ctx, from)
		}
		return c.svc.Bindings.FirstPage(ctx, params)
	})
	for i := 0; err == nil && page != nil; i++ {
		u := c.tracker.openPage(i, page.Meta.NextPageURL)
		for _, b := range page.Bindings {
			c.consider(ctx, &job{sid: b.SID, identity: b.Identity, typ: b.BindingType, updated: b.DateUpdated, unit: u}, jobs)
		}
		c.tracker.seal(u, false)
		cur := page
		page, err = retry(ctx, c.cfg.retryWait, func() (*chat.BindingPage, error) { return cur.Next(ctx) })
	}
	if err != nil && ctx.Err() == nil {
		c.listFailed.Add(1)
		c.printf("failed to list the service's bindings: %v\n", err)
	}
}

// fromPlan reads a plan's bindings as jobs: nothing is listed, and each is
// re-checked before removal like any other.
func (c *cleaner) fromPlan(ctx context.Context, plan *planReader, jobs chan<- *job) {
	defer plan.Close()
	keep := c.tracker.resumeLines()
	for i := 0; ctx.Err() == nil; i++ {
		line, ok, err := plan.next()
		if err != nil {
			c.listFailed.Add(1)
			c.printf("failed to read the plan: %v\n", err)
			return
		}
		if !ok {
			return
		}
		u := c.tracker.open(i, "")
		if keep(i) {
			c.scanned.Add(1)
			c.matched.Add(1)
			c.queue(ctx, &job{sid: line.SID, user: line.User, identity: line.Identity, typ: line.BindingType, updated: line.DateUpdated, unit: u}, jobs)
		}
		c.tracker.seal(u, false)
	}
}

func (c *cleaner) failures() int64 { return c.failed.Load() + c.listFailed.Load() }
