package vault

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWritesOpenOnlyWhatOpenAccepts checks that no write produces a vault
// that Open refuses: a document over the size limit or nested too deeply
// is refused before the rename, the old vault intact, with an error naming
// the file and, when known, the credential path.
func TestWritesOpenOnlyWhatOpenAccepts(t *testing.T) {
	key := GenerateKey()
	deepPath := strings.TrimSuffix(strings.Repeat("a.", maxDepth+1), ".")
	deepDoc := func(levels int) map[string]any {
		doc := map[string]any{}
		node := doc
		for range levels - 1 {
			child := map[string]any{}
			node["a"] = child
			node = child
		}
		return doc
	}
	tests := []struct {
		name  string
		large bool // needs about 50 MB: skipped with -short
		write func(path string) error
		says  []string
	}{
		{"set a 52 MB value", true, func(path string) error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Set("big.value", strings.Repeat("x", 52_000_000)) })
		}, []string{"credentials.enc: the new vault would be", "more than the 64 MiB Open accepts", `(after the change to "big.value")`, "nothing was written"}},
		{"seal a 52 MB document", true, func(path string) error {
			return Seal(path, map[string]any{"big": strings.Repeat("x", 52_000_000)}, key)
		}, []string{"credentials.enc: the new vault would be", "more than the 64 MiB Open accepts"}},
		{"set a path 10,001 keys deep", false, func(path string) error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Set(deepPath, "x") })
		}, []string{`cannot set "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a....": a path of 10001 keys would nest deeper than the 10000 levels a vault may hold`}},
		{"set an object that ends too deep", false, func(path string) error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Set("x", deepDoc(maxDepth)) })
		}, []string{"would be nested 10001 levels deep, deeper than the 10000 levels a vault may hold"}},
		{"seal a document 10,001 levels deep", false, func(path string) error {
			return Seal(path, deepDoc(maxDepth+1), key)
		}, []string{"would be nested 10001 levels deep"}},
		{"replace with a document 10,001 levels deep", false, func(path string) error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Replace(deepDoc(maxDepth + 1)) })
		}, []string{"would be nested 10001 levels deep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.large && testing.Short() {
				t.Skip("needs about 50 MB")
			}
			path := sealSeed(t, key)
			before := readOrFail(t, path)
			err := tt.write(path)
			if err == nil {
				t.Fatal("the write succeeded")
			}
			for _, want := range tt.says {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			if after := readOrFail(t, path); !bytes.Equal(before, after) {
				t.Error("the vault changed")
			}
			if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
				t.Errorf("the directory holds %q", names)
			}
		})
	}

	// Right at the limits, the writes succeed and the vault opens.
	path := sealSeed(t, key)
	if err := Update(path, []*Key{key}, func(v *Tx) error { return v.Set(strings.TrimSuffix(strings.Repeat("a.", maxDepth), "."), "x") }); err != nil {
		t.Fatalf("a path of %d keys: %v", maxDepth, err)
	}
	if _, err := Open(path, []*Key{key}); err != nil {
		t.Fatal(err)
	}
}

func TestTokenSize(t *testing.T) {
	key := GenerateKey()
	for _, n := range []int{0, 1, 15, 16, 17, 100, 1000, 4095} {
		tok, err := sealToken(make([]byte, n), key, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := tokenSize(n); got != len(tok) {
			t.Errorf("tokenSize(%d) = %d, the token has %d bytes", n, got, len(tok))
		}
	}
}

// TestTimestampIsTheKeyAge checks that a vault's timestamp says when its
// key last changed: writes under the same key keep it (so that a change of
// value cannot satisfy a maximum age), a write that changes the key renews
// it.
func TestTimestampIsTheKeyAge(t *testing.T) {
	key, newKey := GenerateKey(), GenerateKey()
	sealed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := sealed.Add(40 * 24 * time.Hour)
	clock := WithClock(func() time.Time { return later })
	set := func(v *Tx) error { return v.Set("database.password", "changed") }
	tests := []struct {
		name  string
		write func(path string) error
		want  time.Time
	}{
		{"Update", func(path string) error { return Update(path, []*Key{key}, set, clock) }, sealed},
		{"Update that deletes", func(path string) error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Delete("api_keys") }, clock)
		}, sealed},
		{"Update that replaces everything", func(path string) error {
			return Update(path, []*Key{key}, func(v *Tx) error { return v.Replace(map[string]any{"a": "b"}) }, clock)
		}, sealed},
		{"Seal over it with the same key", func(path string) error { return Seal(path, map[string]any{"a": "b"}, key, clock) }, sealed},
		{"Seal over it with another key", func(path string) error { return Seal(path, map[string]any{"a": "b"}, newKey, clock) }, later},
		{"Update with a new first key", func(path string) error { return Update(path, []*Key{newKey, key}, set, clock) }, later},
		{"Rotate", func(path string) error { return Rotate(path, []*Key{key}, newKey, clock) }, later},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := sealSeed(t, key, WithClock(func() time.Time { return sealed }))
			if err := tt.write(path); err != nil {
				t.Fatal(err)
			}
			v, err := Open(path, []*Key{key, newKey})
			if err != nil {
				t.Fatal(err)
			}
			if !v.SealedAt().Equal(tt.want) {
				t.Errorf("timestamp %v, want %v", v.SealedAt(), tt.want)
			}
			// A 30-day policy: only a change of key satisfies it.
			_, err = Open(path, []*Key{key, newKey}, WithMaxAge(30*24*time.Hour), clock)
			if expired := errors.Is(err, ErrExpired); expired != tt.want.Equal(sealed) {
				t.Errorf("Open with a 30-day maximum age: %v", err)
			}
		})
	}
}

