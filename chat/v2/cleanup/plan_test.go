package cleanup_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	chat "github.com/twiliochat/twiliochat-go/chat/v2"
	"github.com/twiliochat/twiliochat-go/chat/v2/chattest"
	"github.com/twiliochat/twiliochat-go/chat/v2/cleanup"
)

// dryRunPlan runs a dry run of the users of w into a plan and returns it.
func dryRunPlan(t *testing.T, w *world, names func(func(string) bool)) []byte {
	t.Helper()
	var plan bytes.Buffer
	job, err := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Plan: &plan})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Users(context.Background(), names); err != nil {
		t.Fatal(err)
	}
	return plan.Bytes()
}

func applyPlan(t *testing.T, w *world, plan []byte, opts cleanup.Options) (cleanup.Report, error) {
	t.Helper()
	p, err := cleanup.ReadPlan(bytes.NewReader(plan))
	if err != nil {
		return cleanup.Report{}, err
	}
	if opts.OlderThan == 0 {
		opts.OlderThan, _ = p.Header.OlderThanDuration()
		opts.Types = p.Header.BindingTypes()
		opts.Apply = true
	}
	job, err := cleanup.New(w.service(), opts)
	if err != nil {
		return cleanup.Report{}, err
	}
	return job.ApplyPlan(context.Background(), p)
}

// TestApplyExactlyThePlan: a dry run's plan names the stale bindings;
// applied later, it removes exactly those, each re-checked, and lists
// nothing: a binding gone stale since is left, and one refreshed is kept.
func TestApplyExactlyThePlan(t *testing.T) {
	t.Parallel()
	w, c := watched(t, 5, 10)
	plan := dryRunPlan(t, w, w.names())
	p, err := cleanup.ReadPlan(bytes.NewReader(plan))
	if err != nil || p.Lines != 25 || !p.Finished || p.Header.Cutoff.IsZero() || p.Header.Service != w.svc.SID || p.Header.Mode != "users" {
		t.Fatalf("plan %+v, %v", p, err)
	}
	later := w.users[0].AddBinding(chattest.Binding{DateUpdated: time.Now().Add(-2 * month)}) // stale, not in the plan
	w.stale[chat.BindingSID(later)] = true
	refreshed := 0
	for _, b := range w.users[1].Bindings() {
		if w.stale[b.SID] {
			w.users[1].RefreshBinding(string(b.SID), time.Now())
			refreshed++
		}
	}
	lists := c.userLists()
	r, err := applyPlan(t, w, plan, cleanup.Options{})
	if err != nil || r.Scanned != 25 || r.Matched != 25 || r.Removed != int64(25-refreshed) || r.Kept != int64(refreshed) {
		t.Fatalf("%+v, %v", r, err)
	}
	if n := c.userLists() - lists; n != 0 {
		t.Errorf("applying a plan listed %d users", n)
	}
	stale, _ := w.left(t)
	if stale != refreshed+1 || len(w.users[0].Bindings()) != 6 {
		t.Errorf("%d stale left; want the %d refreshed, and %s, which is not in the plan", stale, refreshed, later)
	}
}

// TestAPlanOfNothingApplies: a dry run that finds nothing writes a plan that
// applies, with nothing to do.
func TestAPlanOfNothingApplies(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 1) // each user's one binding is stale... so drop them
	for _, u := range w.users {
		for _, b := range u.Bindings() {
			u.RemoveBinding(string(b.SID))
		}
	}
	plan := dryRunPlan(t, w, w.names())
	r, err := applyPlan(t, w, plan, cleanup.Options{})
	if err != nil || r.Matched != 0 {
		t.Fatalf("a plan of nothing: %+v, %v\n%s", r, err, plan)
	}
}

// unseekable is a reader that cannot go back, as a pipe cannot.
type unseekable struct{ io.Reader }

func (unseekable) Seek(int64, int) (int64, error) { return 0, errors.New("illegal seek") }

