// Package chat is a client for the push-notification bindings (APN, GCM,
// FCM) of Twilio's Programmable Chat v2 API: the User Binding resource, the
// bindings of one user of one Chat service, and the service-wide Binding
// resource, every binding of a service in one listing.
//
// API reference: https://www.twilio.com/docs/chat/rest/user-binding-resource
// and https://www.twilio.com/docs/chat/rest/binding-resource
//
// Addressing a binding builds cheap values that do no I/O and cannot fail;
// the verb at the end validates everything and makes the call:
//
//	api := chat.New(c)
//	u := api.Services("IS…").Users("alice@example.com") // a US… SID or the identity
//	b, err := u.UserBindings("BS…").Fetch(ctx)
//	err = u.UserBindings("BS…").Remove(ctx)
//	for b, err := range u.UserBindings.List(ctx, nil) { … }
//
//	svc := api.Services("IS…")
//	for b, err := range svc.Bindings.List(ctx, &chat.BindingListParams{Identity: []string{"alice"}}) { … }
//	err = svc.Bindings("BS…").Remove(ctx)
//
// Both resources share one implementation: the same validation, decoder,
// pager and page-URL rules, and every binding handed out is checked to
// belong to the service and user asked for and to match the listing's
// filters.
//
// Identities are sent as exactly one escaped path segment, so an identity
// such as "a?b" or "x/y" addresses that user and no other resource.
//
// Programmable Chat is deprecated by Twilio in favour of Conversations; this
// package exists for services that still hold Chat bindings and need to read
// and clean them up.
package chat