func TestNegativeMaxAge(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	_, err := Open(path, []*Key{key}, WithMaxAge(-time.Hour))
	if err == nil || !strings.Contains(err.Error(), "the maximum age -1h0m0s is negative") || errors.Is(err, ErrExpired) {
		t.Errorf("Open: %v, want a refusal of the negative age", err)
	}
	err = Update(path, []*Key{key}, func(v *Tx) error { return v.Set("a", "b") }, WithMaxAge(-time.Second))
	if err == nil || !strings.Contains(err.Error(), "is negative") {
		t.Errorf("Update: %v, want a refusal of the negative age", err)
	}
}

// TestSetReplacingATree checks that Set refuses to replace an object or an
// array that holds values unless given ReplaceTree, and changes nothing
// when it refuses.
func TestSetReplacingATree(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		value any
		opts  []SetOption
		says  string // "" if Set succeeds
	}{
		{"an object by a string", "database", "flat", nil, `"database" is an object holding 4 values (keys "host", "password", "port", "username"): setting it would replace them all; set one of its keys, such as "database.host"`},
		{"an object by an object", "database", map[string]any{"host": "x"}, nil, `"database" is an object holding 4 values`},
		{"an array by a string", "hosts", "one", nil, `"hosts" is an array holding 2 values: setting it would replace them all; set one element, such as "hosts.0"`},
		{"an object by a string, with ReplaceTree", "database", "flat", []SetOption{ReplaceTree()}, ""},
		{"an array by an array, with ReplaceTree", "hosts", []any{"one"}, []SetOption{ReplaceTree()}, ""},
		{"an empty object", "empty", "now a value", nil, ""},
		{"a string by an object", "api_keys.stripe", map[string]any{"live": "x"}, nil, ""},
		{"a nil option", "api_keys.aws", "x", []SetOption{nil}, ""},
	}
	key := GenerateKey()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := sealSeed(t, key)
			before := readOrFail(t, path)
			err := Update(path, []*Key{key}, func(v *Tx) error { return v.Set(tt.path, tt.value, tt.opts...) })
			if tt.says == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want one saying %q", err, tt.says)
			}
			if !strings.Contains(err.Error(), "(ReplaceTree, set -force)") {
				t.Errorf("error %q does not say how to replace it on purpose", err)
			}
			if after := readOrFail(t, path); !bytes.Equal(before, after) {
				t.Error("the vault changed")
			}
		})
	}
}

// TestWritesSortKeys checks that every write gives objects with sorted
// keys, whatever the map order.
func TestWritesSortKeys(t *testing.T) {
	key := GenerateKey()
	doc := map[string]any{}
	for _, k := range []string{"zeta", "alpha", "mid", "beta", "omega", "gamma", "a", "z"} {
		doc[k] = map[string]any{"z": "1", "y": "2", "x": "3", "b": "4", "a": "5"}
	}
	const want = `{"a":{"a":"5","b":"4","x":"3","y":"2","z":"1"},"alpha":`
	path := filepath.Join(t.TempDir(), "v.enc")
	plaintext := func() string {
		raw := readOrFail(t, path)
		plain, _, _, err := unseal(path, raw, []*Key{key})
		if err != nil {
			t.Fatal(err)
		}
		return string(plain)
	}
	// Twenty tries: Go's map order is random, so an unsorted write would
	// show within a few.
	for i := range 20 {
		if err := Seal(path, doc, key, WithReplaceAny()); err != nil {
			t.Fatal(err)
		}
		if got := plaintext(); !strings.HasPrefix(got, want) {
			t.Fatalf("Seal %d wrote %.60s...", i, got)
		}
		if err := Update(path, []*Key{key}, func(v *Tx) error { return v.Set("new", "x") }); err != nil {
			t.Fatal(err)
		}
		if got := plaintext(); !strings.HasPrefix(got, want) || !strings.Contains(got, `"mid":{"a":"5","b":"4","x":"3","y":"2","z":"1"},"new":"x","omega"`) {
			t.Fatalf("Update %d wrote %.60s...", i, got)
		}
	}
}

func TestParseJSONValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
		says string
	}{
		{"5432\n", json.Number("5432"), ""},
		{"12345678901234567890", json.Number("12345678901234567890"), ""},
		{"1.0", json.Number("1.0"), ""},
		{" true ", true, ""},
		{"null", nil, ""},
		{`"text"`, "text", ""},
		{`""`, "", ""},
		{`["a", 1]`, []any{"a", json.Number("1")}, ""},
		{`{"b": {"c": false}}`, map[string]any{"b": map[string]any{"c": false}}, ""},
		{"", nil, "the input is empty"},
		{"text", nil, "not valid JSON"},
		{`{"a": 1, "a": 2}`, nil, `"a"`},
		{"1 2", nil, "followed by more data"},
		{"\"\xff\"", nil, "not valid UTF-8"},
	}
	for _, tt := range tests {
		got, err := ParseJSONValue([]byte(tt.in))
		if tt.says != "" {
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("ParseJSONValue(%q): %v, want an error saying %q", tt.in, err, tt.says)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseJSONValue(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseJSONValue(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
