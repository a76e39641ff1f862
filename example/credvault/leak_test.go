package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/internal/leakcheck"
)

// assertNoLeak is leakcheck.NoSecrets, the suite's one leak check.
func assertNoLeak(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	leakcheck.NoSecrets(t, where, text, secrets...)
}

// TestNoCommandLeaks runs every command, succeeding and failing, over a
// vault of distinctive values, and checks that no value and no key appears
// on stderr, in the audit log, or on stdout of a command whose job is not to
// print values.
func TestNoCommandLeaks(t *testing.T) {
	dir := t.TempDir()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(cwd) })
	key, newKey, wrongKey := vault.GenerateKey(), vault.GenerateKey(), vault.GenerateKey()
	secrets := []string{"Zq9-leak-canary-password", "leak-canary-api-token-77", "line1-canary\nline2-canary", "leak-canary-new-value"}
	keys := []string{key.Encode(), newKey.Encode(), wrongKey.Encode(), key.Encode()[:20]}
	if err := os.WriteFile("secrets.json", []byte(`{"db": {"password": "Zq9-leak-canary-password", "user": "ci"}, "api": {"token": "leak-canary-api-token-77"}, "ssh": "line1-canary\nline2-canary"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := vault.SaveKey("new.key", newKey); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("editor.sh", []byte("#!/bin/sh\nsed 's/ci/cd/' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"MASTER_KEY": key.Encode(),
		"RING":       newKey.Encode() + "," + key.Encode(),
		"WRONG":      wrongKey.Encode(),
		"BROKEN":     key.Encode()[:20],
		"EDITOR":     filepath.Join(dir, "editor.sh"),
	}
	getenv := func(name string) string { return env[name] }
	// A child's environment: the variable that holds the keyring exec
	// uses, which it must remove, and the ordinary ones.
	environ := func() []string {
		return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "RING=" + env["RING"]}
	}

	steps := []struct {
		args     []string
		stdin    string
		reveals  bool // stdout is meant to hold values
		wantCode int
	}{
		{args: []string{"seal", "-audit", "audit.jsonl", "secrets.json"}},
		{args: []string{"get", "-audit", "audit.jsonl", "db.password"}, reveals: true},
		{args: []string{"show", "-audit", "audit.jsonl"}, reveals: true},
		{args: []string{"status", "-audit", "audit.jsonl", "-names"}},
		{args: []string{"get", "-audit", "audit.jsonl", "db.pasword"}, wantCode: 1},
		{args: []string{"get", "-audit", "audit.jsonl", "db"}, wantCode: 1},
		{args: []string{"get", "-audit", "audit.jsonl", "-key-env", "WRONG", "db.password"}, wantCode: 1},
		{args: []string{"get", "-audit", "audit.jsonl", "-key-env", "BROKEN", "db.password"}, wantCode: 1},
		{args: []string{"get", "-audit", "audit.jsonl", "-vault", "secrets.json", "db.password"}, wantCode: 1},
		{args: []string{"set", "-audit", "audit.jsonl", "api.token"}, stdin: "leak-canary-new-value\n"},
		{args: []string{"set", "-audit", "audit.jsonl", "db.password.x"}, stdin: "leak-canary-new-value", wantCode: 1},
		{args: []string{"unset", "-audit", "audit.jsonl", "db.user"}},
		{args: []string{"edit", "-audit", "audit.jsonl"}},
		{args: []string{"rotate", "-audit", "audit.jsonl", "-key-env", "WRONG", "-new-key-file", "new.key"}, wantCode: 1},
		{args: []string{"rotate", "-audit", "audit.jsonl", "-key-env", "RING", "-new-key-file", "new.key"}},
		{args: []string{"rotate", "-audit", "audit.jsonl", "-key-env", "RING", "-new-key-file", "secrets.json"}, wantCode: 1},
		{args: []string{"status", "-audit", "audit.jsonl", "-key-env", "RING", "-max-age", "1ns"}, wantCode: 1},
		{args: []string{"seal", "-audit", "audit.jsonl", "-vault", "other.enc"}, stdin: `{"x": "leak-canary-new-value",}`, wantCode: 1},
		{args: []string{"env", "-audit", "audit.jsonl", "-key-env", "RING", "-format", "azure"}, wantCode: 1},
		{args: []string{"env", "-audit", "audit.jsonl", "-key-env", "RING", "-format", "github"}, wantCode: 1},
		// The child prints every value and its whole environment: all masked,
		// and the key variable is not there to print.
		{args: []string{"exec", "-audit", "audit.jsonl", "-key-env", "RING", "--", "sh", "-c", "echo $DB_PASSWORD $API_TOKEN; printf '%s\n' \"$SSH\"; env; echo $RING | base64"}},
		{args: []string{"exec", "-audit", "audit.jsonl", "-key-env", "RING", "--", "no-such-command-x"}, wantCode: 127},
	}
	for _, step := range steps {
		var stdout, stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(step.stdin), stdout: &stdout, stderr: &stderr, getenv: getenv, environ: environ}
		name := strings.Join(step.args[:1], " ")
		if code := run(step.args, c); code != step.wantCode {
			t.Fatalf("%v: exit status %d, want %d\n%s", step.args, code, step.wantCode, stderr.String())
		}
		all := append(secrets, keys...)
		assertNoLeak(t, name+" stderr", stderr.String(), all...)
		if step.reveals {
			assertNoLeak(t, name+" stdout", stdout.String(), keys...)
		} else {
			assertNoLeak(t, name+" stdout", stdout.String(), all...)
		}
	}
	audit, err := os.ReadFile("audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(audit, []byte("\n")); n < len(steps) {
		t.Errorf("the audit log holds %d records for %d commands", n, len(steps))
	}
	assertNoLeak(t, "audit log", string(audit), append(secrets, keys...)...)
}
