package vault

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// A vault's plaintext is a document: one JSON object whose values are
// objects, arrays, strings, numbers (whose exact text survives:
// 12345678901234567890 and 1.0 stay as written), booleans and null. The
// package holds it as a node (node.go); the public API gives it out as
// map[string]any, []any, string, json.Number, bool and nil.

// ParseJSON parses a JSON object the way Open parses a vault's plaintext:
// numbers keep their exact text (as json.Number), text must be valid UTF-8,
// a key may not appear twice in one object, and anything but one object is
// an error. Its result, which shares no memory with data, can be given to
// Seal. Its errors give byte offsets, never the text.
func ParseJSON(data []byte) (map[string]any, error) {
	doc, err := decode(data, false)
	if err != nil {
		return nil, fmt.Errorf("vault: the input is %w: a vault holds one JSON object, such as {\"database\": {\"password\": \"...\"}}", err)
	}
	return toAny(doc).(map[string]any), nil
}

// ParseJSONValue parses one JSON value of any kind, an object, an array, a
// string, a number, a boolean or null, by the rules of [ParseJSON]: numbers
// keep their exact text (as json.Number), text must be valid UTF-8, and a
// key may not appear twice in one object. Its result can be given to
// [Tx.Set]. Its errors give byte offsets, never the text.
func ParseJSONValue(data []byte) (any, error) {
	v, err := decodeValue(data)
	if err != nil {
		return nil, fmt.Errorf("vault: the input is %w: give one JSON value, such as 5432, true, null, \"text\", [1, 2] or {\"a\": 1}", err)
	}
	return toAny(v), nil
}

// decodeValue is decode for a value of any kind; every string is a copy.
func decodeValue(data []byte) (node, error) {
	if !utf8.Valid(data) {
		return node{}, errors.New("not valid UTF-8")
	}
	d := decoder{data: data}
	d.skipSpace()
	if d.i == len(data) {
		return node{}, errors.New("empty")
	}
	v, err := d.value(0)
	if err != nil {
		return node{}, err
	}
	d.skipSpace()
	if d.i != len(data) {
		return node{}, fmt.Errorf("a JSON value followed by more data (at byte %d)", d.i+1)
	}
	return v, nil
}

// encodeDocument writes a document as compact JSON with sorted object
// keys, as people read it (show, textconv, edit) and as every vault is
// sealed. A key that is not valid UTF-8 (a Tx.Set path may give one) is
// refused rather than altered. HTML characters are not escaped.
func encodeDocument(doc node) ([]byte, error) {
	return encode(doc)
}

// sealDocument is encodeDocument for what a caller gives Seal: every write
// of a document gives its objects' keys sorted, so that two versions of a
// vault diff cleanly (textconv, merge) and a vault's plaintext does not
// depend on map order.
//
// secrets may be a node or of any type that encodes as a JSON object: the
// Go types a caller builds a document from (strings, bools, integers,
// finite floats, []string, map[string]string, []any, map[string]any, nil)
// or anything encoding/json encodes. A string that is not valid UTF-8 is
// refused rather than altered, by an error naming its credential path.
func sealDocument(secrets any) ([]byte, error) {
	if err := checkNotNil(secrets, "seal an empty vault"); err != nil {
		return nil, err
	}
	b, err := encode(secrets)
	if err != nil || b[0] == '{' {
		return b, err
	}
	kind := "a number"
	switch b[0] {
	case '[':
		kind = "an array"
	case '"':
		kind = "a string"
	case 't', 'f':
		kind = "a boolean"
	case 'n':
		kind = "null"
	}
	clear(b)
	return nil, fmt.Errorf("vault: the secrets (Go type %T) encode as %s, not as a JSON object: a vault holds one object, such as {\"database\": {\"password\": \"...\"}}", secrets, kind)
}

// checkNotNil refuses nil secrets: nil itself, a nil map or a nil
// pointer. A nil map encodes as {} and would silently empty the vault it
// replaces; a whole document is given on purpose or not at all.
// The error says to pass map[string]any{} to, what the caller wanted.
func checkNotNil(secrets any, to string) error {
	v := reflect.ValueOf(secrets)
	switch {
	case secrets == nil:
		return fmt.Errorf("vault: the secrets are nil: to %s, pass map[string]any{}", to)
	case (v.Kind() == reflect.Map || v.Kind() == reflect.Pointer) && v.IsNil():
		return fmt.Errorf("vault: the secrets are a nil %T: to %s, pass map[string]any{}", secrets, to)
	}
	return nil
}

func encode(secrets any) ([]byte, error) {
	if m, ok := secrets.(map[string]any); ok {
		return encodeObject(m)
	}
	e := encoder{buf: make([]byte, 0, encodedSizeHint(secrets))}
	if err := e.value(secrets); err != nil {
		clear(e.buf)
		return nil, err
	}
	return e.buf, nil
}

// parallelMin is the size of a document from which encoding it (see
// encodeObject) and sealing it (see sealToken) split their work over two
// goroutines: a document of 100,000 secrets (7 MB) takes some 20 ms to
// encode, one of this size under a millisecond, and a goroutine is not
// worth starting for less.
const parallelMin = 1 << 20

