package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/twiliochat/twiliochat-go/client"
)

func seedTime() time.Time { return time.Date(2016, 10, 21, 11, 37, 3, 0, time.UTC) }

func TestSeedListExampleDecodes(t *testing.T) {
	t.Parallel()
	var d decoder[UserBinding]
	var p UserBindingPage
	hasMeta, err := d.page([]byte(readTestdata(t, "seed_list.json")), &p)
	if err != nil || !hasMeta {
		t.Fatalf("page: %v (meta %v)", err, hasMeta)
	}
	a32 := strings.Repeat("a", 32)
	listURL := "https://chat.twilio.com/v2/Services/IS" + a32 + "/Users/US" + a32 + "/Bindings?PageSize=50&Page=0"
	wantMeta := PageMeta{Page: 0, PageSize: 50, FirstPageURL: listURL, URL: listURL, Key: "bindings"}
	if p.Meta != wantMeta {
		t.Errorf("meta = %+v\nwant %+v", p.Meta, wantMeta)
	}
	want := &UserBinding{
		SID: BindingSID("BS" + a32), AccountSID: AccountSID("AC" + a32), ServiceSID: ServiceSID("IS" + a32),
		UserSID: UserSID("US" + a32), CredentialSID: CredentialSID("CR" + a32),
		DateCreated: seedTime(), DateUpdated: seedTime(),
		Endpoint: "TestUser-endpoint", Identity: "TestUser", BindingType: BindingTypeGCM,
		MessageTypes: []string{"removed_from_channel", "new_message", "added_to_channel", "invited_to_channel"},
		URL:          "https://chat.twilio.com/v2/Services/IS" + a32 + "/Users/US" + a32 + "/Bindings/BS" + a32,
	}
	if len(p.Bindings) != 1 || !reflect.DeepEqual(p.Bindings[0], want) {
		t.Fatalf("bindings = %#v\nwant %#v", p.Bindings, want)
	}
}

func TestSeedFetchExampleHasAPlaceholderUserSID(t *testing.T) {
	t.Parallel()
	// The seed's fetch example says "user_sid": "UserSid", a documentation
	// placeholder: a malformed SID is an error that names the field.
	var d decoder[UserBinding]
	_, err := d.single([]byte(readTestdata(t, "seed_fetch.json")), new(UserBinding))
	var de *DecodeError
	if !errors.As(err, &de) || de.Field != "user_sid" || !strings.Contains(err.Error(), `"UserSid"`) {
		t.Fatalf("err = %v, want a DecodeError naming user_sid and its value", err)
	}
	// The OpenAPI text's fetch example has a real SID and decodes.
	var b UserBinding
	ok, err := d.single([]byte(readTestdata(t, "openapi_fetch.json")), &b)
	if err != nil || !ok || b.UserSID != UserSID("US"+strings.Repeat("a", 32)) || b.BindingType != BindingTypeGCM || !b.DateUpdated.Equal(seedTime()) {
		t.Fatalf("OpenAPI example: %+v, %v", b, err)
	}
}

