package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fuzz targets asserting properties, seeded from real cases. Besides these:
// FuzzOpenToken (token.go against fernet-go), FuzzDecodeDocument (the JSON
// decoder against encoding/json), FuzzRedactor, FuzzExport. `.ci/run` runs
// every seed corpus with the tests and then a short fuzzing burst of each.

// FuzzOpen feeds any file content to Open: it opens to the sealed document
// or fails with ErrMalformed, ErrWrongKey, ErrExpired or ErrNotJSON; never a
// panic, never another error, never a vault with an error.
func FuzzOpen(f *testing.F) {
	key := mustKey(f, testKeyText)
	for _, plain := range []string{`{"a":"b"}`, seedJSON, "", "[1]", `{"a":1,"a":2}`, "{\"x\":\"\xff\"}"} {
		tok, err := sealToken([]byte(plain), key, time.Unix(1_700_000_000, 0))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		f.Add(append(tok, "\r\n"...))
		f.Add(tok[:len(tok)/2])
	}
	for _, name := range []string{"generate.json", "verify.json", "invalid.json"} {
		b, _ := os.ReadFile(filepath.Join("testdata", "fernet-spec", name))
		var vs []struct{ Token string }
		json.Unmarshal(b, &vs)
		for _, v := range vs {
			f.Add([]byte(v.Token))
		}
	}
	f.Add([]byte{})
	f.Add([]byte("{}"))
	f.Add([]byte("gAAAAA===="))
	now := func() time.Time { return time.Unix(1_700_000_030, 0) }
	f.Fuzz(func(t *testing.T, file []byte) {
		original := bytes.Clone(file)
		v, err := open(context.Background(), "fuzz.enc", func() ([]byte, error) { return file, nil }, []*Key{key}, newOptions([]OpenOption{WithMaxAge(time.Hour), WithClock(now)}))
		if err != nil {
			if v != nil {
				t.Fatal("a vault and an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrWrongKey) && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrNotJSON) {
				t.Fatalf("error of no class: %v", err)
			}
			return
		}
		// It opened: the plaintext, decrypted independently, is the document.
		plain, _, _, err := openToken(bytes.TrimSpace(original), []*Key{key})
		if err != nil {
			t.Fatalf("opened, but the token does not decrypt: %v", err)
		}
		want, err := decode(plain, false)
		if err != nil {
			t.Fatalf("opened, but the plaintext does not parse: %v", err)
		}
		got, err := v.RevealJSON()
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, _ := encodeDocument(want)
		var indented bytes.Buffer
		json.Indent(&indented, wantJSON, "", "  ")
		indented.WriteByte('\n')
		if !bytes.Equal(got, indented.Bytes()) {
			t.Fatalf("document %s, want %s", got, indented.Bytes())
		}
	})
}

// FuzzPath: every path parsePath accepts formats back to itself, and every
// list of non-empty segments survives formatPath and parsePath.
func FuzzPath(f *testing.F) {
	for _, p := range []string{"database.password", `servers.db\.example\.com.password`, `a\\b.c`, "hosts.0", `\.\.`, "a..b", `a\`, "ключ.ü"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if segs, err := parsePath(p); err == nil {
			if back := formatPath(segs); back != p {
				t.Fatalf("formatPath(parsePath(%q)) = %q", p, back)
			}
		}
		// Read p as segments separated by NUL bytes.
		var segs []string
		for _, s := range strings.Split(p, "\x00") {
			if s != "" {
				segs = append(segs, s)
			}
		}
		if len(segs) == 0 {
			return
		}
		back, err := parsePath(formatPath(segs))
		if err != nil {
			t.Fatalf("parsePath(formatPath(%q)): %v", segs, err)
		}
		if strings.Join(back, "\x00") != strings.Join(segs, "\x00") {
			t.Fatalf("segments %q came back as %q", segs, back)
		}
	})
}

// FuzzFlatten: a document flattens as a plain reference does, building
// every name from its whole path: with an error at the same value, naming
// the same paths, or to the same variables, one per value (never two
// values under one name), with the names sorted, and with the size
// measured before.
func FuzzFlatten(f *testing.F) {
	f.Add(seedJSON, "")
	f.Add(`{"a_b": 1, "a": {"b": 2}}`, "")
	f.Add(`{"Key": 1, "key": 2}`, "X_")
	f.Add(`{"path": "/bin", "1st": "x"}`, "")
	f.Add(`{"a": [{"b": [1, 2]}, null, true]}`, "P_")
	f.Add(`{"a": "x\u0000", "b": {"c": 1, "C": 2}}`, "")
	f.Fuzz(func(t *testing.T, doc, prefix string) {
		parsed, err := ParseJSON([]byte(doc))
		if err != nil {
			return
		}
		vars, err := Flatten(parsed, prefix)
		secrets, _ := decode([]byte(doc), false)
		want, paths, wantErr := referenceFlatten(secrets, prefix)
		if (err == nil) != (wantErr == "") {
			t.Fatalf("Flatten: %v; the reference: %s", err, wantErr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("Flatten: %v; the reference: %s", err, wantErr)
			}
			return
		}
		if !maps.Equal(vars, want) {
			t.Fatalf("Flatten: %q; the reference: %q", vars, want)
		}
		// Each holds the value Get gives for its path.
		for name, from := range paths {
			segs, err := parsePath(from)
			if err != nil {
				continue // a path through an empty key, which no path can name
			}
			node, err := lookup("", from, secrets, segs)
			if err != nil {
				t.Fatal(err)
			}
			if value, _ := scalarText(node); vars[name] != value {
				t.Fatalf("%s = %q, want %q (the value at %q)", name, vars[name], value, from)
			}
		}
		// The names made in the document's order, sorted where the naming
		// rule reorders them, are the map's names sorted.
		sorted := slices.Sorted(maps.Keys(vars))
		if _, names, err := flatten("", secrets, prefix, nil, true, MaxEnvironSize); err != nil || !slices.Equal(names, sorted) {
			t.Fatalf("names %q (%v), want %q", names, err, sorted)
		}
		if names := sortedNames(vars); !slices.Equal(names, sorted) {
			t.Fatalf("sortedNames: %q, want %q", names, sorted)
		}
		// The measure taken first is of the variables made.
		bytes, largest := 0, 0
		for name, value := range vars {
			bytes += len(name) + len(value) + 2
			largest = max(largest, len(name)+len(value)+2)
		}
		if size := measure(secrets, prefix); size.vars != len(vars) || size.bytes != bytes || size.largest[0].size != largest {
			t.Fatalf("measured %d variables of %d bytes, the largest %d; made %d of %d, the largest %d", size.vars, size.bytes, size.largest[0].size, len(vars), bytes, largest)
		}
	})
}

// referenceFlatten flattens doc as Flatten does without its options, plainly:
// each value in the document's order, its name made from its whole path.
// It returns the variables and the path of each, or what the error must
// say: that the prefix cannot start a name, or, for the first value that
// cannot be one, its path (and the other's, for a name made twice) and its
// kind.
func referenceFlatten(doc node, prefix string) (vars, paths map[string]string, problem string) {
	if !isEnvName(prefix + "X") {
		return nil, nil, fmt.Sprintf("the prefix %q cannot start a shell variable name", prefix)
	}
	vars, paths = map[string]string{}, map[string]string{}
	var walk func(n node, segs []string) bool
	walk = func(n node, segs []string) bool {
		switch n.kind() {
		case kindObject:
			for _, m := range n.members() {
				if !walk(m.val, append(slices.Clip(segs), m.key)) {
					return false
				}
			}
			return true
		case kindArray:
			for i, x := range n.elems() {
				if !walk(x, append(slices.Clip(segs), strconv.Itoa(i))) {
					return false
				}
			}
			return true
		}
		var parts []string
		for _, s := range segs {
			parts = append(parts, string(appendEnvName(nil, s)))
		}
		name, path := prefix+strings.Join(parts, "_"), formatPath(segs)
		value, _ := scalarText(n)
		switch other, twice := paths[name]; {
		case !isEnvName(name):
			problem = fmt.Sprintf("%q would be the variable %q, which is not a shell variable name", path, name)
		case twice:
			problem = fmt.Sprintf("%q and %q both become the variable %s:", other, path, name)
		case isReserved(name):
			problem = fmt.Sprintf("%q would set %s, a reserved name", path, name)
		case strings.Contains(value, "\x00"):
			problem = fmt.Sprintf("the value at %q holds a NUL byte", path)
		case len(name)+len(value)+2 > MaxEnvString:
			problem = fmt.Sprintf("%s (from %q) would be %d bytes", name, path, len(name)+len(value)+2)
		default:
			vars[name], paths[name] = value, path
			return true
		}
		return false
	}
	if !walk(doc, nil) {
		return nil, nil, problem
	}
	return vars, paths, ""
}
