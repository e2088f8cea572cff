// Package jsonscan is a small pull parser for JSON held in memory. The chat
// package uses it to decode pages of bindings straight into typed structs:
// no reflection, no intermediate map, and strings returned as views into the
// input, so validated fields can be interned or copied exactly once.
//
// It accepts exactly RFC 8259 JSON (checked against encoding/json by fuzzing)
// and never panics on any input. Invalid UTF-8 inside strings is replaced with
// U+FFFD, as encoding/json does, unless the Scanner refuses it.
package jsonscan

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/twiliochat/twiliochat-go/internal/excerpt"
)

// MaxDepth bounds nesting in skipped values so hostile input cannot exhaust
// the stack.
const MaxDepth = 512

// SyntaxError describes malformed JSON and where it was found.
type SyntaxError struct {
	Offset int    // byte offset in the input
	Msg    string // what was wrong
}

// Error gives the offset and the problem.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// Scanner reads one JSON text. The zero value is ready after Reset.
type Scanner struct {
	// RefuseInvalidUTF8 makes a string holding invalid UTF-8 a SyntaxError
	// instead of replacing each bad byte with U+FFFD (three bytes for one).
	// RFC 8259 requires UTF-8; refusing it also means a string never
	// decodes longer than it was written.
	RefuseInvalidUTF8 bool
	// MaxStringLen, when positive, makes a string value longer than this
	// many bytes as written a SyntaxError before any of it is decoded: a
	// caller that knows how long its strings can be bounds what a hostile
	// one costs. Skip is not bounded by it: it allocates nothing.
	MaxStringLen int

	data    []byte
	pos     int
	depth   int
	comma   bool // the last token completed a value, so ',' or a closer comes next
	scratch []byte
}

// Reset makes s read data from the beginning, keeping its scratch buffer.
func (s *Scanner) Reset(data []byte) {
	s.data, s.pos, s.depth, s.comma = data, 0, 0, false
}

// Offset is the position of the next unread byte.
func (s *Scanner) Offset() int { return s.pos }

func (s *Scanner) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: s.pos, Msg: fmt.Sprintf(format, args...)}
}

func (s *Scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end of input.
func (s *Scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *Scanner) describe(c byte) string {
	if s.pos >= len(s.data) {
		return "end of input"
	}
	return strconv.QuoteRune(rune(c))
}

// Kind names the JSON type of the next value: 'o' object, 'a' array,
// 's' string, 'n' null, 'b' boolean, 'd' number, or 0 for none.
func (s *Scanner) Kind() byte {
	switch c := s.peek(); c {
	case '{':
		return 'o'
	case '[':
		return 'a'
	case '"':
		return 's'
	case 'n':
		return 'n'
	case 't', 'f':
		return 'b'
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return 'd'
		}
		return 0
	}
}

// BeginObject consumes the '{' that must come next.
func (s *Scanner) BeginObject() error {
	if c := s.peek(); c != '{' {
		return s.errorf("expected an object, found %s", s.describe(c))
	}
	s.pos++
	s.comma = false
	return nil
}

// NextKey returns the next key of the object being read and consumes the ':'
// after it; ok is false at the object's closing '}'. The key is only valid
// until the next call on s.
func (s *Scanner) NextKey() (key []byte, ok bool, err error) {
	c := s.peek()
	if c == '}' {
		s.pos++
		s.comma = true
		return nil, false, nil
	}
	if s.comma {
		if c != ',' {
			return nil, false, s.errorf("expected ',' or '}' in object, found %s", s.describe(c))
		}
		s.pos++
		c = s.peek()
	}
	if c != '"' {
		return nil, false, s.errorf("expected a string key, found %s", s.describe(c))
	}
	key, err = s.readString()
	if err != nil {
		return nil, false, err
	}
	if c := s.peek(); c != ':' {
		return nil, false, s.errorf("expected ':' after key, found %s", s.describe(c))
	}
	s.pos++
	s.comma = false
	return key, true, nil
}

