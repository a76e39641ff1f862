package vaulttest_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/vaulttest"
)

// TestFixedKey: the fixed key is the same in every run, and opens the
// golden vault committed under testdata/ (sealed by Python's Fernet).
func TestFixedKey(t *testing.T) {
	if got := vaulttest.FixedKey().Encode(); got != "Y3JlZHZhdWx0LXZhdWx0dGVzdC1maXhlZC1rZXkhISE=" {
		t.Errorf("FixedKey is %q", got)
	}
	if vaulttest.FixedKey().Fingerprint() != vaulttest.FixedKey().Fingerprint() {
		t.Error("the fixed key's fingerprint changes")
	}
	v, err := vault.Open("testdata/golden.enc", []*vault.Key{vaulttest.FixedKey()})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get("db.password"); err != nil || got != "golden-fake-pass" {
		t.Errorf("golden vault: %q, %v", got, err)
	}
}

func TestFS(t *testing.T) {
	fsys, keys := vaulttest.FS(t, map[string]any{"api": map[string]any{"token": "fs-fake-token"}})
	v, err := vault.OpenFS(fsys, "credentials.enc", keys)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get("api.token"); err != nil || got != "fs-fake-token" {
		t.Errorf("Get = %q, %v", got, err)
	}
}

// TestNewWithRecipient: the vault opens through custody's age route with
// the identity, and through no other.
func TestNewWithRecipient(t *testing.T) {
	path, identity := vaulttest.NewWithRecipient(t, map[string]any{"db": map[string]any{"password": "age-fake-pass"}})
	if !strings.HasPrefix(identity, "AGE-SECRET-KEY-1") {
		t.Fatalf("identity %q", identity[:16])
	}
	env := map[string]string{"CREDVAULT_AGE_KEY": identity, "CREDVAULT_AGE_KEY_FILE": "/nonexistent"}
	res := &custody.Resolver{Getenv: func(name string) string { return env[name] }}
	kr, err := res.Resolve(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(path, kr.Keys)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get("db.password"); err != nil || got != "age-fake-pass" {
		t.Errorf("Get = %q, %v", got, err)
	}
	delete(env, "CREDVAULT_AGE_KEY")
	if _, err := res.Resolve(context.Background(), path); !errors.Is(err, custody.ErrNoKey) {
		t.Errorf("resolved without the identity: %v", err)
	}
}

// failures is a testing.TB that records failures instead of failing.
type failures struct {
	testing.TB
	msgs []string
}

func (f *failures) Helper() {}
func (f *failures) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}
func (f *failures) Fatalf(format string, args ...any) { f.TB.Fatalf(format, args...) }

// TestCheckNoLeaks: a secret in any form a Masker masks, or a key, is a
// failure that names the offset and not the secret; names and ordinary
// text are not.
func TestCheckNoLeaks(t *testing.T) {
	path, keys := vaulttest.New(t, map[string]any{"database": map[string]any{"host": "db.example.com", "password": "leak-me-not", "port": 5432, "tls": true}})
	v, err := vault.Open(path, keys)
	if err != nil {
		t.Fatal(err)
	}
	key := keys[0]
	// Opened with "new,old", where new is another key: CheckNoLeaks looks
	// for both keys of the ring.
	other := vault.GenerateKey()
	v, err = vault.Open(path, []*vault.Key{other, key})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.URLEncoding.DecodeString(key.Encode())
	public := vault.NotSecret("database.host")
	tests := []struct {
		name string
		blob string
		opts []vault.FlattenOption
		fail bool
	}{
		{"names and a boolean", "database.password is set; tls is true", nil, false},
		{"the value", "password=leak-me-not", nil, true},
		{"its base64", "x " + base64.StdEncoding.EncodeToString([]byte("leak-me-not")), nil, true},
		{"its JSON form", `{"p": "leak-me-not"}`, nil, true},
		{"a number of 4 digits", "port 5432", nil, true},
		{"the key", "key " + key.Encode(), nil, true},
		{"the key unpadded", "key " + strings.TrimRight(key.Encode(), "="), nil, true},
		{"the key in standard base64", "key " + base64.RawStdEncoding.EncodeToString(raw), nil, true},
		{"the key in hex", "key " + hex.EncodeToString(raw), nil, true},
		{"the key in upper-case hex", "key " + strings.ToUpper(hex.EncodeToString(raw)), nil, true},
		{"the other key of the keyring", "key " + other.Encode(), nil, true},
		{"a host", "deploying to db.example.com", nil, true},
		{"a host declared not secret", "deploying to db.example.com", []vault.FlattenOption{public}, false},
		{"a secret beside it", "deploying to db.example.com with leak-me-not", []vault.FlattenOption{public}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &failures{TB: t}
			vaulttest.CheckNoLeaks(f, "the log", []byte(tt.blob), v, tt.opts...)
			if (len(f.msgs) > 0) != tt.fail {
				t.Errorf("failures %q, want failing %v", f.msgs, tt.fail)
			}
			for _, m := range f.msgs {
				if strings.Contains(m, "leak-me-not") || strings.Contains(m, key.Encode()) || !strings.Contains(m, "the log holds a secret of") {
					t.Errorf("failure message %q", m)
				}
			}
		})
	}
}

// TestRun: the command runs with the secrets, its output captured and
// masked, and a leak the masking missed would fail the test.
func TestRun(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	v := vaulttest.Open(t, map[string]any{"api": map[string]any{"token": "run-fake-token"}})
	stdout, stderr, err := vaulttest.Run(t, v, &vault.Command{
		Args: []string{"sh", "-c", `echo "token=$APP_API_TOKEN"; echo oops >&2; exit 3`},
		Env:  []string{"PATH=/usr/bin:/bin"}, Prefix: "APP_",
	})
	var exit *vault.ExitError
	if stdout != "token=***\n" || stderr != "oops\n" || !errors.As(err, &exit) || exit.Code != 3 {
		t.Errorf("stdout %q, stderr %q, error %v", stdout, stderr, err)
	}
}
