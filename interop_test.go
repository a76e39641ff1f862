package vault

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The real peer: Python's cryptography.fernet, from Debian's
// python3-cryptography, run by /usr/bin/python3. The tests skip without it,
// except in CI (CI set), where .ci/run installs it and a skip would hide a
// missing interop proof.
const systemPython = "/usr/bin/python3"

func requirePython(t *testing.T) {
	t.Helper()
	err := exec.Command(systemPython, "-c", "import cryptography.fernet").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but %s cannot import cryptography (%v): install python3-cryptography", systemPython, err)
	}
	t.Skipf("%s cannot import cryptography (%v); install python3-cryptography to run the interop tests", systemPython, err)
}

// runPython runs script with the environment variables env (keys travel in
// the environment, never in argv) and returns its standard output.
func runPython(t *testing.T, script string, env ...string) []byte {
	t.Helper()
	cmd := exec.Command(systemPython, "-c", script)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	return out
}

// interopJSON exercises what JSON can carry between the two: nesting,
// escapes, non-ASCII text, big and decimal numbers, booleans and null.
const interopJSON = `{
  "database": {"host": "db.example.com", "port": 5432, "username": "app_user", "password": "s3cret!P@ss"},
  "api_keys": {"stripe": "sk_live_xxxxx", "aws": "AKIAIOSFODNN7EXAMPLE"},
  "ssh": {"private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA...\n-----END RSA PRIVATE KEY-----\n"},
  "odd": {"quotes": "it's \"quoted\" \\ back", "unicode": "pässwörd 🔑 日本", "tab": "a\tb", "empty": ""},
  "servers": {"db.example.com": {"password": "dotted"}},
  "hosts": ["alpha", "beta"],
  "numbers": {"big": 12345678901234567890, "float": 1.0, "neg": -17, "small": 1.5e-10},
  "flags": {"on": true, "off": false, "none": null}
}`

// interopPaths are the credential paths checked in each direction, with the
// text Get must give.
var interopPaths = map[string]string{
	"database.password":                 "s3cret!P@ss",
	"database.port":                     "5432",
	"ssh.private_key":                   "-----BEGIN RSA PRIVATE KEY-----\nMIIEpA...\n-----END RSA PRIVATE KEY-----\n",
	"odd.quotes":                        `it's "quoted" \ back`,
	"odd.unicode":                       "pässwörd 🔑 日本",
	"odd.tab":                           "a\tb",
	"odd.empty":                         "",
	`servers.db\.example\.com.password`: "dotted",
	"hosts.1":                           "beta",
	"numbers.big":                       "12345678901234567890",
	"numbers.float":                     "1.0",
	"numbers.neg":                       "-17",
	"numbers.small":                     "1.5e-10",
	"flags.on":                          "true",
	"flags.none":                        "",
}

func TestPythonSealsGoOpens(t *testing.T) {
	requirePython(t)
	for name, dumps := range map[string]string{
		"json.dumps":           "json.dumps(secrets)",
		"seed's indent=2":      "json.dumps(secrets, indent=2)",
		"ensure_ascii=False":   "json.dumps(secrets, ensure_ascii=False)",
		"compact, sorted keys": "json.dumps(secrets, separators=(',', ':'), sort_keys=True)",
	} {
		t.Run(name, func(t *testing.T) {
			key := GenerateKey()
			path := filepath.Join(t.TempDir(), "credentials.enc")
			runPython(t, `
import json, os
from cryptography.fernet import Fernet
secrets = json.loads(os.environ["SECRETS"])
with open(os.environ["VAULT"], "wb") as f:
    f.write(Fernet(os.environ["KEY"].encode()).encrypt(`+dumps+`.encode()))
`, "KEY="+key.Encode(), "VAULT="+path, "SECRETS="+interopJSON)

			v, err := Open(path, []*Key{key})
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range interopPaths {
				got, err := v.Get(p)
				if err != nil {
					t.Errorf("Get(%q): %v", p, err)
				} else if got != want {
					t.Errorf("Get(%q) = %q, want %q", p, got, want)
				}
			}
		})
	}
}

func TestGoSealsPythonOpens(t *testing.T) {
	requirePython(t)
	key := GenerateKey()
	doc, err := ParseJSON([]byte(interopJSON))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "credentials.enc")
	if err := Seal(path, doc, key); err != nil {
		t.Fatal(err)
	}
	// ttl=60: Python checks the timestamp we wrote, too.
	out := runPython(t, `
import json, os, sys
from cryptography.fernet import Fernet
with open(os.environ["VAULT"], "rb") as f:
    plain = Fernet(os.environ["KEY"].encode()).decrypt(f.read(), ttl=60)
sys.stdout.write(json.dumps(json.loads(plain), sort_keys=True))
`, "KEY="+key.Encode(), "VAULT="+path)

	var got, want any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python printed %d bytes that are not JSON: %v", len(out), err)
	}
	if err := json.Unmarshal([]byte(interopJSON), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Python read a different document (-want +got):\n%s", diff)
	}
	// Exact number text: Python parses 12345678901234567890 as an int and
	// 1.0 as a float, and prints them back the same.
	for _, text := range []string{`"big": 12345678901234567890`, `"float": 1.0`} {
		if !bytes.Contains(out, []byte(text)) {
			t.Errorf("Python's view lacks %s", text)
		}
	}
}

func TestPythonMultiFernetKeyring(t *testing.T) {
	requirePython(t)
	oldKey, newKey := GenerateKey(), GenerateKey()
	dir := t.TempDir()
	oldVault, rotated := filepath.Join(dir, "old.enc"), filepath.Join(dir, "rotated.enc")
	runPython(t, `
import json, os
from cryptography.fernet import Fernet, MultiFernet
old, new = Fernet(os.environ["OLD"].encode()), Fernet(os.environ["NEW"].encode())
token = old.encrypt(json.dumps({"database": {"password": "rotate-me"}}).encode())
open(os.environ["OLD_VAULT"], "wb").write(token)
open(os.environ["ROTATED"], "wb").write(MultiFernet([new, old]).rotate(token))
`, "OLD="+oldKey.Encode(), "NEW="+newKey.Encode(), "OLD_VAULT="+oldVault, "ROTATED="+rotated)

	// MASTER_KEY="new,old", as during a rotation window.
	ring, err := ParseKeyring(strings.Join([]string{newKey.Encode(), oldKey.Encode()}, ","))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path  string
		index int
	}{{oldVault, 1}, {rotated, 0}} {
		v, err := Open(tt.path, ring)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(tt.path), err)
		}
		if v.KeyIndex() != tt.index {
			t.Errorf("%s opened with key %d, want %d", filepath.Base(tt.path), v.KeyIndex(), tt.index)
		}
		if got, _ := v.Get("database.password"); got != "rotate-me" {
			t.Errorf("%s: got %q", filepath.Base(tt.path), got)
		}
	}
	// Python's rotate keeps the original timestamp.
	a, _ := Open(oldVault, ring)
	b, _ := Open(rotated, ring)
	if !a.SealedAt().Equal(b.SealedAt()) {
		t.Errorf("MultiFernet.rotate changed the timestamp: %v -> %v", a.SealedAt(), b.SealedAt())
	}
	// The old key alone cannot open the rotated vault.
	if _, err := Open(rotated, []*Key{oldKey}); err == nil {
		t.Error("the old key opened the rotated vault")
	}
}
