package chat

import (
	"context"
	"iter"
)

// The listing methods of both resources, side by side: each is the one
// generic implementation in paginate.go, for its resource.

// List iterates over the user's bindings, fetching pages as it goes and
// following next_page_url transparently. It stops after params.Limit
// bindings when Limit is set. An error is yielded once and ends the
// sequence; breaking out of the loop stops fetching. No goroutine is left
// behind either way.
//
//	for b, err := range u.UserBindings.List(ctx, nil) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(b.SID, b.BindingType)
//	}
//
// API: GET /v2/Services/{ServiceSid}/Users/{UserSid}/Bindings
// (https://www.twilio.com/docs/chat/rest/user-binding-resource#read-multiple-user-binding-resources)
func (f UserBindings) List(ctx context.Context, params *UserBindingListParams) iter.Seq2[*UserBinding, error] {
	return itemsOf[UserBinding](ctx, f.ref(), params.listQuery())
}

// List iterates over the service's bindings, of every user or of the users
// params.Identity names; it behaves as UserBindings.List does.
//
// API: GET /v2/Services/{ServiceSid}/Bindings
// (https://www.twilio.com/docs/chat/rest/binding-resource#read-multiple-binding-resources)
func (f Bindings) List(ctx context.Context, params *BindingListParams) iter.Seq2[*Binding, error] {
	return itemsOf[Binding](ctx, f.ref(), params.listQuery())
}

// Pages iterates over the pages of the user's bindings, following
// next_page_url until the last page, or the page that reaches params.Limit.
// An error ends the sequence. Breaking out of the loop stops fetching; with
// params.Prefetch, the page being fetched ahead is cancelled and its
// goroutine waited for before the loop returns.
func (f UserBindings) Pages(ctx context.Context, params *UserBindingListParams) iter.Seq2[*UserBindingPage, error] {
	return pagesOf[UserBinding](ctx, f.ref(), params.listQuery())
}

// Pages iterates over the pages of the service's bindings; it behaves as
// UserBindings.Pages does.
func (f Bindings) Pages(ctx context.Context, params *BindingListParams) iter.Seq2[*BindingPage, error] {
	return pagesOf[Binding](ctx, f.ref(), params.listQuery())
}

// FirstPage fetches the first page of the user's bindings; page.Next
// fetches the ones after it.
func (f UserBindings) FirstPage(ctx context.Context, params *UserBindingListParams) (*UserBindingPage, error) {
	return firstPage[UserBinding](ctx, f.ref(), params.listQuery())
}

// FirstPage fetches the first page of the service's bindings; page.Next
// fetches the ones after it.
func (f Bindings) FirstPage(ctx context.Context, params *BindingListParams) (*BindingPage, error) {
	return firstPage[Binding](ctx, f.ref(), params.listQuery())
}

// PageFromURL fetches the page at pageURL, a Meta.NextPageURL saved from an
// earlier listing of the same user's bindings, so a long job can resume
// where it stopped. The URL's filters and page size come with it.
func (f UserBindings) PageFromURL(ctx context.Context, pageURL string) (*UserBindingPage, error) {
	return pageFromURL[UserBinding](ctx, f.ref(), pageURL)
}

// PageFromURL fetches the page at pageURL, a Meta.NextPageURL saved from an
// earlier listing of the same service's bindings, so a long walk can resume
// where it stopped. The URL's filters and page size come with it.
func (f Bindings) PageFromURL(ctx context.Context, pageURL string) (*BindingPage, error) {
	return pageFromURL[Binding](ctx, f.ref(), pageURL)
}
