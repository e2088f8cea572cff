package errdoc

import (
	"encoding/json"
	"reflect"
	"testing"
)

// parseCases are bodies and what Parse makes of them; FuzzParse starts
// from them too.
var parseCases = []struct {
	name string
	body string
	ok   bool
	want Doc
}{
	{"a document", `{"code":20404,"message":"not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, true,
		Doc{Code: 20404, Message: "not found", MoreInfo: "https://www.twilio.com/docs/errors/20404", Status: 404}},
	{"code 0", `{"code":0,"message":"zero is a code","status":400}`, true, Doc{Message: "zero is a code", Status: 400}},
	{"details", `{"code":20001,"message":"bad","details":{"hint":"x"}}`, true, Doc{Code: 20001, Message: "bad", Details: map[string]any{"hint": "x"}}},
	{"null details, status and more_info", `{"code":20001,"message":"bad","details":null,"status":null,"more_info":null}`, true, Doc{Code: 20001, Message: "bad"}},
	{"other keys skipped", ` {"x":[1,{"y":null}],"code":1,"message":"m","z":true} `, true, Doc{Code: 1, Message: "m"}},
	{"no code", `{"message":"no code"}`, false, Doc{}},
	{"no message", `{"code":20404}`, false, Doc{}},
	{"a null code", `{"code":null,"message":"m"}`, false, Doc{}},
	{"a null message", `{"code":1,"message":null}`, false, Doc{}},
	{"HTML", `<html>502</html>`, false, Doc{}},
	{"empty", ``, false, Doc{}},
	{"an array", `[]`, false, Doc{}},
	{"a string code", `{"code":"20404","message":"a string code"}`, false, Doc{}},
	{"a fractional code", `{"code":20404.5,"message":"m"}`, false, Doc{}},
	{"a string status", `{"code":1,"message":"m","status":"404"}`, false, Doc{}},
	{"details not an object", `{"code":1,"message":"m","details":[1]}`, false, Doc{}},
	{"trailing data", `{"code":1,"message":"m"} {}`, false, Doc{}},
	{"upper-case keys", `{"CODE":20404,"Message":"x","STATUS":404}`, false, Doc{}},
	{"a key in another case beside a document's", `{"Code":20404,"message":"x"}`, false, Doc{}},
	{"a code given twice", `{"code":1,"message":"m","code":2}`, false, Doc{}},
	{"a message given twice", `{"code":1,"message":"m","message":"n"}`, false, Doc{}},
}

// TestParseTakesOnlyTwiliosExactKeys: a document is its lower-case keys,
// each once; upper-case or repeated ones, like anything else that is not
// Twilio's document, are not one.
func TestParseTakesOnlyTwiliosExactKeys(t *testing.T) {
	t.Parallel()
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Parse([]byte(c.body))
			if ok != c.ok || !reflect.DeepEqual(got, c.want) {
				t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", c.body, got, ok, c.want, c.ok)
			}
		})
	}
	big := make([]byte, MaxSize+1)
	copy(big, `{"code":1,"message":"m","x":"`)
	if _, ok := Parse(big); ok {
		t.Error("a body over MaxSize was parsed")
	}
}

// FuzzParse: Parse never panics, a document it accepts has a message, and
// the document written back in Twilio's shape parses to itself.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := Parse(body)
		if !ok {
			return
		}
		if d.Message == "" {
			t.Fatalf("Parse(%q) accepted a document without a message", body)
		}
		again, err := json.Marshal(map[string]any{"code": d.Code, "message": d.Message, "more_info": d.MoreInfo, "status": d.Status, "details": d.Details})
		if err != nil {
			t.Fatal(err)
		}
		d2, ok := Parse(again)
		if !ok || d2.Code != d.Code || d2.Message != d.Message || d2.MoreInfo != d.MoreInfo || d2.Status != d.Status || len(d2.Details) != len(d.Details) {
			t.Fatalf("%q parsed to %+v, written back as %s it parses to %+v, %v", body, d, again, d2, ok)
		}
	})
}
