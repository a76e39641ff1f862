package vault

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// testKeyText is an obviously fake key: the Fernet spec's test secret.
const testKeyText = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="

func mustKey(t testing.TB, s string) *Key {
	t.Helper()
	k, err := ParseKey(s)
	if err != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	return k
}

func TestParseKeyForms(t *testing.T) {
	raw, _ := base64.URLEncoding.DecodeString(testKeyText)
	forms := map[string]string{
		"python":            testKeyText,
		"standard base64":   base64.StdEncoding.EncodeToString(raw),
		"unpadded URL-safe": base64.RawURLEncoding.EncodeToString(raw),
		"unpadded standard": base64.RawStdEncoding.EncodeToString(raw),
		"hex":               hex.EncodeToString(raw),
		"upper-case hex":    strings.ToUpper(hex.EncodeToString(raw)),
		"trailing newline":  testKeyText + "\n",
		"CRLF":              testKeyText + "\r\n",
		"surrounding space": "  \t" + testKeyText + " \n",
	}
	for name, s := range forms {
		t.Run(name, func(t *testing.T) {
			k, err := ParseKey(s)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if got := k.Encode(); got != testKeyText {
				t.Errorf("Encode() = %q, want %q", got, testKeyText)
			}
		})
	}
}

func TestParseKeyErrors(t *testing.T) {
	raw, _ := base64.URLEncoding.DecodeString(testKeyText)
	bad := map[string]string{
		"empty":           "",
		"only whitespace": " \r\n",
		"too short":       base64.URLEncoding.EncodeToString(raw[:16]),
		"too long":        base64.URLEncoding.EncodeToString(append(raw, raw...)),
		"not base64":      "cw_0x689RpI-jtRR7oE8h_eQsKImvJap!eSbXpwF4e4=",
		"inner space":     "cw_0x689RpI-jtRR7oE8h_eQs KImvJapLeSbXpwF4e4=",
		"mixed alphabets": "cw_0x689RpI+jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
		"hex too short":   hex.EncodeToString(raw[:31]),
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			k, err := ParseKey(s)
			if err == nil {
				t.Fatalf("ParseKey succeeded with fingerprint %s", k.Fingerprint())
			}
			if !strings.HasPrefix(err.Error(), "vault: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) > 3 && strings.Contains(err.Error(), trimmed) {
				t.Errorf("error quotes the key: %q", err)
			}
			assertNoLeak(t, "error", err.Error(), testKeyText, "cw_0x689RpI")
		})
	}
}

func TestParseKeyring(t *testing.T) {
	a, b, c := GenerateKey().Encode(), GenerateKey().Encode(), GenerateKey().Encode()
	good := map[string][]string{
		"one":                {a},
		"commas":             {a, b, c},
		"commas and spaces":  {a, b},
		"newlines":           {a, b, c},
		"key file with CRLF": {a, b},
	}
	inputs := map[string]string{
		"one":                a,
		"commas":             a + "," + b + "," + c,
		"commas and spaces":  a + ", " + b,
		"newlines":           a + "\n" + b + "\n" + c + "\n",
		"key file with CRLF": a + "\r\n" + b + "\r\n",
	}
	for name, want := range good {
		t.Run(name, func(t *testing.T) {
			keys, err := ParseKeyring(inputs[name])
			if err != nil {
				t.Fatalf("ParseKeyring: %v", err)
			}
			if len(keys) != len(want) {
				t.Fatalf("got %d keys, want %d", len(keys), len(want))
			}
			for i, k := range keys {
				if k.Encode() != want[i] {
					t.Errorf("key %d differs", i)
				}
			}
		})
	}

	bad := map[string]string{
		"empty":                  "",
		"blank":                  " \n",
		"empty element":          a + ",," + b,
		"leading comma (unset)":  "," + b,
		"trailing comma (unset)": a + ",",
		"bad second key":         a + "," + b[:20],
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKeyring(s); err == nil {
				t.Fatal("ParseKeyring succeeded")
			} else {
				assertNoLeak(t, "error", err.Error(), a, b, b[:20])
			}
		})
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := mustKey(t, testKeyText)
	raw, _ := base64.URLEncoding.DecodeString(testKeyText)
	type holder struct {
		name string
		key  Key  // an unexported value field: fmt prints those by reflection
		ptr  *Key // and pointers at depth
	}
	h := holder{"h", *k, k}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p"} {
		outputs = append(outputs, fmt.Sprintf(verb, k), fmt.Sprintf(verb, *k), fmt.Sprintf(verb, h), fmt.Sprintf(verb, []*Key{k}))
	}
	outputs = append(outputs, fmt.Sprint(k), fmt.Sprintln(*k), k.String(), k.GoString())

	for _, handler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(handler(&buf)).Info("key", "k", k, "v", *k, "any", slog.AnyValue(k), "h", h)
		outputs = append(outputs, buf.String())
	}
	j, err := json.Marshal(map[string]any{"k": k, "v": *k, "h": h})
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))

	forms := []string{testKeyText, base64.StdEncoding.EncodeToString(raw), hex.EncodeToString(raw), string(raw), fmt.Sprint(raw)}
	for _, out := range outputs {
		assertNoLeak(t, "formatted key", out, forms...)
	}
	if want := "vault.Key(" + k.Fingerprint() + ")"; fmt.Sprint(k) != want {
		t.Errorf("Sprint(key) = %q, want %q", fmt.Sprint(k), want)
	}
}

func TestFingerprint(t *testing.T) {
	k := mustKey(t, testKeyText)
	if fp := k.Fingerprint(); len(fp) != 12 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint() = %q, want 12 hex digits", fp)
	}
	if k.Fingerprint() != mustKey(t, testKeyText+"\n").Fingerprint() {
		t.Error("the same key has two fingerprints")
	}
	if k.Fingerprint() == GenerateKey().Fingerprint() {
		t.Error("two keys share a fingerprint")
	}
}

func TestGenerateKey(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	if a.Encode() == b.Encode() {
		t.Fatal("two generated keys are equal")
	}
	if len(a.Encode()) != 44 {
		t.Errorf("encoded key has %d characters, want 44", len(a.Encode()))
	}
	if _, err := ParseKey(a.Encode()); err != nil {
		t.Errorf("a generated key does not parse: %v", err)
	}
}
