// Package cleanup removes the stale push bindings of a Chat service: those
// whose date_updated is older than a cutoff, measured on the API's clock.
// It is the job the cleanup-stale-bindings tool runs, for Go programs that
// run it themselves.
//
//	job, err := cleanup.New(api.Services("IS…"), cleanup.Options{
//		OlderThan: 30 * 24 * time.Hour,
//		Apply:     true,
//		Journal:   "cleanup.journal", // resumable after a kill
//		OnOutcome: func(o cleanup.Outcome) { log.Println(o.Result, o.SID) },
//	})
//	report, err := job.Service(ctx)        // every binding of the service, or
//	report, err := job.Users(ctx, names)   // the bindings of the users named
//
// What it promises:
//
//   - The cutoff is Options.OlderThan before the time in the Date header of
//     the API's first answer, fixed once per job (and kept in its journal
//     and its plan), not the machine's clock. A binding with no
//     date_updated is never removed.
//   - Each stale binding is read again immediately before its removal, and
//     removed only if it is still stale (chat's RemoveIf): a device that
//     registered again keeps its binding (Kept). A DELETE answered 429 or
//     5xx, or cut off, is never sent again blind.
//   - Each binding is judged and removed once per job, however often its
//     user is named.
//   - Every stale binding gets one Outcome, passed to OnOutcome as it is
//     decided, one call at a time; the Report agrees with the outcomes.
//   - Within the client's rate limit (client.WithRateLimit): a removal
//     takes its turn before it reads the binding again, so nothing it read
//     waits behind the limit. What the API rate-limits is tried again,
//     waiting as asked; a job that makes no progress for NoProgress ends.
//   - Options.Plan (a dry run) writes the bindings that would be removed;
//     ApplyPlan removes exactly those, each re-checked.
//   - Options.Journal makes the job resumable after a kill at any moment:
//     started again, it lists nothing it finished, removes nothing twice,
//     tries again what failed, and reports a removal whose DELETE was sent
//     but not answered as Removed, not already gone. Options.Audit keeps one
//     JSON line per outcome.
//   - An error writing the journal, the plan or the audit ends the job with
//     a *WriteError: nothing is dropped silently. Nothing is removed whose
//     intent the journal could not record.
//
// A Job follows the shape of aws-sdk-go-v2's s3 manager and Google Cloud
// Storage's transfer manager: options in a struct, Concurrency workers, a
// callback per item, one result at the end. Its files' formats are in the
// package's README.
package cleanup