func TestDecodeBinding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		in        string
		want      UserBinding
		wantField string // "" means success; otherwise the field a DecodeError names
	}{
		{"all null", `{"sid":null,"account_sid":null,"service_sid":null,"user_sid":null,"credential_sid":null,"date_created":null,"date_updated":null,"endpoint":null,"identity":null,"binding_type":null,"message_types":null,"url":null}`, UserBinding{}, ""},
		{"only sid", `{"sid":"` + testBinding + `"}`, UserBinding{SID: testBinding}, ""},
		{"unknown binding type kept", `{"binding_type":"voip"}`, UserBinding{BindingType: "voip"}, ""},
		{"unknown fields skipped", `{"links":{"a":[1,2,{"b":null}]},"sid":"` + testBinding + `","x":1e5}`, UserBinding{SID: testBinding}, ""},
		{"escaped strings", `{"identity":"al\u00efce \"x\"","endpoint":"a\/b"}`, UserBinding{Identity: `alïce "x"`, Endpoint: "a/b"}, ""},
		{"fractional time", `{"date_updated":"2016-10-21T11:37:03.5+02:00"}`, UserBinding{DateUpdated: time.Date(2016, 10, 21, 9, 37, 3, 5e8, time.UTC)}, ""},
		{"lower-case t and z", `{"date_updated":"2016-10-21t11:37:03z"}`, UserBinding{DateUpdated: seedTime()}, ""},
		{"lower-case t and z with fraction", `{"date_updated":"2016-10-21t11:37:03.000z"}`, UserBinding{DateUpdated: seedTime()}, ""},
		{"lower-case t with offset", `{"date_updated":"2016-10-21t13:37:03+02:00"}`, UserBinding{DateUpdated: seedTime()}, ""},
		{"empty message types", `{"message_types":[]}`, UserBinding{MessageTypes: []string{}}, ""},

		{"sid wrong prefix", `{"sid":"IS0123456789abcdef0123456789abcdef"}`, UserBinding{}, "sid"},
		{"sid short", `{"sid":"BS0123"}`, UserBinding{}, "sid"},
		{"account_sid non-hex", `{"account_sid":"ACzz23456789abcdef0123456789abcdef"}`, UserBinding{}, "account_sid"},
		{"service_sid lower prefix", `{"service_sid":"is0123456789abcdef0123456789abcdef"}`, UserBinding{}, "service_sid"},
		{"user_sid placeholder", `{"user_sid":"UserSid"}`, UserBinding{}, "user_sid"},
		{"credential_sid wrong", `{"credential_sid":"CR"}`, UserBinding{}, "credential_sid"},
		{"sid a number", `{"sid":12}`, UserBinding{}, "sid"},
		{"endpoint an object", `{"endpoint":{}}`, UserBinding{}, "endpoint"},
		{"message_types a string", `{"message_types":"new_message"}`, UserBinding{}, "message_types"},
		{"message_types with number", `{"message_types":["a",1]}`, UserBinding{}, "message_types"},
		{"date not a date", `{"date_created":"yesterday"}`, UserBinding{}, "date_created"},
		{"date out of range", `{"date_updated":"2021-02-30T00:00:00Z"}`, UserBinding{}, "date_updated"},
		{"truncated", `{"sid":"` + testBinding, UserBinding{}, "sid"},
		{"trailing garbage", `{"sid":null} x`, UserBinding{}, ""},
		{"array instead of object", `[]`, UserBinding{}, ""},
		{"a field given twice", `{"sid":"` + testBinding + `","sid":"` + testBinding + `"}`, UserBinding{}, "sid"},
		{"message_types given twice", `{"message_types":["a"],"message_types":["b"]}`, UserBinding{}, "message_types"},
		{"a key escaped the second time", `{"identity":"a","identit\u0079":"b"}`, UserBinding{}, "identity"},
		{"a field of the other shape given twice", `{"links":{},"links":{}}`, UserBinding{}, "links"},
		{"an unknown key twice is skipped", `{"x":1,"x":2,"sid":null}`, UserBinding{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d decoder[UserBinding]
			var b UserBinding
			_, err := d.single([]byte(tc.in), &b)
			failing := tc.wantField != "" || strings.HasPrefix(tc.name, "truncated") || strings.HasPrefix(tc.name, "trailing") || strings.HasPrefix(tc.name, "array")
			if !failing {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !reflect.DeepEqual(b, tc.want) && !(b.DateUpdated.Equal(tc.want.DateUpdated) && tc.want.DateUpdated != time.Time{}) {
					t.Fatalf("got %#v\nwant %#v", b, tc.want)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *DecodeError", err)
			}
			if de.Field != tc.wantField {
				t.Errorf("error names field %q, want %q: %v", de.Field, tc.wantField, err)
			}
		})
	}
}

