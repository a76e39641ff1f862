package vault

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is how deeply a document may nest, as in encoding/json.
const maxDepth = 10000

// decodeDocument parses a vault's plaintext into a document. It accepts
// exactly what encoding/json accepts and gives the same values (numbers
// with their exact text, as json.Number would, invalid surrogate escapes
// as U+FFFD), with three differences, all refusals: text that is not valid
// UTF-8 (which encoding/json would silently replace with U+FFFD, and
// Python's json.loads refuses too), anything but one object, and a key that
// appears twice in one object (encoding/json and Python keep the last; a
// vault should not be ambiguous). The fuzz test FuzzDecodeDocument checks
// this against encoding/json.
//
// The document's strings share plain's memory (see alias) unless they hold
// escapes: plain must not change afterwards. This is what makes Open fast and
// lean: the plaintext is decoded and decrypted in the file's own buffer, and
// the values are read where they lie. Errors complete the sentence "the
// plaintext is ..." and give byte offsets, never the text.
func decodeDocument(plain []byte) (node, error) {
	return decode(plain, true)
}

// decode parses data, which must hold one object; with alias false, every
// string is a copy, so that data may be reused.
func decode(data []byte, alias bool) (node, error) {
	if !utf8.Valid(data) {
		return node{}, errors.New("not valid UTF-8")
	}
	d := decoder{data: data, alias: alias}
	d.skipSpace()
	if d.i == len(data) {
		return node{}, errors.New("empty")
	}
	if data[d.i] != '{' {
		v, err := d.value(0)
		if err != nil {
			return node{}, err
		}
		return node{}, fmt.Errorf("a JSON %s, not an object", v.kindName())
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

type decoder struct {
	data  []byte
	i     int
	alias bool

	// members and elements are stacks of the objects and arrays being
	// parsed, shared by all levels: an object or array is allocated once,
	// at its final size, when it ends. They grow by doubling, so that a
	// large object costs about twice its size on the way, not the five
	// times of append's gentler growth.
	members  []member
	elements []node
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
func (d *decoder) value(depth int) (node, error) {
	if d.i >= len(d.data) {
		return node{}, d.syntaxError()
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		s, err := d.string()
		return stringNode(s), err
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return boolNode(true), d.literal("true")
	case c == 'f':
		return boolNode(false), d.literal("false")
	case c == 'n':
		return node{}, d.literal("null")
	}
	return node{}, d.syntaxError()
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

func (d *decoder) object(depth int) (node, error) {
	if depth > maxDepth {
		return node{}, fmt.Errorf("nested deeper than the %d levels JSON decoding allows", maxDepth)
	}
	start := d.i
	d.i++ // {
	base := len(d.members)
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return objectNode(nil), nil
	}
	for {
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return node{}, d.syntaxError()
		}
		key, err := d.string()
		if err != nil {
			return node{}, err
		}
		d.skipSpace()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return node{}, d.syntaxError()
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return node{}, err
		}
		if len(d.members) == cap(d.members) {
			d.members = slices.Grow(d.members, max(len(d.members), 64))
		}
		d.members = append(d.members, member{key, v})
		d.skipSpace()
		if d.i >= len(d.data) {
			return node{}, d.syntaxError()
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case '}':
			d.i++
			var members []member
			if depth == 1 {
				// The outermost object: nothing is parsed after it, so it
				// keeps the stack rather than a copy.
				members, d.members = d.members[base:len(d.members):len(d.members)], nil
			} else {
				members = slices.Clone(d.members[base:])
				clear(d.members[base:]) // the stack must not keep values alive
				d.members = d.members[:base]
			}
			if !slices.IsSortedFunc(members, compareMembers) {
				slices.SortFunc(members, compareMembers)
			}
			for i := 1; i < len(members); i++ {
				if members[i].key == members[i-1].key {
					return node{}, d.duplicate(start, depth)
				}
			}
			return objectNode(members), nil
		default:
			return node{}, d.syntaxError()
		}
	}
}

// duplicate words the error for the object at start, which holds a key
// twice: it reads the object again to find the first key that repeats an
// earlier one. Only an object that parsed comes here, so the reading
// cannot fail.
func (d *decoder) duplicate(start, depth int) error {
	r := decoder{data: d.data, i: start + 1, alias: true}
	seen := map[string]bool{}
	for r.i < len(r.data) {
		r.skipSpace()
		at := r.i
		key, _ := r.string()
		if seen[key] {
			return fmt.Errorf("ambiguous: the key %q appears twice in one object (the second at byte %d); keep one", key, at+1)
		}
		seen[key] = true
		r.skipSpace()
		r.i++ // :
		r.skipSpace()
		r.value(depth)
		r.skipSpace()
		r.i++ // ,
	}
	return errors.New("ambiguous: a key appears twice in one object; keep one")
}

func (d *decoder) array(depth int) (node, error) {
	if depth > maxDepth {
		return node{}, fmt.Errorf("nested deeper than the %d levels JSON decoding allows", maxDepth)
	}
	d.i++ // [
	base := len(d.elements)
	d.skipSpace()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return arrayNode(nil), nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return node{}, err
		}
		if len(d.elements) == cap(d.elements) {
			d.elements = slices.Grow(d.elements, max(len(d.elements), 64))
		}
		d.elements = append(d.elements, v)
		d.skipSpace()
		if d.i >= len(d.data) {
			return node{}, d.syntaxError()
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case ']':
			d.i++
			elems := slices.Clone(d.elements[base:])
			clear(d.elements[base:])
			d.elements = d.elements[:base]
			return arrayNode(elems), nil
		default:
			return node{}, d.syntaxError()
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

// plainRun returns the offset of the first byte of data at or after i that
// a string cannot hold as it is (a quote, a backslash or a control
// character), or len(data). It tests eight bytes at a time, as most of a
// vault's bytes are the text of its strings: for each of the three
// conditions, the usual bit trick sets the top bit of every byte that meets
// it, and the lowest bit set is exact (a false one can only follow a true
// one), so it gives the offset.
func plainRun(data []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		quote, backslash := w^('"'*ones), w^('\\'*ones)
		special := (quote-ones)&^quote | (backslash-ones)&^backslash | (w-0x20*ones)&^w
		if special &= highs; special != 0 {
			return i + bits.TrailingZeros64(special)/8
		}
	}
	for i < len(data) && plainStringByte[data[i]] {
		i++
	}
	return i
}

// string parses the string at d.i (its opening quote).
func (d *decoder) string() (string, error) {
	d.i++
	start := d.i
	data := d.data
	d.i = plainRun(data, d.i)
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
func (d *decoder) number() (node, error) {
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
		return node{}, d.syntaxError()
	}
	if d.i < len(data) && data[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return node{}, d.syntaxError()
		}
	}
	if d.i < len(data) && (data[d.i] == 'e' || data[d.i] == 'E') {
		d.i++
		if d.i < len(data) && (data[d.i] == '+' || data[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return node{}, d.syntaxError()
		}
	}
	return numberNode(d.text(data[start:d.i])), nil
}