// encodeObject encodes a document given as a map. A large one has its
// sorted members written in two halves at once, the second by another
// goroutine into a buffer of its own, appended once both are done: the
// output is the same, byte for byte, and so is the error (the first in
// key order). Seal spends half its time encoding a large document.
func encodeObject(m map[string]any) ([]byte, error) {
	keys := slices.Sorted(maps.Keys(m))
	sizes := make([]int, len(keys))
	total := 2
	for i, k := range keys {
		sizes[i] = len(k) + 4 + encodedSizeHint(m[k])
		total += sizes[i]
	}
	split, half := len(keys), 0
	if total >= parallelMin && len(keys) > 1 && encodedByUs(m) {
		for split = 0; half < total/2 && split < len(keys)-1; split++ {
			half += sizes[split]
		}
	}
	var second encoder
	var secondErr error
	var t *task
	if split < len(keys) {
		second.buf = make([]byte, 0, total-half)
		t = goTask(func() { secondErr = second.members(m, keys[split:]) })
		// Also when the first half panics: the second is waited for
		// and its buffer cleared.
		defer func() {
			t.wait()
			clear(second.buf)
		}()
	}
	e := encoder{buf: make([]byte, 0, total)}
	e.buf = append(e.buf, '{')
	err := e.members(m, keys[:split])
	if t != nil {
		t.wait()
		if err == nil {
			// A single pass would have reached the second half only now:
			// its panic (a value's MarshalJSON) is the caller's, as it was.
			t.rethrow()
		}
	}
	if err = cmp.Or(err, secondErr); err != nil {
		clear(e.buf)
		return nil, err
	}
	if split < len(keys) {
		e.buf = append(e.buf, ',')
		e.buf = append(e.buf, second.buf...)
	}
	return append(e.buf, '}'), nil
}

// encodedByUs reports whether v holds only values the encoder writes
// itself, with no code of the caller's (a MarshalJSON or MarshalText) to
// run. Only such a document is encoded in two halves at once: a caller's
// method need not be safe for concurrent use, and two members may hold
// the same value.
func encodedByUs(v any) bool {
	switch v := v.(type) {
	case node, nil, string, bool, json.Number, int, int64, int32, uint, uint64, uint32, float64, float32, map[string]string, []string:
		return true
	case map[string]any:
		for _, x := range v {
			if !encodedByUs(x) {
				return false
			}
		}
		return true
	case []any:
		for _, x := range v {
			if !encodedByUs(x) {
				return false
			}
		}
		return true
	}
	return false
}

// A task is a function run on another goroutine (goTask), whose panic is
// carried back to the goroutine that waits for it: a panic on a goroutine
// of our own, such as one in a MarshalJSON of the caller's secrets, would
// end the process, where the caller could recover it before.
type task struct {
	done     chan struct{}
	panicked bool
	value    any // what f panicked with
}

func goTask(f func()) *task {
	t := &task{done: make(chan struct{}), panicked: true}
	go func() {
		defer close(t.done)
		defer func() {
			if t.panicked {
				t.value = recover()
			}
		}()
		f()
		t.panicked = false
	}()
	return t
}

// wait waits for the task to return or panic.
func (t *task) wait() { <-t.done }

// rethrow waits for the task and, if it panicked, panics with the same
// value on the calling goroutine.
func (t *task) rethrow() {
	<-t.done
	if t.panicked {
		panic(t.value)
	}
}

// encodedSizeHint estimates the size of a document's JSON from above for
// the common types, so that the buffer is allocated once, and never copied
// with secrets in it as it grows.
func encodedSizeHint(v any) int {
	switch v := v.(type) {
	case node:
		return nodeSizeHint(v)
	case map[string]any:
		n := 2
		for k, x := range v {
			n += len(k) + 4 + encodedSizeHint(x)
		}
		return n
	case []any:
		n := 2
		for _, x := range v {
			n += 1 + encodedSizeHint(x)
		}
		return n
	case string:
		return len(v) + 2 + len(v)/8 // room for a few escapes
	case json.Number:
		return len(v)
	}
	return 24
}

func nodeSizeHint(n node) int {
	switch n.kind() {
	case kindObject:
		size := 2
		for _, m := range n.members() {
			size += len(m.key) + 4 + nodeSizeHint(m.val)
		}
		return size
	case kindArray:
		size := 2
		for _, x := range n.elems() {
			size += 1 + nodeSizeHint(x)
		}
		return size
	case kindString:
		return n.len() + 2 + n.len()/8 // room for a few escapes
	}
	return n.len() + 5 // a number's text, or true, false, null
}

type encoder struct {
	buf  []byte
	keys []string // a stack of the keys of the objects being encoded
	path []string // the credential path of the value being encoded, for errors
}