func TestDecodePage(t *testing.T) {
	t.Parallel()
	meta := `"meta":{"page":0,"page_size":50,"next_page_url":null,"key":"bindings"}`
	cases := []struct {
		name      string
		in        string
		wantField string
		wantMeta  bool
		wantN     int
	}{
		{"bindings before meta", `{"bindings":[` + bindingJSON(1, "fcm") + `],` + meta + `}`, "", true, 1},
		{"empty page", `{` + meta + `,"bindings":[]}`, "", true, 0},
		{"no meta", `{"bindings":[]}`, "", false, 0},
		{"null bindings", `{` + meta + `,"bindings":null}`, "bindings", true, 0},
		{"missing bindings", `{` + meta + `}`, "bindings", true, 0},
		{"bindings an object", `{` + meta + `,"bindings":{}}`, "bindings", true, 0},
		{"bad sid in third binding", `{` + meta + `,"bindings":[` + bindingJSON(1, "apn") + `,` + bindingJSON(2, "apn") + `,{"sid":"BSx"}]}`, "bindings[2].sid", true, 0},
		{"binding not an object", `{` + meta + `,"bindings":[1]}`, "bindings[0]", true, 0},
		{"page a string", `{"meta":{"page":"0"},"bindings":[]}`, "meta.page", true, 0},
		{"negative page and size, as the document allows", `{"meta":{"page":-1,"page_size":-50},"bindings":[]}`, "", true, 0},
		{"page beyond 32 bits", `{"meta":{"page":2147483648},"bindings":[]}`, "meta.page", true, 0},
		{"page_size fractional", `{"meta":{"page_size":1.5},"bindings":[]}`, "meta.page_size", true, 0},
		{"next_page_url a number", `{"meta":{"next_page_url":5},"bindings":[]}`, "meta.next_page_url", true, 0},
		{"truncated", `{` + meta + `,"bindings":[` + bindingJSON(1, "apn")[:50], "bindings[0]", true, 0}, // cut inside a key
		{"the largest page", `{` + meta + `,"bindings":[` + strings.Repeat(`{},`, MaxPageSize-1) + `{}]}`, "", true, MaxPageSize},
		{"one binding more than the largest page", `{` + meta + `,"bindings":[` + strings.Repeat(`{},`, MaxPageSize) + `{}]}`, "bindings", true, 0},
		{"64 message types", `{` + meta + `,"bindings":[{"message_types":[` + strings.Repeat(`"a",`, 63) + `"a"]}]}`, "", true, 1},
		{"65 message types", `{` + meta + `,"bindings":[{"message_types":[` + strings.Repeat(`"a",`, 64) + `"a"]}]}`, "bindings[0].message_types", true, 0},
		{"bindings given twice, each under the cap", `{` + meta + `,"bindings":[{}],"bindings":[{}]}`, "bindings", true, 0},
		{"meta given twice", `{` + meta + `,` + meta + `,"bindings":[]}`, "meta", true, 0},
		{"a field of meta given twice", `{"meta":{"url":"a","url":"b"},"bindings":[]}`, "meta.url", true, 0},
		{"links.user given twice", `{` + meta + `,"bindings":[{"links":{"user":"a","user":"b"}}]}`, "", true, 1}, // not read in this shape
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d decoder[UserBinding]
			var p UserBindingPage
			hasMeta, err := d.page([]byte(tc.in), &p)
			if tc.wantField == "" {
				if err != nil || hasMeta != tc.wantMeta || len(p.Bindings) != tc.wantN {
					t.Fatalf("page: meta %v, %d bindings, err %v", hasMeta, len(p.Bindings), err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Field != tc.wantField {
				t.Fatalf("err = %v, want a DecodeError naming %q", err, tc.wantField)
			}
		})
	}
}

func TestErrorDocumentWithSuccessStatus(t *testing.T) {
	t.Parallel()
	body := []byte(`{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}`)
	err := errorDocument(body, client.Request{Method: "GET", Path: "/v2/x"}, &client.Response{RequestID: "RQ1"}, errMissing)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 404 || apiErr.Code != 20404 || apiErr.RequestID != "RQ1" || !client.IsNotFound(err) {
		t.Fatalf("err = %#v", err)
	}
	if err := errorDocument([]byte(`{"x":1}`), client.Request{}, &client.Response{}, errMissing); err != errMissing {
		t.Fatalf("a non-error document became %v", err)
	}
}

func TestInterningSharesRepeatedStrings(t *testing.T) {
	t.Parallel()
	var d decoder[UserBinding]
	var p UserBindingPage
	in := `{"meta":{},"bindings":[` + bindingJSON(1, "apn") + `,` + bindingJSON(2, "gcm") + `]}`
	if _, err := d.page([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	a, b := p.Bindings[0], p.Bindings[1]
	if unsafeStringData(string(a.AccountSID)) != unsafeStringData(string(b.AccountSID)) || unsafeStringData(a.Identity) != unsafeStringData(b.Identity) {
		t.Error("repeated SIDs and identities are not shared")
	}
	// A binding's own strings share one allocation, which no other binding
	// points into: keeping one binding keeps nothing of its neighbours.
	own := func(b *UserBinding) (uintptr, uintptr) {
		lo := uintptr(unsafe.Pointer(unsafeStringData(string(b.SID))))
		return lo, lo + uintptr(len(b.SID)+len(b.Endpoint)+len(b.URL))
	}
	alo, ahi := own(a)
	for _, s := range []string{a.Endpoint, a.URL} {
		if p := uintptr(unsafe.Pointer(unsafeStringData(s))); p < alo || p >= ahi {
			t.Errorf("%q is not in the binding's own allocation", s)
		}
	}
	if blo, _ := own(b); blo >= alo && blo < ahi {
		t.Error("two bindings share an allocation")
	}
	a.MessageTypes = append(a.MessageTypes, "extra")
	if len(b.MessageTypes) != 2 || b.MessageTypes[0] != "new_message" {
		t.Errorf("appending to one binding's message types changed another's: %q", b.MessageTypes)
	}
}

// reference decodes with encoding/json into a map, so keys match exactly as
// ours do (a struct would match "identitY" to identity), and the last of
// duplicate keys wins, as ours does. Numbers stay json.Number: a valid number
// too large for a float64 (11e6666661, found by the fuzzer) is still JSON,
// which our decoder skips in a field it does not know, as it should.
func reference(in []byte) (map[string]any, bool) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	if dec.Decode(&m) != nil || m == nil || dec.InputOffset() != int64(len(bytes.TrimRight(in, " \t\r\n"))) {
		return nil, false
	}
	return m, true
}

func refString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func FuzzDecodeBinding(f *testing.F) {
	f.Add([]byte(bindingJSON(7, "apn")))
	f.Add([]byte(`{"sid":null,"identity":"\ud83d\ude00","message_types":[]}`))
	f.Add([]byte(`{"endpoint":"\xff"}`))
	f.Add([]byte(serviceBindingJSON(3, "fcm", "bob")))
	f.Add([]byte(`{"links":5}`))
	f.Add([]byte(`{"links":{"user":5,"x":[]}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var d decoder[UserBinding]
		var b UserBinding
		_, err := d.single(in, &b)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		ref, ok := reference(in)
		if !ok {
			t.Fatalf("accepted %q, which encoding/json cannot decode as an object", in)
		}
		if string(b.SID) != refString(ref, "sid") || b.Endpoint != refString(ref, "endpoint") || b.Identity != refString(ref, "identity") ||
			string(b.BindingType) != refString(ref, "binding_type") || b.URL != refString(ref, "url") {
			t.Fatalf("decode of %q differs from encoding/json:\n%#v\n%#v", in, b, ref)
		}
		mt, _ := ref["message_types"].([]any)
		if len(b.MessageTypes) != len(mt) {
			t.Fatalf("message types %q vs %q", b.MessageTypes, mt)
		}
		if b.SID != "" && !b.SID.Valid() {
			t.Fatalf("decoded an invalid SID %q", b.SID)
		}
		// The service-wide shape reads the same document the same way,
		// ignoring user_sid and reading links, which the user shape skips:
		// it refuses what the user shape accepted only for a malformed
		// links.
		var ds decoder[Binding]
		var sb Binding
		links, linksOK := ref["links"].(map[string]any)
		if ref["links"] == nil {
			linksOK = true
		}
		if u, ok := links["user"]; ok && u != nil {
			_, linksOK = u.(string)
		}
		if _, err := ds.single(in, &sb); err != nil {
			if linksOK {
				t.Fatalf("the user shape accepted %q, the service shape refused it: %v", in, err)
			}
			return
		}
		if sb.SID != b.SID || sb.Endpoint != b.Endpoint || sb.Identity != b.Identity || sb.URL != b.URL ||
			sb.BindingType != b.BindingType || !slices.Equal(sb.MessageTypes, b.MessageTypes) || sb.UserURL != refString(links, "user") {
			t.Fatalf("the two shapes read %q differently:\n%#v\n%#v", in, b, sb)
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(pageJSON("https://chat.twilio.com/v2/Services/IS/Users/x/Bindings", 0, 2, 3)))
	f.Add([]byte(`{"meta":{"page":0},"bindings":null}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var d decoder[UserBinding]
		var p UserBindingPage
		hasMeta, err := d.page(in, &p)
		if err == nil && !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		if err == nil && hasMeta {
			for i, b := range p.Bindings {
				if b == nil || (b.SID != "" && !b.SID.Valid()) || (b.AccountSID != "" && !b.AccountSID.Valid()) {
					t.Fatalf("binding %d invalid: %#v", i, b)
				}
			}
		}
	})
}
