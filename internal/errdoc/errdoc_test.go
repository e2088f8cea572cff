package errdoc

import "testing"

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		ok   bool
		want Doc
	}{
		{`{"code":20404,"message":"not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`, true,
			Doc{Code: 20404, Message: "not found", MoreInfo: "https://www.twilio.com/docs/errors/20404", Status: 404}},
		{`{"code":0,"message":"zero is a code","status":400}`, true, Doc{Message: "zero is a code", Status: 400}},
		{`{"code":20001,"message":"bad","details":{"hint":"x"}}`, true, Doc{Code: 20001, Message: "bad"}},
		{`{"message":"no code"}`, false, Doc{}},
		{`{"code":20404}`, false, Doc{}},
		{`<html>502</html>`, false, Doc{}},
		{``, false, Doc{}},
		{`[]`, false, Doc{}},
		{`{"code":"20404","message":"a string code"}`, false, Doc{}},
	}
	for _, c := range cases {
		got, ok := Parse([]byte(c.body))
		if ok != c.ok || got.Code != c.want.Code || got.Message != c.want.Message || got.MoreInfo != c.want.MoreInfo || got.Status != c.want.Status {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", c.body, got, ok, c.want, c.ok)
		}
	}
	if d, _ := Parse([]byte(cases[2].body)); d.Details["hint"] != "x" {
		t.Errorf("details: %v", d.Details)
	}
}