// BeginArray consumes the '[' that must come next.
func (s *Scanner) BeginArray() error {
	if c := s.peek(); c != '[' {
		return s.errorf("expected an array, found %s", s.describe(c))
	}
	s.pos++
	s.comma = false
	return nil
}

// NextElement reports whether another element of the array being read
// follows, consuming the ',' before it; false means the ']' was consumed.
func (s *Scanner) NextElement() (bool, error) {
	c := s.peek()
	if c == ']' {
		s.pos++
		s.comma = true
		return false, nil
	}
	if s.comma {
		if c != ',' {
			return false, s.errorf("expected ',' or ']' in array, found %s", s.describe(c))
		}
		s.pos++
		s.comma = false
	}
	return true, nil
}

// Null consumes a null literal if one comes next and reports whether it did.
func (s *Scanner) Null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *Scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.errorf("invalid literal, expected %s", word)
	}
	s.pos += len(word)
	s.comma = true
	return nil
}

// String reads a string value. The bytes are a view into the input or into
// a scratch buffer, valid only until the next call on s: copy what you keep.
func (s *Scanner) String() ([]byte, error) {
	if c := s.peek(); c != '"' {
		return nil, s.errorf("expected a string, found %s", s.describe(c))
	}
	b, err := s.readString()
	if err == nil {
		s.comma = true
	}
	return b, err
}

// stopByte marks the bytes that end readString's fast path: the closing
// quote, a backslash, control characters, and the first byte of any
// non-ASCII sequence. One table lookup per byte replaces four comparisons;
// the CPU profile of the decode path had this loop as its largest item.
var stopByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf
	}
	return t
}()

// readString reads the string starting at the '"' under s.pos.
func (s *Scanner) readString() ([]byte, error) {
	start := s.pos + 1
	ascii := true
	data := s.data
	for i := start; i < len(data); i++ {
		c := data[i]
		if !stopByte[c] {
			continue
		}
		switch {
		case c == '"':
			if s.MaxStringLen > 0 && i-start > s.MaxStringLen {
				return nil, s.tooLong(start)
			}
			s.pos = i + 1
			b := data[start:i]
			if !ascii && !utf8.Valid(b) {
				if s.RefuseInvalidUTF8 {
					s.pos = start
					return nil, s.errorf("invalid UTF-8 in string")
				}
				s.scratch = appendValidUTF8(s.scratch[:0], b)
				return s.scratch, nil
			}
			return b, nil
		case c == '\\':
			if end := escapedEnd(data, i); s.MaxStringLen > 0 && end-start > s.MaxStringLen {
				return nil, s.tooLong(start)
			}
			return s.readEscaped(start, i)
		case c < 0x20:
			s.pos = i
			return nil, s.errorf("control character %#02x in string", c)
		default:
			ascii = false
		}
	}
	s.pos = len(data)
	return nil, s.errorf("unterminated string")
}

// readEscaped finishes a string that has escapes, from the first backslash at
// i, building the unescaped text in the scratch buffer. The buffer is sized
// once, to the string as written: escapes only shorten it (invalid UTF-8,
// when replaced, grows a copy of its own), so no string regrows it.
func (s *Scanner) readEscaped(start, i int) ([]byte, error) {
	if need := escapedEnd(s.data, i) - start; cap(s.scratch) < need {
		s.scratch = make([]byte, 0, need)
	}
	out := append(s.scratch[:0], s.data[start:i]...)
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			if !utf8.Valid(out) {
				if s.RefuseInvalidUTF8 {
					s.pos = start
					return nil, s.errorf("invalid UTF-8 in string")
				}
				out = appendValidUTF8(nil, out)
			}
			s.scratch = out
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.errorf("control character %#02x in string", c)
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s.data) {
			break
		}
		switch e := s.data[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.data, i+2)
			if !ok {
				s.pos = i
				return nil, s.errorf("invalid \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A high surrogate pairs with an immediately following \u low
				// surrogate; anything else is an unpaired surrogate, which
				// encoding/json (and we) replace with U+FFFD.
				if r2, ok := hex4(s.data, i+2); ok && i+1 < len(s.data) && s.data[i] == '\\' && s.data[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			s.pos = i
			return nil, s.errorf("invalid escape \\%c", e)
		}
		i += 2
	}
	s.pos = len(s.data)
	s.scratch = out
	return nil, s.errorf("unterminated string")
}

