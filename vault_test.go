package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seedJSON is the seed blog post's example document, fake values, plus the
// cases the path rules must handle.
const seedJSON = `{
  "database": {"host": "db.example.com", "port": 5432, "username": "app_user", "password": "s3cret!P@ss"},
  "api_keys": {"stripe": "sk_live_xxxxx", "aws": "AKIAIOSFODNN7EXAMPLE"},
  "ssh": {"private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA..."},
  "servers": {"db.example.com": {"password": "dotted-key-secret"}, "back\\slash": "backslash-secret"},
  "hosts": ["alpha.example", "beta.example"],
  "numbers": {"big": 12345678901234567890, "float": 1.0, "exp": 1e400, "neg": -0.5},
  "flags": {"on": true, "off": false, "none": null},
  "empty": {}
}`

// seedValues lists the distinctive secret values of seedJSON, for leak checks.
var seedValues = []string{"s3cret!P@ss", "sk_live_xxxxx", "AKIAIOSFODNN7EXAMPLE", "MIIEpA", "dotted-key-secret", "backslash-secret", "app_user", "alpha.example"}

// sealSeed seals seedJSON with key into a new file and returns its path.
func sealSeed(t *testing.T, key *Key, opts ...SealOption) string {
	t.Helper()
	doc, err := ParseJSON([]byte(seedJSON))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "credentials.enc")
	if err := Seal(path, doc, key, opts...); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGet(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, want string }{
		{"database.password", "s3cret!P@ss"},
		{"database.host", "db.example.com"},
		{"database.port", "5432"},
		{"ssh.private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA..."},
		{`servers.db\.example\.com.password`, "dotted-key-secret"},
		{`servers.back\\slash`, "backslash-secret"},
		{"hosts.0", "alpha.example"},
		{"hosts.1", "beta.example"},
		{"numbers.big", "12345678901234567890"},
		{"numbers.float", "1.0"},
		{"numbers.exp", "1e400"},
		{"numbers.neg", "-0.5"},
		{"flags.on", "true"},
		{"flags.off", "false"},
		{"flags.none", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := v.Get(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Get(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestGetErrors(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		notFound bool
		says     string // a part of the message
	}{
		{"database.pasword", true, `"database" has no key "pasword"; it has "host", "password", "port", "username"`},
		{"nosuch", true, `the top level has no key "nosuch"`},
		{"hosts.2", true, "array of 2 elements, so there is no index 2"},
		{"hosts.01", true, "must be an index from 0 to 1"},
		{"hosts.x", true, "must be an index"},
		{"database.port.x", true, `"database.port" is a number, which has nothing inside it`},
		{"servers.db.example.com.password", true, `"servers" has no key "db"`},
		{"database", false, `"database" is an object, not a single value: ask for one of its keys ("host", "password", "port", "username"), e.g. "database.host"`},
		{"hosts", false, `"hosts" is an array of 2 elements, not a single value`},
		{"empty", false, "is an object"},
		{"", false, "the credential path is empty"},
		{"database..password", false, "empty segment"},
		{".database", false, "empty segment"},
		{"database.", false, "ends with a dot"},
		{`database\password`, false, "escapes nothing"},
		{`database\`, false, "escapes nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := v.Get(tt.path)
			if err == nil {
				t.Fatalf("Get(%q) succeeded", tt.path)
			}
			if got != "" {
				t.Errorf("Get returned a value with its error")
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v (%v)", !tt.notFound, tt.notFound, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q\ndoes not say %q", err, tt.says)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the vault file", err)
			}
			assertNoLeak(t, "error", err.Error(), seedValues...)
		})
	}

	var nf *NotFoundError
	_, err = v.Get("database.pasword")
	if !errors.As(err, &nf) {
		t.Fatalf("error is %T, want *NotFoundError", err)
	}
	if nf.Path != "database.pasword" || nf.At != "database" || nf.Missing != "pasword" || nf.Vault != path {
		t.Errorf("NotFoundError = %+v", *nf)
	}
}

func TestOpenErrors(t *testing.T) {
	key, other := GenerateKey(), GenerateKey()
	dir := t.TempDir()
	good := sealSeed(t, key)
	token, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sealRaw := func(name string, plain string) string {
		tok, err := sealToken([]byte(plain), key, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return write(name, tok)
	}
	tests := []struct {
		name string
		path string
		keys []*Key
		want error
		says string
	}{
		{"wrong key", good, []*Key{other}, ErrWrongKey, "wrong key: the keyring's only key (fingerprint " + other.Fingerprint() + ") does not open it, or the file was changed"},
		{"wrong keys", good, []*Key{other, other}, ErrWrongKey, "neither of the keyring's 2 keys"},
		{"empty file", write("empty", nil), []*Key{key}, ErrMalformed, "the file is empty"},
		{"whitespace only", write("blank", []byte(" \r\n")), []*Key{key}, ErrMalformed, "the file is empty"},
		{"binary garbage", write("garbage", []byte{0x00, 0x9f, 0xff, 0x13, 0x37, 0x00, 0x01, 0x02}), []*Key{key}, ErrMalformed, "not URL-safe base64"},
		{"plaintext JSON", write("plain.json", []byte(seedJSON)), []*Key{key}, ErrMalformed, "looks like plaintext JSON"},
		{"truncated", write("truncated", token[:len(token)/2]), []*Key{key}, ErrMalformed, "not a sealed vault"},
		{"CRLF inside", write("crlf", append(append(bytes.Clone(token[:60]), "\r\n"...), token[60:]...)), []*Key{key}, ErrMalformed, "a line break at character 61"},
		{"array plaintext", sealRaw("array", "[1,2]"), []*Key{key}, ErrNotJSON, "a JSON array, not an object"},
		{"string plaintext", sealRaw("string", `"x"`), []*Key{key}, ErrNotJSON, "a JSON string, not an object"},
		{"not JSON", sealRaw("notjson", "password=hunter2-secret"), []*Key{key}, ErrNotJSON, "not valid JSON (syntax error at byte 1)"},
		{"empty plaintext", sealRaw("emptyplain", ""), []*Key{key}, ErrNotJSON, "plaintext is empty"},
		{"trailing data", sealRaw("trailing", `{"a":"b"} {"c":"hunter2-secret"}`), []*Key{key}, ErrNotJSON, "followed by more data"},
		{"invalid UTF-8", sealRaw("utf8", "{\"a\":\"\xff\xfe\"}"), []*Key{key}, ErrNotJSON, "not valid UTF-8"},
		{"deep nesting", sealRaw("deep", strings.Repeat(`{"a":`, 10001)+"1"+strings.Repeat("}", 10001)), []*Key{key}, ErrNotJSON, "nested deeper"},
		{"missing file", filepath.Join(dir, "nope.enc"), []*Key{key}, fs.ErrNotExist, "seal a new vault there"},
		{"directory", dir, []*Key{key}, nil, "is a directory"},
		{"no keys", good, nil, nil, "no key given"},
		{"nil key", good, []*Key{nil}, nil, "key 1 of the keyring is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Open(tt.path, tt.keys)
			if v != nil || err == nil {
				t.Fatalf("Open succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v\nis not %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q\ndoes not say %q", err, tt.says)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
			if !strings.HasPrefix(err.Error(), "vault: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			assertNoLeak(t, "error", err.Error(), append(seedValues, "hunter2-secret", key.Encode(), other.Encode())...)
		})
	}
}

func TestOpenTolerance(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	token, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"trailing newline": append(bytes.Clone(token), '\n'),
		"CRLF":             append(bytes.Clone(token), '\r', '\n'),
		"surrounding":      append(append([]byte(" \n\t"), token...), " \r\n\n"...),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			v, err := Open(path, []*Key{key})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := v.Get("database.password"); got != "s3cret!P@ss" {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestKeyringOpensWithAnyKey(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	path := sealSeed(t, oldKey)
	v, err := Open(path, []*Key{newKey, oldKey})
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyIndex() != 1 || v.KeyFingerprint() != oldKey.Fingerprint() {
		t.Errorf("opened by key %d (%s), want 1 (%s)", v.KeyIndex(), v.KeyFingerprint(), oldKey.Fingerprint())
	}
}

func TestMaxAge(t *testing.T) {
	key := GenerateKey()
	sealedAt := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	path := sealSeed(t, key, WithClock(func() time.Time { return sealedAt }))
	at := func(d time.Duration) Option { return WithClock(func() time.Time { return sealedAt.Add(d) }) }

	tests := []struct {
		name   string
		now    time.Duration
		maxAge time.Duration
		want   error
	}{
		{"young enough", time.Hour, 2 * time.Hour, nil},
		{"exactly the max age", 2 * time.Hour, 2 * time.Hour, nil},
		{"too old", 2*time.Hour + time.Second, 2 * time.Hour, ErrExpired},
		{"no max age", 1000 * time.Hour, 0, nil},
		{"within the clock skew", -59 * time.Second, time.Hour, nil},
		{"from the future", -61 * time.Second, time.Hour, ErrExpired},
		{"from the future without a max age", -time.Hour, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Open(path, []*Key{key}, WithMaxAge(tt.maxAge), at(tt.now))
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if err != nil {
				if v != nil {
					t.Error("an expired vault was returned")
				}
				return
			}
			if !v.SealedAt().Equal(sealedAt) {
				t.Errorf("SealedAt() = %v, want %v", v.SealedAt(), sealedAt)
			}
		})
	}
}

func TestOpenFS(t *testing.T) {
	key := GenerateKey()
	token, err := os.ReadFile(sealSeed(t, key))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"secrets/credentials.enc": {Data: token}}
	v, err := OpenFS(fsys, "secrets/credentials.enc", []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get("api_keys.aws"); got != "AKIAIOSFODNN7EXAMPLE" {
		t.Errorf("got %q", got)
	}
	if _, err := OpenFS(fsys, "missing.enc", []*Key{key}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	key := GenerateKey()
	secrets := map[string]any{
		"s":      "text with \"quotes\", \\, \n, \t, \x01, <html> & ünïcode 🔑",
		"int":    42,
		"int64":  int64(-9007199254740993),
		"uint64": uint64(18446744073709551615),
		"float":  0.1,
		"bool":   true,
		"nil":    nil,
		"num":    json.Number("1.50"),
		"list":   []string{"a", "b"},
		"map":    map[string]string{"k": "v"},
		"nested": map[string]any{"a.b": []any{1, "x", map[string]any{}}},
	}
	path := filepath.Join(t.TempDir(), "v.enc")
	if err := Seal(path, secrets, key); err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"s":      secrets["s"],
		"int":    json.Number("42"),
		"int64":  json.Number("-9007199254740993"),
		"uint64": json.Number("18446744073709551615"),
		"float":  json.Number("0.1"),
		"bool":   true,
		"nil":    nil,
		"num":    json.Number("1.50"),
		"list":   []any{"a", "b"},
		"map":    map[string]any{"k": "v"},
		"nested": map[string]any{"a.b": []any{json.Number("1"), "x", map[string]any{}}},
	}
	if diff := cmp.Diff(want, toAny(*v.doc())); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("vault mode %04o, want 0600", info.Mode().Perm())
	}
}

func TestSealRefuses(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "v.enc")
	type db struct {
		Host  string  `json:"host"`
		Ratio float64 `json:"ratio"`
		Inner struct {
			Note string
		} `json:"inner"`
	}
	bad := db{Ratio: nilFloat()}
	badText := db{}
	badText.Inner.Note = "ok\xffno"
	tests := map[string]struct {
		secrets any
		says    string
	}{
		"channel":                 {map[string]any{"a": map[string]any{"b": make(chan int)}}, `the value at "a.b", of Go type chan int, cannot be encoded as JSON: a vault cannot hold a chan int`},
		"invalid UTF-8":           {map[string]any{"x": "\xff"}, `the value at "x" is not valid UTF-8`},
		"NaN":                     {map[string]any{"f": []any{nilFloat()}}, `"f.0" is NaN or infinite`},
		"bad json.Number":         {map[string]any{"n": json.Number("0x10")}, `"n" is a json.Number that is not a JSON number`},
		"NaN in a struct":         {map[string]any{"db": bad}, `the value at "db.ratio" is NaN or infinite`},
		"invalid UTF-8 in struct": {map[string]any{"db": []db{{}, badText}}, `the value at "db.1.inner.Note" is not valid UTF-8`},
		"invalid UTF-8 in a map":  {map[string]map[string]string{"a": {"k": "\xfe"}}, `the value at "a.k" is not valid UTF-8`},
		"a RawMessage not JSON":   {map[string]any{"raw": json.RawMessage(`{"a":`)}, `"raw", of Go type json.RawMessage, cannot be encoded as JSON`},
		"a RawMessage not UTF-8":  {map[string]any{"raw": json.RawMessage("\"\xff\"")}, `"raw", of Go type json.RawMessage, encodes to JSON that a vault cannot hold: not valid UTF-8`},
		"a failing Marshaler":     {map[string]any{"m": failingMarshaler{}}, `the vault.failingMarshaler type's MarshalJSON or MarshalText failed (its message is not shown`},
		"an array at the top":     {[]string{"a"}, `the secrets (Go type []string) encode as an array, not as a JSON object`},
		"a number at the top":     {uint8(7), `encode as a number, not as a JSON object`},
		"nil":                     {nil, `the secrets are nil: to seal an empty vault, pass map[string]any{}`},
		"a nil map":               {map[string]any(nil), `the secrets are a nil map[string]interface {}: to seal an empty vault, pass map[string]any{}`},
		"a nil map of strings":    {map[string]string(nil), `a nil map[string]string: to seal an empty vault`},
		"a nil pointer":           {(*db)(nil), `a nil *vault.db: to seal an empty vault`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := Seal(path, tt.secrets, key)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("error %v, want one saying %q", err, tt.says)
			}
			assertNoLeak(t, "error", err.Error(), "s3cret-in-error")
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Error("a refused Seal wrote a file")
			}
		})
	}
	if err := Seal(path, nil, nil); err == nil {
		t.Error("Seal without a key succeeded")
	}
}

// TestNilSecretsEmptyNothing: nil, a nil map or a nil pointer given for a
// whole document is refused everywhere, and a full vault keeps its
// secrets: a nil map encoded as {} and emptied it silently.
func TestNilSecretsEmptyNothing(t *testing.T) {
	key := GenerateKey()
	path := sealSeed(t, key)
	before, _ := os.ReadFile(path)
	for name, secrets := range map[string]any{"nil": nil, "nil map": map[string]any(nil), "nil pointer": (*struct{ A string })(nil)} {
		t.Run(name, func(t *testing.T) {
			if err := Seal(path, secrets, key); err == nil || !strings.Contains(err.Error(), "pass map[string]any{}") {
				t.Errorf("Seal: %v", err)
			}
			var buf bytes.Buffer
			if err := SealTo(&buf, "mem", secrets, key); err == nil || buf.Len() > 0 {
				t.Errorf("SealTo: %v, %d bytes written", err, buf.Len())
			}
			err := Update(path, []*Key{key}, func(tx *Tx) error { return tx.Replace(secrets) })
			if err == nil || !strings.Contains(err.Error(), "to empty the vault, pass map[string]any{}") {
				t.Errorf("Replace: %v", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the vault changed")
			}
		})
	}
	if err := Seal(path, map[string]any{}, key); err != nil {
		t.Errorf("sealing an empty vault on purpose: %v", err)
	}
}

func nilFloat() float64 { var z float64; return z / z }

// failingMarshaler fails with a message that quotes a secret, as a careless
// MarshalJSON might.
type failingMarshaler struct{}

func (failingMarshaler) MarshalJSON() ([]byte, error) {
	return nil, errors.New("cannot marshal s3cret-in-error")
}

func TestVaultNeverPrints(t *testing.T) {
	key := GenerateKey()
	v, err := Open(sealSeed(t, key), []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	type holder struct {
		v   Vault
		ptr *Vault
	}
	h := holder{*v, v}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, v), fmt.Sprintf(verb, *v), fmt.Sprintf(verb, h))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("opened", "vault", v, "h", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("opened", "vault", *v)
	outputs = append(outputs, buf.String())
	// Encoders that walk exported fields: a Vault in one shows nothing.
	exported := struct {
		V   Vault
		Ptr *Vault
	}{*v, v}
	j, err := json.Marshal(exported)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j), fmt.Sprintf("%+v", exported))
	for _, out := range outputs {
		assertNoLeak(t, "formatted vault", out, append(seedValues, key.Encode())...)
	}
	if want := fmt.Sprintf("vault.Vault(%s, 18 secrets)", v.Name()); v.String() != want {
		t.Errorf("String() = %q, want %q", v.String(), want)
	}
}

func TestRevealJSON(t *testing.T) {
	key := GenerateKey()
	path := filepath.Join(t.TempDir(), "v.enc")
	if err := Seal(path, map[string]any{"b": map[string]any{"z": 1, "a": "x"}, "a": json.Number("1.0")}, key); err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.RevealJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"a\": 1.0,\n  \"b\": {\n    \"a\": \"x\",\n    \"z\": 1\n  }\n}\n"
	if string(got) != want {
		t.Errorf("RevealJSON() = %q, want %q", got, want)
	}
}

// TestZeroVault: a Vault that Open did not return (the zero Vault, a nil
// *Vault) answers every method with ErrNotOpened or a zero result, never
// a panic. Before, v.Get on the zero Vault was a nil dereference.
func TestZeroVault(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    *Vault
	}{{"zero", &Vault{}}, {"nil", nil}} {
		v := tt.v
		calls := map[string]func() error{
			"Get":        func() error { _, err := v.Get("a"); return err },
			"GetContext": func() error { _, err := v.GetContext(context.Background(), "a"); return err },
			"Flatten":    func() error { _, err := v.Flatten(""); return err },
			"Environ":    func() error { _, err := v.Environ(""); return err },
			"Export":     func() error { return v.Export(io.Discard, ExportJSON, "") },
			"RevealJSON": func() error { _, err := v.RevealJSON(); return err },
			"Run":        func() error { return v.Run(context.Background(), &Command{Args: []string{"true"}}) },
		}
		for name, call := range calls {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				if err := call(); !errors.Is(err, ErrNotOpened) {
					t.Errorf("error %v, want ErrNotOpened", err)
				}
			})
		}
		t.Run(tt.name+"/accessors", func(t *testing.T) {
			if v.Len() != 0 || v.KeyIndex() != -1 || v.KeyFingerprint() != "" || v.Name() != "" || !v.SealedAt().IsZero() {
				t.Errorf("Len %d, KeyIndex %d, KeyFingerprint %q, Name %q, SealedAt %v", v.Len(), v.KeyIndex(), v.KeyFingerprint(), v.Name(), v.SealedAt())
			}
			if got := fmt.Sprint(v); got != "vault.Vault(invalid)" && got != "<nil>" {
				t.Errorf("printed as %q", got)
			}
		})
	}
}

