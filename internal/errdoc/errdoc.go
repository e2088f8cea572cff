// Package errdoc reads the error document Twilio sends with a failed call,
// {"code": 20404, "message": "…", "more_info": "…", "status": 404}: the one
// reader of it for the client, whose errors it fills, and for the resource
// packages, which meet it in the body of a 2xx answer that should have held
// something else.
package errdoc

import "encoding/json"

// Doc is a Twilio error document.
type Doc struct {
	Code     int
	Message  string
	MoreInfo string
	Status   int
	Details  map[string]any
}

type wire struct {
	Code     *int           `json:"code"`
	Message  string         `json:"message"`
	MoreInfo string         `json:"more_info"`
	Status   int            `json:"status"`
	Details  map[string]any `json:"details"`
}

// MaxSize is the largest body read as an error document: far more than
// any Twilio error document, and little enough that decoding a hostile one
// (whose details encoding/json turns into maps) costs a bounded amount.
const MaxSize = 64 << 10

// Parse reads body as a Twilio error document. It reports false for
// anything else: a body larger than MaxSize, one that is not JSON, or a
// JSON value without a code and a message.
func Parse(body []byte) (Doc, bool) {
	var w wire
	if len(body) > MaxSize || json.Unmarshal(body, &w) != nil || w.Code == nil || w.Message == "" {
		return Doc{}, false
	}
	return Doc{Code: *w.Code, Message: w.Message, MoreInfo: w.MoreInfo, Status: w.Status, Details: w.Details}, true
}
