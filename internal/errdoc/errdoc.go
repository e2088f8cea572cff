// Package errdoc reads the error document Twilio sends with a failed call,
// {"code": 20404, "message": "…", "more_info": "…", "status": 404}: the one
// reader of it for the client, whose errors it fills, and for the resource
// packages, which meet it in the body of a 2xx answer that should have held
// something else.
package errdoc

import (
	"encoding/json"

	"github.com/twiliochat/twiliochat-go/internal/jsonscan"
)

// Doc is a Twilio error document.
type Doc struct {
	Code     int
	Message  string
	MoreInfo string
	Status   int
	Details  map[string]any
}

// MaxSize is the largest body read as an error document: far more than
// any Twilio error document, and little enough that decoding a hostile one
// (whose details encoding/json turns into maps) costs a bounded amount.
const MaxSize = 64 << 10

// Parse reads body as a Twilio error document. It reports false for
// anything else: a body larger than MaxSize, one that is not JSON, a JSON
// value without a code and a message, or one that gives a field of the
// document twice. Keys match exactly, as chat's decoder matches a
// binding's: encoding/json would take {"CODE": …, "Message": …} for a
// document, and so turn a 2xx body that is not one into an error.
func Parse(body []byte) (Doc, bool) {
	if len(body) > MaxSize {
		return Doc{}, false
	}
	d, hasCode, err := parse(body)
	if err != nil || !hasCode || d.Message == "" {
		return Doc{}, false
	}
	return d, true
}

// fieldErr is any problem that makes a body not a document; Parse only
// needs to know that there was one.
type fieldErr struct{}

func (fieldErr) Error() string { return "not an error document" }

func parse(body []byte) (d Doc, hasCode bool, err error) {
	var sc jsonscan.Scanner
	sc.Reset(body)
	if err := sc.BeginObject(); err != nil {
		return d, false, err
	}
	seen := map[string]bool{}
	for {
		key, more, err := sc.NextKey()
		if err != nil {
			return d, false, err
		}
		if !more {
			break
		}
		k := string(key)
		switch k {
		case "code", "message", "more_info", "status", "details":
			if seen[k] {
				return d, false, fieldErr{}
			}
			seen[k] = true
		}
		switch k {
		case "code":
			var n int
			var null bool
			if n, null, err = integer(&sc); err == nil && !null {
				d.Code, hasCode = n, true
			}
		case "status":
			d.Status, _, err = integer(&sc)
		case "message":
			d.Message, err = str(&sc)
		case "more_info":
			d.MoreInfo, err = str(&sc)
		case "details":
			start := sc.Offset()
			if err = sc.Skip(); err == nil {
				// encoding/json for the one field whose shape is open;
				// its key is already matched exactly.
				err = json.Unmarshal(body[start:sc.Offset()], &d.Details)
			}
		default:
			err = sc.Skip()
		}
		if err != nil {
			return d, false, err
		}
	}
	return d, hasCode, sc.End()
}

// integer reads a JSON integer that fits in an int, or null.
func integer(sc *jsonscan.Scanner) (n int, null bool, err error) {
	if null, err := sc.Null(); null || err != nil {
		return 0, null, err
	}
	v, err := sc.Int()
	if err != nil {
		return 0, false, err
	}
	if int64(int(v)) != v {
		return 0, false, fieldErr{}
	}
	return int(v), false, nil
}

// str reads a JSON string, or null as "".
func str(sc *jsonscan.Scanner) (string, error) {
	if null, err := sc.Null(); null || err != nil {
		return "", err
	}
	b, err := sc.String()
	return string(b), err
}
