package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type dbConfig struct {
	Host     string      `json:"host"`
	Port     uint16      `json:"port"`
	Password string      `json:"password"`
	Replicas []string    `json:"replicas,omitempty"`
	Ratio    json.Number `json:"ratio,omitempty"`
	Skipped  string      `json:"-"`
}

// TestSealTypedValues: Seal takes anything encoding/json encodes as an
// object, with values of any type it encodes, and numbers keep their text.
// Before, uint8, []int, map[string]int, structs and json.RawMessage were
// refused ("has Go type uint8, which a vault cannot hold").
func TestSealTypedValues(t *testing.T) {
	key := GenerateKey()
	type app struct {
		Name string   `json:"name"`
		DB   dbConfig `json:"db"`
	}
	tests := []struct {
		name    string
		secrets any
		want    map[string]string // path: Get's answer
	}{
		{"uint8 and int8", map[string]any{"a": uint8(255), "b": int8(-3)}, map[string]string{"a": "255", "b": "-3"}},
		{"[]int", map[string]any{"ports": []int{80, 443}}, map[string]string{"ports.1": "443"}},
		{"map[string]int", map[string]any{"limits": map[string]int{"cpu": 2}}, map[string]string{"limits.cpu": "2"}},
		{"a struct value", map[string]any{"db": dbConfig{Host: "h", Port: 5432, Password: "pw", Skipped: "no"}}, map[string]string{"db.host": "h", "db.port": "5432", "db.password": "pw"}},
		{"a struct at the top", app{Name: "api", DB: dbConfig{Host: "h", Port: 1}}, map[string]string{"name": "api", "db.host": "h", "db.port": "1"}},
		{"a pointer to a struct", &app{Name: "p"}, map[string]string{"name": "p"}},
		{"json.RawMessage keeps number text", map[string]any{"raw": json.RawMessage(`{"big": 12345678901234567890, "one": 1.0, "e": 1E+2}`)}, map[string]string{"raw.big": "12345678901234567890", "raw.one": "1.0", "raw.e": "1E+2"}},
		{"uint64 beyond float64", map[string]any{"n": uint64(18446744073709551615)}, map[string]string{"n": "18446744073709551615"}},
		{"map[string]string at the top", map[string]string{"a": "b"}, map[string]string{"a": "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := sealPath(t, tt.secrets, key)
			v, err := Open(path, []*Key{key})
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.want {
				if got, err := v.Get(p); err != nil || got != want {
					t.Errorf("Get(%q) = %q, %v; want %q", p, got, err, want)
				}
			}
			if _, err := v.Get("db.Skipped"); tt.name == "a struct value" && !errors.Is(err, ErrNotFound) {
				t.Errorf("a json:\"-\" field was sealed: %v", err)
			}
		})
	}
}

// TestSetTypedValues: Set takes the same values as Seal.
func TestSetTypedValues(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	err := Update(path, []*Key{key}, func(v *Tx) error {
		if err := v.Set("limits", map[string]int{"cpu": 2}); err != nil {
			return err
		}
		return v.Set("replica", dbConfig{Host: "r1", Port: 6543})
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"limits.cpu": "2", "replica.host": "r1", "replica.port": "6543", "database.port": "5432"} {
		if got, err := v.Get(p); err != nil || got != want {
			t.Errorf("Get(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
}

// TestLookup: absence is an answer, (""', false, nil), audited as a lookup
// with outcome ok; a present value comes back as Get gives it; an object
// or array is ErrNotScalar, as with Get.
func TestLookup(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	v, err := Open(sealSeed(t, key), []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		value   string
		ok      bool
		errWant error
	}{
		{"database.port", "5432", true, nil},
		{"database.nope", "", false, nil},
		{"nope.deeper", "", false, nil},
		{"hosts.9", "", false, nil},
		{"database.port.x", "", false, nil}, // below a scalar: nothing there
		{"database", "", false, ErrNotScalar},
		{"hosts", "", false, ErrNotScalar},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec.events = nil
			value, ok, err := v.Lookup(tt.path)
			if value != tt.value || ok != tt.ok || !errors.Is(err, tt.errWant) || (tt.errWant == nil) != (err == nil) {
				t.Errorf("Lookup(%q) = %q, %v, %v; want %q, %v, %v", tt.path, value, ok, err, tt.value, tt.ok, tt.errWant)
			}
			e := rec.events[0]
			if e.Op != OpLookup || e.Path != tt.path || e.Absent != (!tt.ok && tt.errWant == nil) || (e.Err == nil) != (tt.errWant == nil) {
				t.Errorf("event %+v", e)
			}
		})
	}
	if _, _, err := v.Lookup("a..b"); err == nil {
		t.Error("a malformed path is not an error")
	}
	if _, err := v.Get("database"); !errors.Is(err, ErrNotScalar) {
		t.Errorf("Get of an object: %v, want ErrNotScalar", err)
	}
}

// TestDecode: a subtree into a struct with json tags, numbers into Go
// numbers or json.Number with their text; errors name the field and never
// the value; a failed Decode leaves dst as it was.
func TestDecode(t *testing.T) {
	key := GenerateKey()
	rec := &recorder{}
	path := sealPath(t, map[string]any{
		"database": map[string]any{"host": "db.example.com", "port": 5432, "password": "s3cret!P@ss", "replicas": []string{"r1", "r2"}, "ratio": json.RawMessage("1.50")},
		"pin":      json.RawMessage("987654321"),
		"big":      json.RawMessage("12345678901234567890"),
	}, key)
	v, err := Open(path, []*Key{key}, WithAuditor(rec))
	if err != nil {
		t.Fatal(err)
	}
	db := dbConfig{Skipped: "kept"}
	if err := v.Decode("database", &db); err != nil {
		t.Fatal(err)
	}
	want := dbConfig{Host: "db.example.com", Port: 5432, Password: "s3cret!P@ss", Replicas: []string{"r1", "r2"}, Ratio: "1.50", Skipped: "kept"}
	if diff := cmp.Diff(want, db); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if e := rec.events[len(rec.events)-1]; e.Op != OpDecode || e.Path != "database" || e.ValueFingerprint == "" {
		t.Errorf("event %+v", e)
	}

	var all map[string]any
	if err := v.Decode("", &all); err != nil {
		t.Fatal(err)
	}
	if all["big"] != json.Number("12345678901234567890") {
		t.Errorf("a number decoded into any: %#v, want its text as a json.Number", all["big"])
	}
	var port int
	if err := v.DecodeContext(context.Background(), "database.port", &port); err != nil || port != 5432 {
		t.Errorf("a scalar: %d, %v", port, err)
	}

	// A value that does not fit: the error names the field and the kind,
	// not the value, and dst is unchanged.
	type wrong struct {
		Pin  string `json:"pin"`
		Host int    `json:"host"`
	}
	before := wrong{Pin: "unchanged"}
	got := before
	err = v.Decode("", &got)
	if err == nil || !strings.Contains(err.Error(), `the value at "pin" is a JSON number, which does not fit Go type string`) {
		t.Errorf("error %v", err)
	}
	if got != before {
		t.Errorf("a failed Decode changed dst: %+v", got)
	}
	assertNoLeak(t, "error", err.Error(), "987654321")
	err = v.Decode("database", &got)
	if err == nil || !strings.Contains(err.Error(), `cannot decode "database" into Go type vault.wrong: the value at "database.host" is a JSON string`) {
		t.Errorf("error %v", err)
	}
	assertNoLeak(t, "error", err.Error(), "db.example.com")

	for name, call := range map[string]func() error{
		"not found":   func() error { return v.Decode("database.nope", &db) },
		"nil pointer": func() error { return v.Decode("database", (*dbConfig)(nil)) },
		"not pointer": func() error { return v.Decode("database", db) },
		"bad path":    func() error { return v.Decode("a..b", &db) },
		"Unmarshaler": func() error { var u leakyUnmarshaler; return v.Decode("database.password", &u) },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			if err == nil {
				t.Fatal("no error")
			}
			assertNoLeak(t, "error", err.Error(), "s3cret!P@ss")
		})
	}
}