// TestPlansAreCheckedWhole: a plan that is not one, was cut off, was
// edited, or was made with other options is refused before anything is
// sent, with an error that says what is wrong.
func TestPlansAreCheckedWhole(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2, 4)
	plan := string(dryRunPlan(t, w, w.names()))
	lines := strings.Split(strings.TrimSpace(plan), "\n")
	cases := map[string]struct {
		plan, want string
	}{
		"not a plan":                  {"hello\n", "not a plan"},
		"empty":                       {"", "not a plan"},
		"cut off":                     {strings.Join(lines[:len(lines)-1], "\n") + "\n", "cut off"},
		"cut off mid-line":            {plan[:len(plan)-10], "line"},
		"a line removed":              {strings.Join(slices.Concat(lines[:1], lines[2:]), "\n") + "\n", "lines were added or removed"},
		"a line that is not a plan's": {strings.Join(slices.Concat([]string{lines[0], `{"sid":"BS1"}`}, lines[1:]), "\n") + "\n", "line 2"},
		"a line after the last":       {plan + lines[1] + "\n", "follows the plan's last line"},
		"a newer version":             {strings.Replace(plan, `{"plan":2,`, `{"plan":3,`, 1), "version 3"},
		"a line edited":               {strings.Replace(plan, `"binding_type":"apn"`, `"binding_type":"fcm"`, 1), "was edited"},
		"a line repeated":             {strings.Join(slices.Concat([]string{lines[0], lines[1]}, lines[1:]), "\n") + "\n", "lines were added or removed"},
	}
	for name, tc := range cases {
		_, err := cleanup.ReadPlan(strings.NewReader(tc.plan))
		if !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrRefused, saying %q", name, err, tc.want)
		}
	}
	// A plan that cannot be read twice would be checked whole and then not
	// applied: it is refused before a line is read.
	if _, err := cleanup.ReadPlan(unseekable{strings.NewReader(plan)}); !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), "not a pipe") {
		t.Errorf("a plan that cannot seek: %v, want ErrRefused", err)
	}
	before := w.srv.Stats().Requests
	if _, err := applyPlan(t, w, []byte(plan), cleanup.Options{OlderThan: 2 * month, Apply: true}); !errors.Is(err, cleanup.ErrRefused) || !strings.Contains(err.Error(), "other options") {
		t.Errorf("a plan applied with another OlderThan: %v", err)
	}
	if _, err := applyPlan(t, w, []byte(plan), cleanup.Options{OlderThan: month}); !errors.As(err, new(*cleanup.OptionError)) {
		t.Errorf("a plan applied without Apply: %v", err)
	}
	other := newWorld(t, 1, 1)
	if _, err := applyPlan(t, other, []byte(plan), cleanup.Options{}); err == nil || !strings.Contains(err.Error(), "service") {
		t.Errorf("a plan applied to another service: %v", err)
	}
	if n := w.srv.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent for refused plans", n)
	}
}

// TestAnInterruptedDryRunsPlanSaysSo.
func TestAnInterruptedDryRunsPlanSaysSo(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, 10)
	ctx, cancel := context.WithCancel(context.Background())
	var plan bytes.Buffer
	n := 0
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Plan: &plan, Concurrency: 1, OnOutcome: func(cleanup.Outcome) {
		if n++; n == 7 {
			cancel()
		}
	}})
	if _, err := job.Users(ctx, w.names()); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	p, err := cleanup.ReadPlan(bytes.NewReader(plan.Bytes()))
	if err != nil || p.Finished || p.Lines < 7 {
		t.Fatalf("%+v, %v", p, err)
	}
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after--; f.after < 0 {
		return 0, syscall.ENOSPC
	}
	return len(p), nil
}

// TestAPlanThatCannotBeWrittenEndsTheJob: a full disk under the plan ends
// the dry run with a *WriteError, not a plan silently cut short.
func TestAPlanThatCannotBeWrittenEndsTheJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 10, 10)
	job, _ := cleanup.New(w.service(), cleanup.Options{OlderThan: month, Plan: &failingWriter{after: 3}})
	_, err := job.Users(context.Background(), w.names())
	var we *cleanup.WriteError
	if !errors.As(err, &we) || we.What != "plan" || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want a WriteError on the plan", err)
	}
}
