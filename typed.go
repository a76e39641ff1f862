package vault

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Decode decodes the value at a credential path into dst, a non-nil
// pointer, as json.Unmarshal decodes that value's JSON: an object into a
// struct with json tags or a map, an array into a slice, a number into any
// numeric type (or a json.Number, or into an interface{} as a json.Number,
// so that its exact text survives), a string into a string. The path ""
// decodes the whole document.
//
//	var db struct {
//		Host     string `json:"host"`
//		Port     int    `json:"port"`
//		Password string `json:"password"`
//	}
//	err := v.Decode("database", &db)
//
// Decode works on a copy of *dst (fields the value does not set keep what
// they held) and assigns it to *dst only when the whole value decoded and
// its audit record was written: a failed Decode leaves *dst as it was
// (though maps and pointers that *dst shares may have been filled). A
// path that leads nowhere is a *NotFoundError. Its errors name the path,
// the field and the Go type, never a value: a value that does not fit its
// field is reported by its JSON kind alone, and an error of a type's own
// UnmarshalJSON or UnmarshalText, which may quote the value, is neither
// shown nor wrapped: only its type is named.
//
// It is audited as OpDecode with the path and a fingerprint of the value.
func (v *Vault) Decode(path string, dst any) error {
	return v.DecodeContext(context.Background(), path, dst)
}

// DecodeContext is Decode with a context, which the Auditor receives (see
// [Auditor]).
func (v *Vault) DecodeContext(ctx context.Context, path string, dst any) error {
	if err := v.readyWith(ctx); err != nil {
		return err
	}
	out := reflect.ValueOf(dst)
	if out.Kind() != reflect.Pointer || out.IsNil() {
		return fmt.Errorf("vault: %s: Decode needs a non-nil pointer to decode %q into, not %T", v.name, path, dst)
	}
	copied := reflect.New(out.Type().Elem())
	copied.Elem().Set(out.Elem())
	text, err := v.decode(path, copied.Interface())
	defer clear(text)
	event := v.event(OpDecode, err)
	event.Path = path
	if err == nil && v.fingerprint != nil {
		event.ValueFingerprint = v.fingerprint.of(string(text))
	}
	if err := withAudit(err, v.opts.audit(ctx, event)); err != nil {
		return err
	}
	out.Elem().Set(copied.Elem())
	return nil
}

// decode decodes the value at path into dst, returning its JSON text.
func (v *Vault) decode(path string, dst any) ([]byte, error) {
	n := *v.doc()
	if path != "" {
		segs, err := parsePath(path)
		if err != nil {
			return nil, fmt.Errorf("vault: %s: %w", v.name, err)
		}
		if n, err = lookup(v.name, path, n, segs); err != nil {
			return nil, err
		}
	}
	e := encoder{buf: make([]byte, 0, nodeSizeHint(n))}
	if err := e.node(n); err != nil {
		clear(e.buf)
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(e.buf))
	d.UseNumber()
	if err := d.Decode(dst); err != nil {
		err = decodeError(v.name, path, dst, e.buf, err)
		clear(e.buf)
		return nil, err
	}
	return e.buf, nil
}

// decodeError words an error of encoding/json without the value it may
// quote, and does not wrap it: UnmarshalTypeError's Value is "number 5432"
// for a number, and the errors of a type's own UnmarshalJSON or
// UnmarshalText (net.IP, time.Time) quote the text they could not parse.
// data is the JSON that was decoded, to find the value that did not fit:
// encoding/json names struct fields only, not map keys or array indexes.
func decodeError(name, path string, dst any, data []byte, err error) error {
	what := "the document"
	if path != "" {
		what = strconv.Quote(path)
	}
	typ := reflect.TypeOf(dst).Elem()
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("vault: %s: cannot decode %s into Go type %s: %s (its message is not shown, as it may quote the value)", name, what, typ, typeName(err))
	}
	at := path
	if segs, ok := pathAtOffset(data, te.Offset); ok {
		base, _ := parsePath(path) // path was parsed before: valid or ""
		at = formatPath(append(base, segs...))
	} else if te.Field != "" {
		at = strings.TrimPrefix(path+"."+te.Field, ".")
	}
	kind, _, _ := strings.Cut(te.Value, " ")
	return fmt.Errorf("vault: %s: cannot decode %s into Go type %s: the value at %q is a JSON %s, which does not fit Go type %s", name, what, typ, at, kind, te.Type)
}