// TestDecodeErrorsHoldNoValue: no error in a Decode error's chain holds the
// value, whether encoding/json (cannot unmarshal number 300), a type's
// UnmarshalText (net.IP: invalid IP address: ...) or its UnmarshalJSON
// (time.Time, a custom type) worded it; and the path named is that of the
// value that did not fit, map keys and array indexes included.
func TestDecodeErrorsHoldNoValue(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealPath(t, map[string]any{
		"pw":     "SUPERSECRET-value",
		"n":      300,
		"limits": map[string]any{"cpu": 2, "mem": map[string]any{"max": 4}},
		"list":   []any{1, "SUPERSECRET-elem", 3},
		"deep":   map[string]any{"a.b": []any{map[string]any{"port": "SUPERSECRET-port"}}},
	}, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	var (
		ip     net.IP
		when   time.Time
		small  uint8
		leaky  leakyUnmarshaler
		ints   map[string]int
		list   []int
		limits struct {
			Limits map[string]int `json:"limits"`
		}
		nested struct {
			Deep map[string][]struct {
				Port int `json:"port"`
			} `json:"deep"`
		}
		inArray struct {
			List []int `json:"list"`
		}
	)
	for _, tt := range []struct {
		name, path string
		dst        any
		says       string
	}{
		{"net.IP", "pw", &ip, `cannot decode "pw" into Go type net.IP: *net.ParseError (its message is not shown`},
		{"time.Time", "pw", &when, `into Go type time.Time: *time.ParseError (its message is not shown`},
		{"an UnmarshalJSON", "pw", &leaky, `into Go type vault.leakyUnmarshaler: *errors.errorString (its message is not shown`},
		{"a number too large", "n", &small, `the value at "n" is a JSON number, which does not fit Go type uint8`},
		{"a map's value", "limits", &ints, `the value at "limits.mem" is a JSON object, which does not fit Go type int`},
		{"a map in a struct", "", &limits, `the value at "limits.mem" is a JSON object, which does not fit Go type int`},
		{"a slice's element", "list", &list, `the value at "list.1" is a JSON string, which does not fit Go type int`},
		{"a slice in a struct", "", &inArray, `the value at "list.1" is a JSON string`},
		{"a key with a dot, in an array", "", &nested, `the value at "deep.a\\.b.0.port" is a JSON string, which does not fit Go type int`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Decode(tt.path, tt.dst)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want one saying %s", err, tt.says)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				assertNoLeak(t, "error chain", fmt.Sprintf("%v %+v %#v", e, e, e), "SUPERSECRET", "300")
			}
		})
	}
}

// leakyUnmarshaler refuses what it is given, quoting it, as a careless
// UnmarshalJSON might.
type leakyUnmarshaler struct{}

func (*leakyUnmarshaler) UnmarshalJSON(b []byte) error {
	return errors.New("refused " + string(b))
}
