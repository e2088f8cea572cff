// Package chat is a client for the User Binding resource of Twilio's
// Programmable Chat v2 API: the push-notification bindings (APN, GCM, FCM)
// that belong to one user of one Chat service.
//
// API reference: https://www.twilio.com/docs/chat/rest/user-binding-resource
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
// Identities are sent as exactly one escaped path segment, so an identity
// such as "a?b" or "x/y" addresses that user and no other resource.
//
// Programmable Chat is deprecated by Twilio in favour of Conversations; this
// package exists for services that still hold Chat bindings and need to read
// and clean them up.
package chat
