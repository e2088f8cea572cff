package chat

import "github.com/twiliochat/twiliochat-go/client"

// FetchOption adjusts one Fetch call.
type FetchOption interface{ applyFetch(*callOptions) }

// RemoveOption adjusts one Remove call.
type RemoveOption interface{ applyRemove(*callOptions) }

// callOptions is what the options of one call set.
type callOptions struct {
	retriedNotFoundOK bool
	response          *client.Response
}

func fetchOptions(opts []FetchOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyFetch(&o)
		}
	}
	return o
}

func removeOptions(opts []RemoveOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyRemove(&o)
		}
	}
	return o
}

// keep stores a successful call's response where ResponseInto asked.
func (o callOptions) keep(resp *client.Response) {
	if o.response != nil && resp != nil {
		*o.response = *resp
	}
}

// ResponseOption is ResponseInto's option, for Fetch and Remove alike.
type ResponseOption struct{ dst *client.Response }

func (o ResponseOption) applyFetch(c *callOptions)  { c.response = o.dst }
func (o ResponseOption) applyRemove(c *callOptions) { c.response = o.dst }

// ResponseInto stores the metadata of a successful call's response in dst:
// its status, headers, Twilio-Request-Id and attempts, for an audit trail
// or a support ticket. A failed call's *client.Error carries its status, request ID and attempts.
// Pages carry theirs in Page.Response.
func ResponseInto(dst *client.Response) ResponseOption { return ResponseOption{dst: dst} }

// removeOption is an option of Remove alone.
type removeOption func(*callOptions)

func (f removeOption) applyRemove(c *callOptions) { f(c) }

// AcceptRetriedNotFound makes Remove succeed when the API answers 404 to a
// DELETE retried after an attempt whose outcome is unknown: one that timed
// out after its request went, lost its connection after sending, or was
// answered 5xx may have removed the binding, and the retry then finds
// nothing; for a cleanup job that is the outcome it wanted. A 404 on the
// first attempt, or after attempts answered 429 (which the server never
// acts on) or that never reached the server (a refused or timed-out dial,
// a wait for a pooled connection), is still an error: the binding was not
// there.
func AcceptRetriedNotFound() RemoveOption {
	return removeOption(func(o *callOptions) { o.retriedNotFoundOK = true })
}