// TestOpenAllocatesLittle: opening a vault of many short values in small
// objects (the shape of issue 16's compact vault, 20,000 values) allocates
// less than twice the file's size, the file's own buffer included: the
// document shares the decrypted buffer and costs its members, not a map
// per object and a box per value. Allocation is counted, not timed; the
// least of a few runs, so that another goroutine's garbage does not count.
func TestOpenAllocatesLittle(t *testing.T) {
	key := mustKey(t, testKeyText)
	doc := map[string]any{}
	for i := range 5000 {
		svc := map[string]any{}
		for j, k := range []string{"host", "user", "password", "token"} {
			svc[k] = strings.Repeat(string(rune('a'+(i+j)%26)), 32+(i*7+j)%16)
		}
		doc[fmt.Sprintf("service%05d", i)] = svc
	}
	path := filepath.Join(t.TempDir(), "compact.enc")
	if err := Seal(path, doc, key); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	least := uint64(1 << 62)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v, err := Open(path, []*Key{key})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if v.Len() != 20000 {
			t.Fatalf("%d values", v.Len())
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	if ratio := float64(least) / float64(info.Size()); ratio > 2 {
		t.Errorf("Open allocated %d bytes for a file of %d: %.2f times its size, want at most 2", least, info.Size(), ratio)
	}
}
