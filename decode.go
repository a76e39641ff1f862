package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is how deeply a document may nest, as in encoding/json.
const maxDepth = 10000

// decodeDocument parses a vault's plaintext into a document. It accepts
// exactly what encoding/json accepts and gives the same values (numbers as
// json.Number with their exact text, invalid surrogate escapes as U+FFFD),
// with three differences, all refusals: text that is not valid UTF-8 (which
// encoding/json would silently replace with U+FFFD, and Python's json.loads
// refuses too), anything but one object, and a key that appears twice in one
// object (encoding/json and Python keep the last; a vault should not be
// ambiguous). The fuzz test FuzzDecodeDocument checks this against
// encoding/json.
//
// The document's strings share plain's memory (see alias) unless they hold
// escapes: plain must not change afterwards. This is what makes Open fast and
// lean: the plaintext is decoded and decrypted in the file's own buffer, and
// the values are read where they lie. Errors complete the sentence "the
// plaintext is ..." and give byte offsets, never the text.
func decodeDocument(plain []byte) (map[string]any, error) {
	return decode(plain, true)
}

// decode parses data; with alias false, every string is a copy, so that
// data may be reused.
func decode(data []byte, alias bool) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	d := decoder{data: data, alias: alias}
	d.skipSpace()
	if d.i == len(data) {
		return nil, errors.New("empty")
	}
	if data[d.i] != '{' {
		v, err := d.value(0)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("a JSON %s, not an object", kindOf(v))
	}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.i != len(data) {
		return nil, fmt.Errorf("a JSON value followed by more data (at byte %d)", d.i+1)
	}
	return v.(map[string]any), nil
}

type decoder struct {
	data  []byte
	i     int
	alias bool

	// members and elements are stacks of the objects and arrays being
	// parsed, shared by all levels: an object or array is allocated once,
	// at its final size, when it ends.
	members  []member
	elements []any
}

type member struct {
	key   string
	at    int // the byte offset of the key, for the duplicate error
	value any
}

func (d *decoder) syntaxError() error {
	if d.i >= len(d.data) {
		return errors.New("not valid JSON (it ends too early)")
	}
	return fmt.Errorf("not valid JSON (syntax error at byte %d)", d.i+1)
}

func (d *decoder) skipSpace() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value parses the value at d.i, nested depth levels deep.
func (d *decoder) value(depth int) (any, error) {
	if d.i >= len(d.data) {
		return nil, d.syntaxError()
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntaxError()
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.i < len(word) || string(d.data[d.i:d.i+len(word)]) != word {
		for k := 0; k < len(word) && d.i < len(d.data) && d.data[d.i] == word[k]; k++ {
			d.i++
		}
		return d.syntaxError()
	}
	d.i += len(word)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than the %d levels JSON decoding allows", maxDepth)
	}
	d.i++ // {
	base := len(d.members)
	defer func() { d.members = d.members[:base] }()
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return map[string]any{}, nil
	}
	for {
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return nil, d.syntaxError()
		}
		at := d.i
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return nil, d.syntaxError()
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.members = append(d.members, member{key, at, v})
		d.skipSpace()
		if d.i >= len(d.data) {
			return nil, d.syntaxError()
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case '}':
			d.i++
			members := d.members[base:]
			obj := make(map[string]any, len(members))
			for _, m := range members {
				if _, dup := obj[m.key]; dup {
					return nil, fmt.Errorf("ambiguous: the key %q appears twice in one object (the second at byte %d); keep one", m.key, m.at+1)
				}
				obj[m.key] = m.value
			}
			clear(members) // the stack must not keep values alive
			return obj, nil
		default:
			return nil, d.syntaxError()
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than the %d levels JSON decoding allows", maxDepth)
	}
	d.i++ // [
	base := len(d.elements)
	defer func() { d.elements = d.elements[:base] }()
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return []any{}, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.elements = append(d.elements, v)
		d.skipSpace()
		if d.i >= len(d.data) {
			return nil, d.syntaxError()
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case ']':
			d.i++
			arr := append([]any(nil), d.elements[base:]...)
			clear(d.elements[base:])
			return arr, nil
		default:
			return nil, d.syntaxError()
		}
	}
}

// plainStringByte marks the bytes a string holds as they are: not the
// quote, the backslash or a control character.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// string parses the string at d.i (its opening quote).
func (d *decoder) string() (string, error) {
	d.i++
	start := d.i
	data := d.data
	for d.i < len(data) && plainStringByte[data[d.i]] {
		d.i++
	}
	if d.i >= len(data) {
		return "", d.syntaxError()
	}
	if data[d.i] == '"' {
		s := d.text(data[start:d.i])
		d.i++
		return s, nil
	}
	if data[d.i] != '\\' {
		return "", d.syntaxError() // a control character
	}
	return d.escaped(start)
}

// text returns b as a string: sharing its memory when aliasing.
func (d *decoder) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if d.alias {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

// escaped finishes a string that holds escapes, from its first byte at
// start, into a new buffer.
func (d *decoder) escaped(start int) (string, error) {
	data := d.data
	buf := make([]byte, 0, d.i-start+16)
	buf = append(buf, data[start:d.i]...)
	for d.i < len(data) {
		c := data[d.i]
		switch {
		case c == '"':
			d.i++
			return string(buf), nil
		case c < 0x20:
			return "", d.syntaxError()
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		d.i++
		if d.i >= len(data) {
			return "", d.syntaxError()
		}
		switch e := data[d.i]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4(d.i + 1)
			if !ok {
				return "", d.syntaxError()
			}
			d.i += 4 // at the last hex digit
			if utf16.IsSurrogate(r) {
				// A valid pair of escapes becomes one rune; anything else
				// U+FFFD, as encoding/json does.
				high := r
				r = utf8.RuneError
				if d.i+2 < len(data) && data[d.i+1] == '\\' && data[d.i+2] == 'u' {
					if low, ok := d.hex4(d.i + 3); ok {
						if pair := utf16.DecodeRune(high, low); pair != utf8.RuneError {
							r = pair
							d.i += 6
						}
					}
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", d.syntaxError()
		}
		d.i++
	}
	return "", d.syntaxError()
}

// hex4 reads four hex digits at data[at:].
func (d *decoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// number parses a number in JSON's grammar and keeps its text.
func (d *decoder) number() (any, error) {
	data, start := d.data, d.i
	digits := func() int {
		n := 0
		for d.i < len(data) && '0' <= data[d.i] && data[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if data[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(data) && data[d.i] == '0':
		d.i++
	case digits() == 0:
		return nil, d.syntaxError()
	}
	if d.i < len(data) && data[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, d.syntaxError()
		}
	}
	if d.i < len(data) && (data[d.i] == 'e' || data[d.i] == 'E') {
		d.i++
		if d.i < len(data) && (data[d.i] == '+' || data[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.syntaxError()
		}
	}
	return json.Number(d.text(data[start:d.i])), nil
}
