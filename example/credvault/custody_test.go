package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/internal/localkms"
	"github.com/rogpeppe/go-internal/testscript"
)

// The KMS keys local-kms holds for the scripts: CI's, and another.
const (
	scriptKMSKey   = "0c1a0000-0000-4000-8000-00000000c1c1"
	scriptKMSOther = "0c1a0000-0000-4000-8000-0000000000ff"
)

// A scriptKMSServer is the local-kms the scripts share, or nil without one.
type scriptKMSServer struct{ srv *localkms.Server }

// scriptKMS starts local-kms for the scripts that need AWS KMS, if it can
// be had: under $CI it must.
func scriptKMS(t *testing.T) *scriptKMSServer {
	if _, err := localkms.Find(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("local-kms: %v", err)
		}
		t.Logf("local-kms: %v: the scripts that need it are skipped", err)
		return &scriptKMSServer{}
	}
	return &scriptKMSServer{srv: localkms.Start(t, localkms.Seed(scriptKMSKey, scriptKMSOther))}
}

// cmd is the script command "local-kms": it points the AWS SDK of the
// commands that follow at local-kms (dummy credentials, the region,
// AWS_ENDPOINT_URL_KMS), and sets KMS_KEY_ARN and KMS_OTHER_ARN to its
// keys. "local-kms unreachable" points it at a closed port instead.
func (k *scriptKMSServer) cmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 || len(args) == 1 && args[0] != "unreachable" {
		ts.Fatalf("usage: local-kms [unreachable]")
	}
	if k.srv == nil {
		ts.Fatalf("local-kms is not running: guard the script with [!kms] skip")
	}
	for _, kv := range k.srv.Env() {
		name, value, _ := strings.Cut(kv, "=")
		ts.Setenv(name, value)
	}
	if len(args) == 1 {
		// Port 1 of the loopback: nothing listens. One attempt each, so
		// the script does not wait for the SDK's retries.
		ts.Setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:1")
		ts.Setenv("AWS_MAX_ATTEMPTS", "1")
	} else {
		ts.Setenv("AWS_MAX_ATTEMPTS", "")
	}
	ts.Setenv("KMS_KEY_ARN", localkms.ARN(scriptKMSKey))
	ts.Setenv("KMS_OTHER_ARN", localkms.ARN(scriptKMSOther))
}

// condition answers [kms] (local-kms runs) and [age] (Debian's age and
// age-keygen are installed; under $CI they must be).
func (k *scriptKMSServer) condition(cond string) (bool, error) {
	switch cond {
	case "kms":
		return k.srv != nil, nil
	case "age":
		for _, tool := range []string{"age", "age-keygen"} {
			if _, err := exec.LookPath(tool); err != nil {
				if os.Getenv("CI") != "" {
					return false, err
				}
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// setupCustody keeps every script away from instance metadata services:
// the cloud SDKs probe one when no credentials are set.
func setupCustody(env *testscript.Env) error {
	env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return nil
}

// envfile NAME FILE sets the variable NAME to the contents of FILE, less
// surrounding white space, as $(cat FILE) would.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile NAME FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// TestCustodyNoLeaks runs the custody commands, succeeding and failing,
// and checks that neither the vault's key (before or after a rotation), nor
// an age identity, nor a value appears on stderr, in the audit log, or on
// stdout of a command whose job is not to print values.
func TestCustodyNoLeaks(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	alice, _ := age.GenerateX25519Identity()
	bob, _ := age.GenerateX25519Identity()
	os.WriteFile("alice.txt", []byte(alice.String()+"\n"), 0o600)
	os.WriteFile("bob.txt", []byte(bob.String()+"\n"), 0o600)
	os.WriteFile("secrets.json", []byte(`{"db": {"password": "Zq9-custody-canary-pw"}}`), 0o600)
	env := map[string]string{"HOME": dir, "AWS_EC2_METADATA_DISABLED": "true", "CREDVAULT_AGE_KEY": bob.String()}
	getenv := func(name string) string { return env[name] }
	environ := func() []string { return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir} }
	secrets := []string{"Zq9-custody-canary-pw", alice.String(), bob.String()}

	// The vault's keys, as they come and go, found the way bob would.
	vaultKeys := func() []string {
		res := &custody.Resolver{Identities: []string{"alice.txt"}}
		kr, err := res.Resolve(context.Background(), "credentials.enc")
		if err != nil {
			t.Fatal(err)
		}
		return []string{kr.Keys[0].Encode()}
	}
	var keys []string
	steps := []struct {
		args     []string
		reveals  bool
		wantCode int
	}{
		{args: []string{"seal", "-audit", "audit.jsonl", "-recipient", "alice=" + alice.Recipient().String(), "-recipient", "bob=" + bob.Recipient().String(), "secrets.json"}},
		{args: []string{"get", "-audit", "audit.jsonl", "db.password"}, reveals: true},
		{args: []string{"status", "-audit", "audit.jsonl", "-identity", "alice.txt"}},
		{args: []string{"recipients"}},
		{args: []string{"recipients", "remove", "-audit", "audit.jsonl", "bob"}},
		{args: []string{"get", "-audit", "audit.jsonl", "-key-fingerprint", "0123456789ab", "db.password"}, wantCode: 1},
		{args: []string{"get", "-audit", "audit.jsonl", "-key-cmd", "cat alice.txt", "db.password"}, wantCode: 1},
		{args: []string{"rotate", "-audit", "audit.jsonl", "-identity", "alice.txt"}},
		{args: []string{"get", "-audit", "audit.jsonl", "db.password"}, wantCode: 1},
		{args: []string{"recipients", "add", "-audit", "audit.jsonl", "-identity", "alice.txt", "-label", "bob2", bob.Recipient().String()}},
		{args: []string{"show", "-audit", "audit.jsonl"}, reveals: true},
	}
	for i, step := range steps {
		var stdout, stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: getenv, environ: environ}
		if code := run(step.args, c); code != step.wantCode {
			t.Fatalf("%v: exit status %d, want %d\n%s", step.args, code, step.wantCode, stderr.String())
		}
		if i == 0 || step.args[0] == "rotate" {
			keys = append(keys, vaultKeys()...)
		}
		name := strings.Join(step.args[:1], " ")
		all := append(slices.Clone(secrets), keys...)
		assertNoLeak(t, name+" stderr", stderr.String(), all...)
		if step.reveals {
			assertNoLeak(t, name+" stdout", stdout.String(), keys...)
		} else {
			assertNoLeak(t, name+" stdout", stdout.String(), all...)
		}
	}
	for _, file := range []string{"audit.jsonl", "credentials.enc.keys"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		assertNoLeak(t, file, string(b), append(slices.Clone(secrets), keys...)...)
	}
	if len(keys) != 2 || keys[0] == keys[1] {
		t.Errorf("the rotation did not change the key")
	}
}