func (s *Scanner) tooLong(start int) error {
	s.pos = start
	return s.errorf("a string longer than %d bytes", s.MaxStringLen)
}

// escapedEnd is the offset of the quote that ends the string with a
// backslash at i, or len(data) when it is not terminated.
func escapedEnd(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case '"':
			return i
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return len(data)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// Int reads a number that must be an integer fitting in an int64.
func (s *Scanner) Int() (int64, error) {
	start := s.peekPos()
	raw, err := s.number()
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(raw), 10, 64)
	if perr != nil {
		s.pos = start
		return 0, s.errorf("%s is not an integer that fits in 64 bits", excerpt.QuoteBytes(raw, excerpt.Short))
	}
	return n, nil
}

func (s *Scanner) peekPos() int {
	s.skipSpace()
	return s.pos
}

// number reads one JSON number and returns its text.
func (s *Scanner) number() ([]byte, error) {
	start := s.peekPos()
	i := start
	digits := func() int {
		j := i
		for i < len(s.data) && '0' <= s.data[i] && s.data[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s.data) && s.data[i] == '-' {
		i++
	}
	switch {
	case i < len(s.data) && s.data[i] == '0':
		i++
	case digits() == 0:
		return nil, s.errorf("invalid number")
	}
	if i < len(s.data) && s.data[i] == '.' {
		i++
		if digits() == 0 {
			s.pos = i
			return nil, s.errorf("invalid number: no digits after '.'")
		}
	}
	if i < len(s.data) && (s.data[i] == 'e' || s.data[i] == 'E') {
		i++
		if i < len(s.data) && (s.data[i] == '+' || s.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.pos = i
			return nil, s.errorf("invalid number: no digits in exponent")
		}
	}
	s.pos = i
	s.comma = true
	return s.data[start:i], nil
}

// Skip reads and discards the next value, whatever its type, checking that
// it is well formed.
func (s *Scanner) Skip() error {
	switch s.Kind() {
	case 'o':
		return s.skipContainer(true)
	case 'a':
		return s.skipContainer(false)
	case 's':
		_, err := s.String()
		return err
	case 'n':
		return s.literal("null")
	case 'b':
		if s.data[s.pos] == 't' {
			return s.literal("true")
		}
		return s.literal("false")
	case 'd':
		_, err := s.number()
		return err
	default:
		return s.errorf("expected a value, found %s", s.describe(s.peek()))
	}
}

func (s *Scanner) skipContainer(object bool) error {
	if s.depth >= MaxDepth {
		return s.errorf("nesting deeper than %d", MaxDepth)
	}
	s.depth++
	defer func() { s.depth-- }()
	if object {
		if err := s.BeginObject(); err != nil {
			return err
		}
		for {
			_, ok, err := s.NextKey()
			if err != nil || !ok {
				return err
			}
			if err := s.Skip(); err != nil {
				return err
			}
		}
	}
	if err := s.BeginArray(); err != nil {
		return err
	}
	for {
		ok, err := s.NextElement()
		if err != nil || !ok {
			return err
		}
		if err := s.Skip(); err != nil {
			return err
		}
	}
}

// End checks that only white space remains.
func (s *Scanner) End() error {
	if c := s.peek(); s.pos < len(s.data) {
		return s.errorf("unexpected %s after the top-level value", s.describe(c))
	}
	return nil
}
