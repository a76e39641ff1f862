package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A vault's plaintext is a document: one JSON object whose values are
// objects (map[string]any), arrays ([]any), strings, numbers (json.Number,
// so that the exact text survives: 12345678901234567890 and 1.0 stay as
// written), booleans and null (nil).

// decodeDocument parses a vault's plaintext. It refuses invalid UTF-8 (which
// encoding/json would silently replace with U+FFFD, and which Python's
// json.loads refuses too), anything but one object, and trailing data.
// Duplicate keys are accepted and the last one wins, as in Python's
// json.loads. Its errors complete the sentence "the plaintext is ..." and
// give byte offsets, never the text, which may be a secret.
func decodeDocument(plain []byte) (map[string]any, error) {
	if !utf8.Valid(plain) {
		return nil, errors.New("not valid UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(plain))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		return nil, describeJSONError(err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("a JSON value followed by more data (at byte %d)", d.InputOffset())
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a JSON %s, not an object", kindOf(doc))
	}
	return obj, nil
}

// describeJSONError turns an encoding/json error into a message without the
// character it found, which may be part of a secret.
func describeJSONError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn) && strings.Contains(syn.Error(), "max depth"):
		return errors.New("nested deeper than the 10000 levels JSON decoding allows")
	case errors.As(err, &syn):
		return fmt.Errorf("not valid JSON (syntax error at byte %d)", syn.Offset)
	case errors.Is(err, io.EOF):
		return errors.New("empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("not valid JSON (it ends too early)")
	default:
		return errors.New("not valid JSON")
	}
}

// ParseJSON parses a JSON object the way Open parses a vault's plaintext:
// numbers keep their exact text (as json.Number), text must be valid UTF-8,
// and anything but one object is an error. Its result can be given to Seal.
// Its errors give byte offsets, never the text.
func ParseJSON(data []byte) (map[string]any, error) {
	doc, err := decodeDocument(data)
	if err != nil {
		return nil, fmt.Errorf("vault: the input is %w: a vault holds one JSON object, such as {\"database\": {\"password\": \"...\"}}", err)
	}
	return doc, nil
}

// kindOf names the JSON kind of a document value, for messages.
func kindOf(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// encodeDocument writes secrets as compact JSON with sorted object keys, so
// that sealing the same secrets twice gives the same plaintext. It accepts
// the types decodeDocument produces and the Go types a caller builds a
// document from (strings, bools, integers, finite floats, []string,
// map[string]string, []any, map[string]any, nil); anything else is an error
// naming its credential path and type. A string that is not valid UTF-8 is
// refused rather than altered. HTML characters are not escaped.
func encodeDocument(secrets map[string]any) ([]byte, error) {
	var e encoder
	if err := e.value(secrets, nil); err != nil {
		return nil, err
	}
	return e.buf, nil
}

type encoder struct{ buf []byte }

func (e *encoder) value(v any, path []string) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		if !utf8.ValidString(v) {
			return fmt.Errorf("vault: the value at %q is not valid UTF-8: JSON can only hold UTF-8 text; encode binary values (base64) first", formatPath(path))
		}
		e.buf = appendJSONString(e.buf, v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return fmt.Errorf("vault: the value at %q is a json.Number that is not a JSON number", formatPath(path))
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
		return e.float(v, path)
	case float32:
		return e.float(float64(v), path)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if !utf8.ValidString(k) {
				return fmt.Errorf("vault: a key inside %q is not valid UTF-8", formatPath(path))
			}
			e.buf = appendJSONString(e.buf, k)
			e.buf = append(e.buf, ':')
			if err := e.value(v[k], append(path, k)); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	case map[string]string:
		m := make(map[string]any, len(v))
		for k, s := range v {
			m[k] = s
		}
		return e.value(m, path)
	case []any:
		e.buf = append(e.buf, '[')
		for i, x := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(x, append(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return e.value(a, path)
	default:
		return fmt.Errorf("vault: the value at %q has Go type %T, which a vault cannot hold: use strings, numbers, booleans, nil, []any and map[string]any", formatPath(path), v)
	}
	return nil
}

func (e *encoder) float(f float64, path []string) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("vault: the value at %q is NaN or infinite, which JSON cannot hold", formatPath(path))
	}
	e.buf = strconv.AppendFloat(e.buf, f, 'g', -1, 64)
	return nil
}

// appendJSONString appends s as a JSON string, escaping only what JSON
// requires: the quote, the backslash and control characters.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
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
	return append(b, '"')
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
