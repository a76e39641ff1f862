package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceDecode parses data with encoding/json, UseNumber, as one object
// and nothing after it: what decodeDocument must agree with.
func referenceDecode(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("more data after the value")
	}
	obj, _ := v.(map[string]any)
	return obj, nil
}

var decodeCases = []string{
	`{}`, ` { } `, `{"a":"b"}`, `{"a":1,"b":-0.5e+10,"c":0,"d":1E3,"e":-0}`,
	`{"big":12345678901234567890,"f":1.0,"exp":1e400}`,
	`{"t":true,"f":false,"n":null}`, `{"arr":[],"nested":[[{"x":[1,"2",null]}]]}`,
	`{"esc":"\"\\\/\b\f\n\r\t","u":"\u00e9\u4e2d\ud83d\ude00","lone":"\ud800x","lowfirst":"\udc00","pairbad":"\ud800\u0041"}`,
	`{"ctl":"a` + "\x01" + `b"}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":-}`, `{"a":1e}`,
	`{"a":tru}`, `{"a":nul}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":1}}`, `{"a":1} x`, `[1,2]`, `"s"`, `1`,
	`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":"unterminated`, `{"a":[1,2}`, `{"a":{"b":1}`,
	"{\"a\":\"\t\"}", "\t\n\r {\"a\" : [ 1 , 2 ] } \n", `{"":"empty key"}`, `{"k":"` + "\x7f" + `"}`,
}

// TestDecodeDocumentMatchesEncodingJSON checks the table of hard cases.
func TestDecodeDocumentMatchesEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		checkAgainstReference(t, []byte(c))
	}
}

func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	doc, err := decode(bytes.Clone(data), false)
	var got map[string]any
	if err == nil {
		got = toAny(doc).(map[string]any)
	}
	want, werr := referenceDecode(data)
	switch {
	case !utf8.Valid(data):
		if err == nil {
			t.Errorf("%q: accepted invalid UTF-8", data)
		}
	case err != nil && strings.Contains(err.Error(), "appears twice"):
		// A refusal of ours: encoding/json keeps the last.
	case werr != nil || want == nil:
		if err == nil {
			t.Errorf("%q: accepted what encoding/json refuses (%v) or is not an object", data, werr)
		}
	case err != nil:
		t.Errorf("%q: refused what encoding/json accepts: %v", data, err)
	default:
		// reflect.DeepEqual: cmp takes exponential time on deeply nested []any.
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%q: values differ from encoding/json:\nwant %v\n got %v", data, want, got)
		}
	}
}

func TestDecodeDuplicateKeys(t *testing.T) {
	_, err := decode([]byte(`{"db": {"password": "one-secret", "user": "u", "password": "two-secret"}}`), false)
	if err == nil || !strings.Contains(err.Error(), `the key "password" appears twice in one object (the second at byte 48)`) {
		t.Fatalf("error %v", err)
	}
	assertNoLeak(t, "error", err.Error(), "one-secret", "two-secret")
}

func TestDecodeAliasesOnlyWhenAsked(t *testing.T) {
	data := []byte(`{"a":"value","n":123}`)
	doc, err := ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	clear(data)
	if doc["a"] != "value" || doc["n"] != json.Number("123") {
		t.Errorf("ParseJSON's result changed with its input: %v", doc)
	}
}

// FuzzDecodeDocument is the differential test of the decoder against
// encoding/json: the same documents accepted, the same values, but for
// invalid UTF-8 and duplicate keys, which decodeDocument refuses.
func FuzzDecodeDocument(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(seedJSON))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstReference(t, data)
	})
}

// TestPlainRun checks the eight-bytes-at-a-time scan of string text against
// the byte-at-a-time table, for every byte value at every position of a
// word, among fillers that sit next to the special bytes' values (a
// borrow from one byte to the next is where such bit tricks go wrong).
func TestPlainRun(t *testing.T) {
	naive := func(data []byte, i int) int {
		for i < len(data) && plainStringByte[data[i]] {
			i++
		}
		return i
	}
	for _, filler := range []byte{'a', ' ', '!', '#', '[', ']', 0x7f, 0x80, 0xff} {
		for c := range 256 {
			for pos := range 20 {
				data := bytes.Repeat([]byte{filler}, 20)
				data[pos] = byte(c)
				for start := range 3 {
					if got, want := plainRun(data, start), naive(data, start); got != want {
						t.Fatalf("filler %#x, byte %#x at %d, from %d: %d, want %d", filler, c, pos, start, got, want)
					}
				}
			}
		}
	}
}
