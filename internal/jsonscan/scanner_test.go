package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// decodeAny builds the same tree encoding/json does (with UseNumber), so the
// two parsers can be compared on any input.
func decodeAny(s *Scanner, depth int) (any, error) {
	if depth > 100 {
		return nil, errors.New("too deep for the test decoder")
	}
	switch s.Kind() {
	case 'o':
		if err := s.BeginObject(); err != nil {
			return nil, err
		}
		m := map[string]any{}
		for {
			k, ok, err := s.NextKey()
			if err != nil {
				return nil, err
			}
			if !ok {
				return m, nil
			}
			key := string(k)
			v, err := decodeAny(s, depth+1)
			if err != nil {
				return nil, err
			}
			m[key] = v
		}
	case 'a':
		if err := s.BeginArray(); err != nil {
			return nil, err
		}
		a := []any{}
		for {
			ok, err := s.NextElement()
			if err != nil {
				return nil, err
			}
			if !ok {
				return a, nil
			}
			v, err := decodeAny(s, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case 's':
		b, err := s.String()
		return string(b), err
	case 'n':
		_, err := s.Null()
		return nil, err
	case 'b':
		if s.data[s.pos] == 't' {
			return true, s.literal("true")
		}
		return false, s.literal("false")
	case 'd':
		b, err := s.number()
		return json.Number(b), err
	}
	return nil, s.errorf("expected a value")
}

func parseBoth(t *testing.T, in []byte) {
	t.Helper()
	var s Scanner
	s.Reset(in)
	got, err := decodeAny(&s, 0)
	if err == nil {
		err = s.End()
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var want any
	if !json.Valid(in) {
		if err == nil {
			t.Fatalf("accepted invalid JSON %q as %#v", in, got)
		}
		return
	}
	if derr := dec.Decode(&want); derr != nil {
		t.Fatalf("encoding/json failed on valid input %q: %v", in, derr)
	}
	if err != nil {
		if strings.Contains(err.Error(), "too deep") {
			return
		}
		t.Fatalf("rejected valid JSON %q: %v", in, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode of %q:\n got %#v\nwant %#v", in, got, want)
	}
}

var corpus = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e10`, `-1E-2`, `"x"`,
	`{"a":1,"b":[1,2,{"c":null}],"d":"e"}`,
	` { "a" : [ ] , "b" : { } } `,
	`"\u00e9\ud83d\ude00\n\t\"\\\/"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`,
	"\"\xff\xfe\"", "\"caf\xc3\xa9\"", "\"\xed\xa0\x80\"",
	`{"a":1,}`, `[1,]`, `{,}`, `[,1]`, `{"a" 1}`, `{"a":1 "b":2}`, `[1 2]`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
	`nul`, `tru`, `"abc`, `"\x"`, "\"a\x01b\"", `"\u12"`, `{"a":1}}`, `[1]]`, `{"a":}`, `{1:2}`,
	`{"sid":"BSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","message_types":["a","b"]}`,
	`{"a":{"a":{"a":{"a":[[[[]]]]}}}}`, `  `, ``, `[1,2,3]x`, `{"dup":1,"dup":2}`,
	`9223372036854775807`, `123456789012345678901234567890`,
}

func TestAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, c := range corpus {
		parseBoth(t, []byte(c))
	}
}

func FuzzAgreesWithEncodingJSON(f *testing.F) {
	for _, c := range corpus {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, in []byte) { parseBoth(t, in) })
}

func TestDeepNestingIsAnErrorNotACrash(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	var s Scanner
	s.Reset([]byte(in))
	err := s.Skip()
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "nesting") {
		t.Fatalf("Skip of 100000 nested arrays: %v, want a nesting error", err)
	}
}

func TestInt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"50", 50, true}, {"-3", -3, true},
		{"1.5", 0, false}, {"1e3", 0, false}, {"99999999999999999999", 0, false}, {`"1"`, 0, false},
	}
	for _, c := range cases {
		var s Scanner
		s.Reset([]byte(c.in))
		got, err := s.Int()
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Int(%s) = %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestStringIsAViewWithoutEscapes(t *testing.T) {
	t.Parallel()
	in := []byte(`"plain"`)
	var s Scanner
	s.Reset(in)
	b, err := s.String()
	if err != nil || string(b) != "plain" {
		t.Fatalf("String = %q, %v", b, err)
	}
	if &b[0] != &in[1] {
		t.Error("an unescaped string was copied; it should be a view into the input")
	}
}

// TestRefuseInvalidUTF8: with RefuseInvalidUTF8, a string holding invalid
// UTF-8, escaped or not, is a SyntaxError; valid ones read as before.
func TestRefuseInvalidUTF8(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want string // "" means refused
	}{
		{`"abc"`, "abc"},
		{`"\u00e9t\u00e9"`, "été"},
		{"\"caf\xc3\xa9\"", "café"},
		{"\"\xff\"", ""},
		{"\"\\n\xff\"", ""},
		{"\"a\xc3\"", ""},
		{`"\ud800"`, "\uFFFD"}, // an unpaired surrogate is valid JSON, replaced as encoding/json does
	}
	for _, c := range cases {
		var s Scanner
		s.RefuseInvalidUTF8 = true
		s.Reset([]byte(c.in))
		got, err := s.String()
		var se *SyntaxError
		switch {
		case c.want == "" && !errors.As(err, &se):
			t.Errorf("%q: %q, %v; want a SyntaxError", c.in, got, err)
		case c.want != "" && (err != nil || string(got) != c.want):
			t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestAnEscapedStringSizesTheScratchOnce: the scratch buffer is sized to the
// string as written, so a long escaped string does not regrow it.
func TestAnEscapedStringSizesTheScratchOnce(t *testing.T) {
	in := []byte(`"\/` + strings.Repeat("e", 1<<20) + `"`)
	var s Scanner
	s.Reset(in)
	allocs := testing.AllocsPerRun(10, func() {
		s.Reset(in)
		s.scratch = nil
		if _, err := s.String(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 && !raceOn {
		t.Errorf("%v allocations reading one escaped string; want the scratch's one", allocs)
	}
}