// pathAtOffset returns the path, inside the compact JSON data, of the value
// that encoding/json was decoding when it stopped offset bytes in: an
// object or an array whose opening bracket ends there, or a scalar that
// ends there. It reads the structure only; of strings, it decodes keys.
func pathAtOffset(data []byte, offset int64) ([]string, bool) {
	type frame struct {
		array   bool
		index   int
		key     string
		wantKey bool
	}
	var stack []frame
	path := func() []string {
		segs := make([]string, 0, len(stack))
		for _, f := range stack {
			if f.array {
				segs = append(segs, strconv.Itoa(f.index))
			} else {
				segs = append(segs, f.key)
			}
		}
		return segs
	}
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case '{', '[':
			i++
			if int64(i) == offset {
				return path(), true
			}
			stack = append(stack, frame{array: c == '[', wantKey: c == '{'})
		case '}', ']':
			i++
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			i++
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.index++
				top.wantKey = !top.array
			}
		case ':':
			i++
		case '"':
			end := stringEnd(data, i)
			if len(stack) > 0 && stack[len(stack)-1].wantKey {
				top := &stack[len(stack)-1]
				if json.Unmarshal(data[i:end], &top.key) != nil {
					return nil, false
				}
				top.wantKey = false
			} else if int64(end) == offset {
				return path(), true
			}
			i = end
		default:
			end := i
			for end < len(data) && !strings.ContainsRune(",:]}", rune(data[end])) {
				end++
			}
			if int64(end) == offset {
				return path(), true
			}
			i = end
		}
	}
	return nil, false
}

// stringEnd returns the offset just past the JSON string that starts at
// data[start], a quote.
func stringEnd(data []byte, start int) int {
	for i := start + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// marshal encodes v, of a type the encoder has no case of (a struct, a
// map[string]int, a []int, a uint8, a json.RawMessage, a json.Marshaler),
// as encoding/json encodes it, then re-reads that JSON with the vault's
// own decoder and encodes the result, so that numbers keep the text
// encoding/json gave them and the document holds only the types Open
// produces. Unlike encoding/json, it refuses a string that is not valid
// UTF-8 (which json.Marshal would quietly replace with U+FFFD) and names
// the path of a NaN or an infinity.
func (e *encoder) marshal(v any) error {
	b, err := json.Marshal(v)
	defer clear(b)
	if err != nil || bytes.Contains(b, []byte(`\ufffd`)) {
		if problem := unencodable(reflect.ValueOf(v), e.path, 0); problem != "" {
			return errors.New(problem)
		}
	}
	if err != nil {
		return fmt.Errorf("vault: the value at %q, of Go type %T, cannot be encoded as JSON: %s", formatPath(e.path), v, marshalProblem(err))
	}
	n, err := decodeValue(b)
	if err != nil {
		return fmt.Errorf("vault: the value at %q, of Go type %T, encodes to JSON that a vault cannot hold: %v", formatPath(e.path), v, err)
	}
	return e.node(n)
}

// marshalProblem words an error of json.Marshal without what a type's own
// MarshalJSON or MarshalText said, which may quote a value.
func marshalProblem(err error) string {
	var ute *json.UnsupportedTypeError
	var uve *json.UnsupportedValueError
	var me *json.MarshalerError
	switch {
	case errors.As(err, &ute):
		return "a vault cannot hold a " + ute.Type.String()
	case errors.As(err, &uve):
		return "a vault cannot hold " + uve.Str
	case errors.As(err, &me):
		return "the " + me.Type.String() + " type's MarshalJSON or MarshalText failed (its message is not shown, as it may quote the value)"
	}
	return typeName(err)
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// unencodable finds, in v at path, a string that is not valid UTF-8 or a
// float that is NaN or infinite, and returns the error message that names
// its path as encoding/json names fields; "" if there is none. It does not
// look inside a type with its own MarshalJSON or MarshalText.
func unencodable(v reflect.Value, path []string, depth int) string {
	if !v.IsValid() || depth > maxDepth {
		return ""
	}
	if v.Type().Implements(marshalerType) || v.Type().Implements(textMarshalerType) {
		return ""
	}
	at := func(seg string) []string { return append(path[:len(path):len(path)], seg) }
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return fmt.Sprintf("vault: the value at %q is not valid UTF-8: JSON can only hold UTF-8 text; encode binary values (base64) first", formatPath(path))
		}
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("vault: the value at %q is NaN or infinite, which JSON cannot hold", formatPath(path))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return unencodable(v.Elem(), path, depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // base64
		}
		for i := range v.Len() {
			if p := unencodable(v.Index(i), at(strconv.Itoa(i)), depth+1); p != "" {
				return p
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			name := fmt.Sprint(k.Interface())
			if k.Kind() == reflect.String && !utf8.ValidString(k.String()) {
				return fmt.Sprintf("vault: a key inside %q is not valid UTF-8", formatPath(path))
			}
			if p := unencodable(iter.Value(), at(name), depth+1); p != "" {
				return p
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			fieldPath := path
			switch {
			case name != "":
				fieldPath = at(name)
			case !f.Anonymous:
				fieldPath = at(f.Name)
			}
			if p := unencodable(v.Field(i), fieldPath, depth+1); p != "" {
				return p
			}
		}
	}
	return ""
}
