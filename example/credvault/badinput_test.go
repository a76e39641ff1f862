package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credvault/vault"
)

// TestCLIBadInput is the command line's side of the bad-input table (the
// library's is TestBadInput in the root package): each case's exit status,
// the words its message holds, and no value or key on stdout or stderr.
func TestCLIBadInput(t *testing.T) {
	dir := t.TempDir()
	key, other := vault.GenerateKey(), vault.GenerateKey()
	path := func(name string) string { return filepath.Join(dir, name) }
	write := func(name, data string) string {
		if err := os.WriteFile(path(name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path(name)
	}
	good := path("good.enc")
	if err := vault.Seal(good, map[string]any{"db": map[string]any{"password": "cli-bad-input-secret", "key": "-----BEGIN\nline-two-secret"}}, key); err != nil {
		t.Fatal(err)
	}
	keyFile := path("master.key")
	if err := vault.SaveKey(keyFile, key); err != nil {
		t.Fatal(err)
	}
	if err := vault.SaveKey(path("other.key"), other); err != nil {
		t.Fatal(err)
	}
	write("empty.enc", "")
	write("plain.json", `{"db": {"password": "cli-bad-input-secret"}}`)
	write("dup.json", `{"a": "cli-bad-input-secret", "a": "x"}`)
	write("notakey", "cli-bad-input-secret\n")
	huge := path("huge.enc")
	if f, err := os.Create(huge); err == nil {
		f.Truncate(200 << 20)
		f.Close()
	}
	env := map[string]string{"MASTER_KEY": key.Encode(), "WRONG": other.Encode(), "EMPTY": "", "PATH": os.Getenv("PATH")}

	tests := []struct {
		name   string
		args   []string
		status int
		says   []string
	}{
		{"no key set", []string{"get", "-key-env", "EMPTY", "-vault", good, "db.password"}, 1, []string{"$EMPTY is not set", "-key-file"}},
		{"wrong key", []string{"get", "-key-env", "WRONG", "-vault", good, "db.password"}, 1, []string{"good.enc: wrong key", "hint: the keyring came from $WRONG"}},
		{"missing file", []string{"get", "-vault", path("nope.enc"), "db.password"}, 1, []string{"cannot read", "nope.enc", "credvault seal"}},
		{"typo in the path", []string{"get", "-vault", good, "db.pasword"}, 1, []string{`no credential "db.pasword"`, `it has "key", "password"`}},
		{"not a vault", []string{"get", "-vault", path("plain.json"), "db.password"}, 1, []string{"plain.json is not a sealed vault", "hint: if this is the plaintext JSON"}},
		{"a key file as the vault", []string{"get", "-vault", path("other.key"), "db.password"}, 1, []string{"other.key is a key file (a Fernet key), not a vault", "hint: pass the vault with -vault FILE, and a key file with -key-file FILE"}},
		{"the key file as the vault too", []string{"get", "-key-file", keyFile, "-vault", keyFile, "db.password"}, 2, []string{"the vault " + keyFile + " is also the key file " + keyFile + ": one file cannot be both"}},
		{"empty vault file", []string{"get", "-vault", path("empty.enc"), "db.password"}, 1, []string{"empty.enc is not a sealed vault: the file is empty"}},
		{"a directory", []string{"get", "-vault", dir, "db.password"}, 1, []string{"is a directory"}},
		{"a 200 MB file", []string{"get", "-vault", huge, "db.password"}, 1, []string{"more than the 64 MiB"}},
		{"expired", []string{"get", "-max-age", "1ns", "-vault", good, "db.password"}, 1, []string{"older than the maximum age of 1ns"}},
		{"a path to an object", []string{"get", "-vault", good, "db"}, 1, []string{`"db" is an object, not a single value`}},
		{"duplicate keys in seal's input", []string{"seal", "-vault", path("new.enc"), path("dup.json")}, 1, []string{`dup.json: the input is ambiguous: the key "a" appears twice`}},
		{"key file missing", []string{"get", "-key-file", path("none.key"), "-vault", good, "x"}, 1, []string{"none.key does not exist"}},
		{"key file not a key", []string{"get", "-key-file", path("notakey"), "-vault", good, "x"}, 1, []string{"key file", "notakey", "decodes to 15 bytes, want 32"}},
		{"keygen over a key", []string{"keygen", "-o", keyFile}, 1, []string{"already exists", "never overwritten"}},
		{"rotate without a new key", []string{"rotate", "-vault", good}, 2, []string{"exactly one of -new-key-file FILE and -new-key-env NAME"}},
		{"an audit log that cannot be opened", []string{"get", "-audit", path("no/such/dir/audit"), "-vault", good, "db.password"}, 1, []string{"cannot open the audit log"}},
		{"an audit log that is a device", []string{"get", "-audit", "/dev/full", "-vault", good, "db.password"}, 1, []string{"the audit log /dev/full is a device"}},
		{"github without GITHUB_ENV", []string{"env", "-format", "github", "-vault", good}, 1, []string{"$GITHUB_ENV is not set"}},
		{"azure and a multi-line secret", []string{"env", "-format", "azure", "-vault", good}, 1, []string{"DB_KEY holds a line break", "Azure Pipelines refuses multi-line secrets"}},
		{"an unknown format", []string{"env", "-format", "yaml", "-vault", good}, 2, []string{`invalid value "yaml" for flag -format: use one of shell`}},
		{"an unknown flag", []string{"get", "-nope", "x"}, 2, []string{"flag provided but not defined: -nope", "run 'credvault get -h' for usage"}},
		{"an unknown command", []string{"fetch"}, 2, []string{`unknown command "fetch"`}},
		{"get without a path", []string{"get", "-vault", good}, 2, []string{"get takes one credential PATH"}},
		{"a bad -max-age", []string{"get", "-max-age", "soon", "x"}, 2, []string{`invalid value "soon" for flag -max-age`}},
		{"exec without a command", []string{"exec", "-vault", good}, 2, []string{"exec needs a command"}},
		{"exec of a missing command", []string{"exec", "-vault", good, "--", "no-such-program-zz"}, 127, []string{"no-such-program-zz: command not found"}},
		{"exec of a failing command", []string{"exec", "-vault", good, "--", "sh", "-c", "echo $DB_PASSWORD; exit 9"}, 9, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			c := &cli{
				stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv:  func(name string) string { return env[name] },
				environ: func() []string { return []string{"PATH=" + env["PATH"]} },
			}
			if status := run(tt.args, c); status != tt.status {
				t.Errorf("exit status %d, want %d\n%s", status, tt.status, stderr.String())
			}
			for _, w := range tt.says {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
			for where, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				assertNoLeak(t, where, out, "cli-bad-input-secret", "line-two-secret", key.Encode(), other.Encode())
			}
		})
	}
	if _, err := os.Stat(path("new.enc")); !os.IsNotExist(err) {
		t.Error("a refused seal wrote its vault")
	}
}
