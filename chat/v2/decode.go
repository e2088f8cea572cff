package chat

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/twiliochat/twiliochat-go/client"
	"github.com/twiliochat/twiliochat-go/internal/errdoc"
	"github.com/twiliochat/twiliochat-go/internal/excerpt"
	"github.com/twiliochat/twiliochat-go/internal/jsonscan"
	"github.com/twiliochat/twiliochat-go/internal/sid"
)

// DecodeError is a response the package could not turn into typed values:
// malformed JSON, a value of the wrong type, a SID that does not match its
// pattern, or a page without its metadata.
type DecodeError struct {
	Field string // where, such as "bindings[3].sid"; empty for the whole document
	Err   error
}

// Error says which field could not be decoded and why.
func (e *DecodeError) Error() string {
	s := "chat: decoding response"
	if e.Field != "" {
		s += ": field " + e.Field
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying problem: a syntax error with its offset in
// the body, or what was wrong with the field's value.
func (e *DecodeError) Unwrap() error { return e.Err }

var (
	errMissing   = errors.New("missing")
	errNull      = errors.New("is null, want an array")
	errDuplicate = errors.New("appears more than once in its object; each field must be given once")
)

// Bounds on what one response may hold, so that memory follows the number
// of bindings the API can send rather than what a body of the permitted size
// could encode: 3.5 million "{}" fit in 10 MiB and would decode to about
// 1 GiB. Past either bound the response is refused before the rest is read.
const (
	// maxMessageTypes is far above the handful of message types Chat has.
	maxMessageTypes = 64
)

var (
	errTooManyBindings     = fmt.Errorf("holds more than %d bindings, the largest page the API serves", MaxPageSize)
	errTooManyMessageTypes = fmt.Errorf("holds more than %d message types; Chat has a handful", maxMessageTypes)
)

// decoder turns response bodies into bindings of either shape. It keeps
// what it can reuse between pages (the scanner's scratch space, interned
// strings) so that a binding costs two allocations: itself, with room for
// its message types, and the strings unique to it. Each binding is an
// allocation of its own, so keeping one keeps nothing of its neighbours: a
// job that keeps the few stale bindings of a long listing keeps only those.
type decoder[T item] struct {
	fieldReader
	lastLen int // bindings on the previous page, to size the next
}

// inlineTypes is how many message types a binding holds without a second
// allocation: Chat has four.
const inlineTypes = 4

// cell is one binding with room for its message types, allocated together.
type cell[T item] struct {
	b     T
	types [inlineTypes]string
}

// fieldReader reads the values of a binding's fields; it does not depend
// on the binding's shape, which the fields it is given describe.
type fieldReader struct {
	sc       jsonscan.Scanner
	interned map[string]string
	types    []string // scratch for one binding's message types

	// The strings unique to one binding (its SID, endpoint and URLs) are
	// gathered here and become one string allocation, shared by substrings,
	// when the binding's object ends: one allocation instead of several,
	// and none of it shared with any other binding.
	own     []byte
	pending []pendingString
}

type pendingString struct {
	dst        *string
	start, end int
}

// ownMax is the longest string gathered in own; a longer one (no real
// binding has one) is its own allocation, so that own never regrows to
// hold a hostile page's long strings.
const ownMax = 4 << 10

// keep schedules b to be copied into *dst when the binding ends.
func (d *fieldReader) keep(dst *string, b []byte) {
	if len(b) > ownMax {
		*dst = string(b)
		return
	}
	start := len(d.own)
	d.own = append(d.own, b...)
	d.pending = append(d.pending, pendingString{dst, start, len(d.own)})
}

// settle makes the one allocation for the binding just decoded.
func (d *fieldReader) settle() {
	if len(d.pending) == 0 {
		return
	}
	all := string(d.own)
	for _, p := range d.pending {
		*p.dst = all[p.start:p.end]
	}
	d.own, d.pending = d.own[:0], d.pending[:0]
}

// maxInterned bounds the interning table; past it the table starts over.
// Only strings up to maxInternedLen are interned: the table lives as long
// as the listing, and must not keep a hostile page's long identities alive
// after the caller has dropped their bindings.
const (
	maxInterned    = 4096
	maxInternedLen = 256
)

// intern returns b as a string, reusing an earlier string with the same
// bytes: account, service, user and credential SIDs, identities and message
// types repeat on every binding of a page.
func (d *fieldReader) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternedLen {
		return string(b)
	}
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	if d.interned == nil || len(d.interned) >= maxInterned {
		d.interned = make(map[string]string, 64)
	}
	s := string(b)
	d.interned[s] = s
	return s
}

// newBinding allocates a zeroed binding with room for its message types.
func newBinding[T item]() (*T, []string) {
	c := new(cell[T])
	return &c.b, c.types[:0]
}

// stringSlice copies ss into room (the binding's own, when it is large
// enough) or a new slice. Its capacity is its length, so appending to a
// binding's MessageTypes reallocates instead of writing past it.
func stringSlice(ss, room []string) []string {
	if len(ss) == 0 {
		return []string{} // an empty list, not a null one
	}
	if cap(room) < len(ss) {
		room = make([]string, 0, len(ss))
	}
	room = append(room[:0], ss...)
	return room[:len(ss):len(ss)]
}

func (d *fieldReader) fail(field string, err error) error {
	var de *DecodeError
	if errors.As(err, &de) {
		return err
	}
	return &DecodeError{Field: field, Err: err}
}

// Bounds on strings, so that memory follows the body: no string decodes
// longer than it was written (RFC 8259's UTF-8 is required), none of meta
// is longer than maxStringLen, none of a binding longer than maxFieldLen.
// The API's values are far shorter: SIDs, device tokens, identities, URLs.
const (
	maxStringLen = 1 << 20
	maxFieldLen  = 64 << 10
)

var errFieldTooLong = fmt.Errorf("is longer than %d KiB; no binding's value is", maxFieldLen>>10)

// reset starts reading data.
func (d *fieldReader) reset(data []byte) {
	d.sc.RefuseInvalidUTF8, d.sc.MaxStringLen = true, maxStringLen
	d.sc.Reset(data)
}

// single decodes the body of a fetch: one binding and nothing after it. It
// reports whether the object had any field of a binding.
func (d *decoder[T]) single(data []byte, b *T) (bool, error) {
	d.reset(data)
	known, err := d.binding(fieldsOf(b), nil, -1)
	if err == nil {
		err = d.sc.End()
	}
	if err != nil {
		return false, d.fail("", err)
	}
	return known > 0, nil
}

// page decodes a list response into p. It reports whether the document had
// its meta; a page without it is an error the caller explains.
func (d *decoder[T]) page(data []byte, p *Page[T]) (hasMeta bool, err error) {
	d.reset(data)
	if err := d.sc.BeginObject(); err != nil {
		return false, d.fail("", err)
	}
	hasBindings := false
	for {
		key, more, err := d.sc.NextKey()
		if err != nil {
			return false, d.fail("", err)
		}
		if !more {
			break
		}
		// A second "bindings" would decode past the cap of one page; a
		// second "meta" would make the page's links ambiguous.
		switch string(key) {
		case "meta":
			if hasMeta {
				return false, &DecodeError{Field: "meta", Err: errDuplicate}
			}
			hasMeta = true
			if err := d.meta(&p.Meta); err != nil {
				return false, d.fail("meta", err)
			}
		case "bindings":
			if hasBindings {
				return false, &DecodeError{Field: "bindings", Err: errDuplicate}
			}
			hasBindings = true
			if err := d.bindings(&p.Bindings); err != nil {
				return false, d.fail("bindings", err)
			}
		default:
			if err := d.sc.Skip(); err != nil {
				return false, d.fail(string(key), err)
			}
		}
	}
	if err := d.sc.End(); err != nil {
		return false, d.fail("", err)
	}
	if hasMeta && !hasBindings {
		return true, &DecodeError{Field: "bindings", Err: errMissing}
	}
	return hasMeta, nil
}

func (d *decoder[T]) bindings(dst *[]*T) error {
	if null, err := d.sc.Null(); null || err != nil {
		if err == nil {
			err = errNull
		}
		return err
	}
	if err := d.sc.BeginArray(); err != nil {
		return err
	}
	out := make([]*T, 0, max(d.lastLen, 16))
	for i := 0; ; i++ {
		more, err := d.sc.NextElement()
		if err != nil {
			return err
		}
		if !more {
			*dst = out
			d.lastLen = len(out)
			return nil
		}
		if len(out) == MaxPageSize {
			return errTooManyBindings
		}
		b, room := newBinding[T]()
		if _, err := d.binding(fieldsOf(b), room, i); err != nil {
			return err
		}
		out = append(out, b)
	}
}

// eachKey calls fn with each key of the object that comes next, leaving fn
// to read the key's value.
func (d *fieldReader) eachKey(fn func(key []byte) error) error {
	if err := d.sc.BeginObject(); err != nil {
		return err
	}
	for {
		key, more, err := d.sc.NextKey()
		if err != nil || !more {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
	}
}

func (d *fieldReader) meta(m *PageMeta) error {
	var seen fieldSet
	return d.eachKey(func(key []byte) error {
		var field string
		var bit fieldSet
		var err error
		switch string(key) {
		case "page":
			field, bit, err = "page", 1<<0, d.int(&m.Page)
		case "page_size":
			field, bit, err = "page_size", 1<<1, d.int(&m.PageSize)
		case "first_page_url":
			field, bit, err = "first_page_url", 1<<2, d.string(&m.FirstPageURL)
		case "previous_page_url":
			field, bit, err = "previous_page_url", 1<<3, d.string(&m.PreviousPageURL)
		case "url":
			field, bit, err = "url", 1<<4, d.string(&m.URL)
		case "next_page_url":
			field, bit, err = "next_page_url", 1<<5, d.string(&m.NextPageURL)
		case "key":
			field, bit, err = "key", 1<<6, d.string(&m.Key)
		default:
			field, err = string(key), d.sc.Skip()
		}
		if err == nil && bit != 0 && !seen.add(bit) {
			err = errDuplicate
		}
		if err != nil {
			return &DecodeError{Field: "meta." + field, Err: err}
		}
		return nil
	})
}

// int reads meta.page or meta.page_size. The OpenAPI description gives
// them no bounds, and no decision is taken from them (pages are followed by
// next_page_url alone), so any integer that fits in 32 bits is accepted as
// sent, negative ones included: refusing a page of valid bindings over an
// informational number would fail a listing for nothing.
func (d *fieldReader) int(dst *int) error {
	if null, err := d.sc.Null(); null || err != nil {
		*dst = 0
		return err
	}
	n, err := d.sc.Int()
	if err != nil {
		return err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return fmt.Errorf("%d is out of range", n)
	}
	*dst = int(n)
	return nil
}

// errorDocument explains a 2xx body that lacks what it should have: a
// Twilio error document sent with a success status becomes a *client.Error
// with the failing status the document states (and whether an earlier
// attempt may have been acted on), anything else otherwise. A document
// whose status is not a failure's is not an error.
func errorDocument(data []byte, r client.Request, resp *client.Response, otherwise error) error {
	doc, ok := errdoc.Parse(data)
	if !ok || doc.Status < 400 || doc.Status > 599 {
		return otherwise
	}
	return &client.Error{Status: doc.Status, Code: doc.Code, Message: doc.Message, MoreInfo: doc.MoreInfo, Details: doc.Details,
		Method: r.Method, Path: r.Path, RequestID: resp.RequestID, Attempts: resp.Attempts, PriorAttemptUncertain: resp.PriorAttemptUncertain}
}

// binding decodes one binding object into f, reporting how many fields of
// its shape it had. index is its position in a page's bindings, or -1 for a
// fetched binding; errors name it ("bindings[3].sid").
func (d *fieldReader) binding(f fields, room []string, index int) (known int, err error) {
	d.own, d.pending = d.own[:0], d.pending[:0]
	if err := d.sc.BeginObject(); err != nil {
		return 0, d.fail(fieldName(index, ""), err)
	}
	var seen fieldSet
	for {
		key, more, err := d.sc.NextKey()
		if err != nil {
			return known, d.fail(fieldName(index, ""), err)
		}
		if !more {
			d.settle()
			return known, nil
		}
		known++
		var v []byte
		var bit fieldSet // the field's place in seen; every key of either shape has one
		field := ""      // named only for an error: string(key) would allocate per key
		switch string(key) {
		case "sid":
			field, bit = "sid", 1<<0
			if v, err = d.sid(bindingRule); err == nil {
				d.keep((*string)(f.sid), v)
			}
		case "account_sid":
			field, bit = "account_sid", 1<<1
			v, err = d.sid(accountRule)
			*f.account = AccountSID(d.intern(v))
		case "service_sid":
			field, bit = "service_sid", 1<<2
			v, err = d.sid(serviceRule)
			*f.service = ServiceSID(d.intern(v))
		case "user_sid":
			field, bit = "user_sid", 1<<3
			if f.user == nil { // not a field of this shape
				known--
				err = d.sc.Skip()
				break
			}
			v, err = d.sid(userRule)
			*f.user = UserSID(d.intern(v))
		case "credential_sid":
			field, bit = "credential_sid", 1<<4
			v, err = d.sid(credentialRule)
			*f.credential = CredentialSID(d.intern(v))
		case "date_created":
			field, bit, err = "date_created", 1<<5, d.time(f.created)
		case "date_updated":
			field, bit, err = "date_updated", 1<<6, d.time(f.updated)
		case "endpoint":
			field, bit = "endpoint", 1<<7
			if v, err = d.text(); err == nil {
				d.keep(f.endpoint, v)
			}
		case "identity":
			field, bit = "identity", 1<<8
			v, err = d.text()
			*f.identity = d.intern(v)
		case "url":
			field, bit = "url", 1<<9
			if v, err = d.text(); err == nil {
				d.keep(f.url, v)
			}
		case "binding_type":
			field, bit, err = "binding_type", 1<<10, d.bindingType(f.bindingType)
		case "message_types":
			field, bit, err = "message_types", 1<<11, d.messageTypes(f.messageTypes, room)
		case "links":
			field, bit = "links", 1<<12
			if f.userURL == nil {
				known--
				err = d.sc.Skip()
				break
			}
			err = d.links(f.userURL)
		default:
			known--
			field, err = string(key), d.sc.Skip()
		}
		// A field given twice is refused after its second value: decoding
		// one value more is bounded, while a binding of a million
		// message_types keys would not be.
		if err == nil && bit != 0 && !seen.add(bit) {
			err = errDuplicate
		}
		if err != nil {
			return known, d.fail(fieldName(index, field), err)
		}
	}
}

// fieldSet is the fields of one object met so far, a bit each.
type fieldSet uint16

// add records bit, reporting whether it was new.
func (s *fieldSet) add(bit fieldSet) bool {
	if *s&bit != 0 {
		return false
	}
	*s |= bit
	return true
}

// links reads a binding's links object, keeping the user's URL.
func (d *fieldReader) links(userURL *string) error {
	if null, err := d.sc.Null(); null || err != nil {
		return err
	}
	var seen fieldSet
	return d.eachKey(func(key []byte) error {
		if string(key) != "user" {
			return d.sc.Skip()
		}
		if !seen.add(1) {
			return errDuplicate
		}
		v, err := d.text()
		if err == nil {
			d.keep(userURL, v)
		}
		return err
	})
}

// fieldName names a field for an error. It is built only when there is an
// error: building it for every binding cost two allocations each.
func fieldName(index int, field string) string {
	if index < 0 {
		return field
	}
	name := "bindings[" + strconv.Itoa(index) + "]"
	if field != "" {
		name += "." + field
	}
	return name
}

// sid reads a nullable SID and checks it against its pattern; null gives
// nil. The bytes are valid until the next read.
func (d *fieldReader) sid(r sidRule) ([]byte, error) {
	b, err := d.text()
	if err != nil || b == nil {
		return nil, err
	}
	if !sid.Valid(r.prefix, b) {
		return nil, fmt.Errorf("%s %s", excerpt.QuoteBytes(b, excerpt.Short), r.rule)
	}
	return b, nil
}

// text reads a nullable string of a binding; null gives nil, "" a non-nil
// empty slice. The bytes are valid until the next read.
func (d *fieldReader) text() ([]byte, error) {
	b, err := d.anyText()
	if err == nil && len(b) > maxFieldLen {
		return nil, errFieldTooLong
	}
	return b, err
}

// short reads a string of a binding that is not nullable.
func (d *fieldReader) short() ([]byte, error) {
	b, err := d.sc.String()
	if err == nil && len(b) > maxFieldLen {
		return nil, errFieldTooLong
	}
	return b, err
}

// anyText reads a nullable string of any length the scanner allows.
func (d *fieldReader) anyText() ([]byte, error) {
	if null, err := d.sc.Null(); null || err != nil {
		return nil, err
	}
	b, err := d.sc.String()
	if b == nil && err == nil {
		b = []byte{}
	}
	return b, err
}

// string reads a nullable string into a new string.
func (d *fieldReader) string(dst *string) error {
	b, err := d.anyText()
	*dst = string(b)
	return err
}

func (d *fieldReader) bindingType(dst *BindingType) error {
	if null, err := d.sc.Null(); null || err != nil {
		*dst = ""
		return err
	}
	b, err := d.short()
	if err != nil {
		return err
	}
	switch BindingType(b) {
	case BindingTypeAPN:
		*dst = BindingTypeAPN
	case BindingTypeGCM:
		*dst = BindingTypeGCM
	case BindingTypeFCM:
		*dst = BindingTypeFCM
	default:
		*dst = BindingType(d.intern(b))
	}
	return nil
}

func (d *fieldReader) messageTypes(dst *[]string, room []string) error {
	if null, err := d.sc.Null(); null || err != nil {
		*dst = nil
		return err
	}
	if err := d.sc.BeginArray(); err != nil {
		return err
	}
	d.types = d.types[:0]
	for {
		more, err := d.sc.NextElement()
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if len(d.types) == maxMessageTypes {
			return errTooManyMessageTypes
		}
		b, err := d.short()
		if err != nil {
			return err
		}
		d.types = append(d.types, d.intern(b))
	}
	*dst = stringSlice(d.types, room)
	return nil
}

func (d *fieldReader) time(dst *time.Time) error {
	if null, err := d.sc.Null(); null || err != nil {
		*dst = time.Time{}
		return err
	}
	b, err := d.sc.String()
	if err != nil {
		return err
	}
	t, ok := parseTime(b)
	if !ok {
		return fmt.Errorf("%s is not an ISO 8601 date and time", excerpt.QuoteBytes(b, excerpt.Short))
	}
	*dst = t
	return nil
}

// parseTime reads the API's "2016-10-21T11:37:03Z" without allocating, and
// falls back to RFC 3339 with fractions or offsets. RFC 3339 allows a
// lower-case 't' and 'z', which time.Parse does not.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) == 20 && b[4] == '-' && b[7] == '-' && (b[10] == 'T' || b[10] == 't') && b[13] == ':' && b[16] == ':' && (b[19] == 'Z' || b[19] == 'z') {
		y, ok1 := digits(b[0:4])
		mo, ok2 := digits(b[5:7])
		d, ok3 := digits(b[8:10])
		h, ok4 := digits(b[11:13])
		mi, ok5 := digits(b[14:16])
		s, ok6 := digits(b[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && mo >= 1 && mo <= 12 && d >= 1 && h < 24 && mi < 60 && s < 60 {
			t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
			return t, t.Day() == d // rejects 2021-02-30 rather than rolling it over
		}
		return time.Time{}, false
	}
	v := string(b)
	if len(v) > 10 && v[10] == 't' {
		v = v[:10] + "T" + v[11:]
	}
	if strings.HasSuffix(v, "z") {
		v = v[:len(v)-1] + "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
