package client_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
)

func ExampleNew() {
	c, err := client.New(
		client.WithCredentials("AC0123456789abcdef0123456789abcdef", "your-auth-token"),
		client.WithRegion("ie1"),
		client.WithEdge("dublin"),
		client.WithMaxRetries(6),
		client.WithRetryWait(100*time.Millisecond, 10*time.Second),
		client.WithUserAgent("cleanup-job/1.2"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	fmt.Println(c) // never prints the token
	// Output:
	// https://chat.dublin.ie1.twilio.com
	// twilio client for https://chat.dublin.ie1.twilio.com as AC0123456789abcdef0123456789abcdef
}

func ExampleNew_configError() {
	// Swapped arguments: the error says what to fix without echoing the
	// value, which might be the token.
	_, err := client.New(client.WithCredentials("your-auth-token", "AC0123456789abcdef0123456789abcdef"))
	var ce *client.ConfigError
	fmt.Println(errors.As(err, &ce))
	fmt.Println(err)
	// Output:
	// true
	// twilio: configuration: account SID must be AC followed by 32 hex digits (find it in the Twilio Console); got 15 characters not starting with AC: the arguments may be swapped (client.WithCredentials takes the account SID, then the auth token)
}

func ExampleError() {
	// What a failed call returns, here built by hand.
	var err error = &client.Error{
		Status: 404, Code: 20404, Message: "The requested resource was not found",
		MoreInfo: "https://www.twilio.com/docs/errors/20404", RequestID: "RQ0123456789abcdef0123456789abcdef",
		Method: "GET", Path: "/v2/Services/IS0123456789abcdef0123456789abcdef/Users/alice/Bindings/BS0123456789abcdef0123456789abcdef",
	}
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code, apiErr.RequestID)
	}
	fmt.Println(client.IsNotFound(err), errors.Is(err, client.ErrNotFound), client.IsRateLimited(err))
	// Output:
	// 404 20404 RQ0123456789abcdef0123456789abcdef
	// true true false
}