func (e *encoder) value(v any) error {
	switch v := v.(type) {
	case node:
		return e.node(v)
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		var ok bool
		if e.buf, ok = appendJSONStringChecked(e.buf, v); !ok {
			return fmt.Errorf("vault: the value at %q is not valid UTF-8: JSON can only hold UTF-8 text; encode binary values (base64) first", formatPath(e.path))
		}
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return fmt.Errorf("vault: the value at %q is a json.Number that is not a JSON number", formatPath(e.path))
		}
		e.buf = append(e.buf, v...)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case int32:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case uint:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case uint64:
		e.buf = strconv.AppendUint(e.buf, v, 10)
	case uint32:
		e.buf = strconv.AppendUint(e.buf, uint64(v), 10)
	case float64:
		return e.float(v)
	case float32:
		return e.float(float64(v))
	case map[string]any:
		if err := e.checkDepth(); err != nil {
			return err
		}
		base := len(e.keys)
		for k := range v {
			e.keys = append(e.keys, k)
		}
		keys := e.keys[base:]
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		if err := e.members(v, keys); err != nil {
			return err
		}
		e.buf = append(e.buf, '}')
		clear(e.keys[base:])
		e.keys = e.keys[:base]
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return e.value(m)
	case []any:
		if err := e.checkDepth(); err != nil {
			return err
		}
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.path = append(e.path, strconv.Itoa(i))
			if err := e.value(x); err != nil {
				return err
			}
			e.path = e.path[:len(e.path)-1]
		}
		e.buf = append(e.buf, ']')
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return e.value(a)
	default:
		return e.marshal(v)
	}
	return nil
}

// members writes the members of m that keys name, in that order.
func (e *encoder) members(m map[string]any, keys []string) error {
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		var ok bool
		if e.buf, ok = appendJSONStringChecked(e.buf, k); !ok {
			return fmt.Errorf("vault: a key inside %q is not valid UTF-8", formatPath(e.path))
		}
		e.buf = append(e.buf, ':')
		e.path = append(e.path, k)
		if err := e.value(m[k]); err != nil {
			return err
		}
		e.path = e.path[:len(e.path)-1]
	}
	return nil
}

// node encodes a document's node; its objects' members are sorted already.
func (e *encoder) node(n node) error {
	switch n.kind() {
	case kindNull:
		e.buf = append(e.buf, "null"...)
	case kindBool:
		e.buf = strconv.AppendBool(e.buf, n.boolean())
	case kindNumber:
		e.buf = append(e.buf, n.text()...)
	case kindString:
		var ok bool
		if e.buf, ok = appendJSONStringChecked(e.buf, n.text()); !ok {
			return fmt.Errorf("vault: the value at %q is not valid UTF-8: JSON can only hold UTF-8 text; encode binary values (base64) first", formatPath(e.path))
		}
	case kindObject:
		if err := e.checkDepth(); err != nil {
			return err
		}
		e.buf = append(e.buf, '{')
		for i, m := range n.members() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			var ok bool
			if e.buf, ok = appendJSONStringChecked(e.buf, m.key); !ok {
				return fmt.Errorf("vault: a key inside %q is not valid UTF-8", formatPath(e.path))
			}
			e.buf = append(e.buf, ':')
			e.path = append(e.path, m.key)
			if err := e.node(m.val); err != nil {
				return err
			}
			e.path = e.path[:len(e.path)-1]
		}
		e.buf = append(e.buf, '}')
	case kindArray:
		if err := e.checkDepth(); err != nil {
			return err
		}
		e.buf = append(e.buf, '[')
		for i, x := range n.elems() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.path = append(e.path, strconv.Itoa(i))
			if err := e.node(x); err != nil {
				return err
			}
			e.path = e.path[:len(e.path)-1]
		}
		e.buf = append(e.buf, ']')
	default:
		return fmt.Errorf("vault: the value at %q is absent", formatPath(e.path)) // not reached: no document holds absent
	}
	return nil
}

// checkDepth refuses an object or array, about to be encoded at e.path,
// that would nest deeper than Open decodes: the document is level 1, and
// an object at a path of n keys is at level n+1.
func (e *encoder) checkDepth() error {
	if len(e.path)+1 > maxDepth {
		return fmt.Errorf("vault: the value at %q would be nested %d levels deep, deeper than the %d levels a vault may hold: nothing was written; flatten the structure", shortPath(formatPath(e.path)), len(e.path)+1, maxDepth)
	}
	return nil
}

// shortPath shortens a credential path for a message: its first 60 bytes,
// cut at a character boundary, and "..." when it is longer.
func shortPath(p string) string {
	const max = 60
	if len(p) <= max {
		return p
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "..."
}

func (e *encoder) float(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("vault: the value at %q is NaN or infinite, which JSON cannot hold", formatPath(e.path))
	}
	e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, 64)
	return nil
}

// jsonEscape marks the bytes a JSON string must escape: the quote, the
// backslash and control characters.
var jsonEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// appendJSONString appends s as a JSON string, escaping only what JSON
// requires.
func appendJSONString(b []byte, s string) []byte {
	b, _ = appendJSONStringChecked(b, s)
	return b
}

// appendJSONStringChecked is appendJSONString that also reports whether s
// is valid UTF-8, checking only strings that are not plain ASCII.
func appendJSONStringChecked(b []byte, s string) ([]byte, bool) {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	var high byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		high |= c
		if !jsonEscape[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"'), high < 0x80 || utf8.ValidString(s)
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	return i == len(s)
}
