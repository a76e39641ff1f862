package custody_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
	"github.com/credvault/vault/internal/leakcheck"
)

// TestResolveOrder checks the documented order: key file, variable, key
// command, then recipients, and which route each case takes.
func TestResolveOrder(t *testing.T) {
	dir := t.TempDir()
	kms := newFakeKMS("ci")
	drivers := []custody.Driver{kms}
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, bobFile := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, drivers,
		recipient(t, alice.Recipient().String(), "alice"),
		recipient(t, "fakekms://ci", "ci", kms))

	kr, err := (&custody.Resolver{Identities: []string{aliceFile}}).Resolve(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	raw, stale := kr.Keys[0], vault.GenerateKey().Encode()
	keyFile := filepath.Join(dir, "raw.key")
	if err := vault.SaveKey(keyFile, raw); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "keycmd.sh")
	os.WriteFile(script, []byte("#!/bin/sh\ncat "+keyFile+"\n"), 0o700)

	for _, tc := range []struct {
		name  string
		res   custody.Resolver
		env   env
		route string
	}{
		{"key file first", custody.Resolver{KeyFile: keyFile, KMS: drivers}, env{"MASTER_KEY": vault.GenerateKey().Encode()}, "key file " + keyFile},
		{"variable", custody.Resolver{KMS: drivers}, env{"MASTER_KEY": raw.Encode(), "CREDVAULT_KEY_CMD": "exit 1"}, "$MASTER_KEY"},
		{"named variable", custody.Resolver{KeyEnv: "PROD_KEY", KMS: drivers}, env{"PROD_KEY": raw.Encode()}, "$PROD_KEY"},
		{"key command", custody.Resolver{KMS: drivers}, env{"CREDVAULT_KEY_CMD": script}, "key command ($CREDVAULT_KEY_CMD)"},
		{"key command given", custody.Resolver{KeyCmd: script, KMS: drivers}, env{}, "key command"},
		{"stale variable, key command", custody.Resolver{KMS: drivers}, env{"MASTER_KEY": stale, "CREDVAULT_KEY_CMD": script}, "key command ($CREDVAULT_KEY_CMD)"},
		{"stale variable, key command given", custody.Resolver{KeyCmd: script, KMS: drivers}, env{"MASTER_KEY": stale}, "key command"},
		{"stale variable, identity", custody.Resolver{Identities: []string{aliceFile}, KMS: drivers}, env{"MASTER_KEY": stale}, `age recipient "alice" (identity from ` + aliceFile + ")"},
		{"stale variable, nothing else", custody.Resolver{}, env{"MASTER_KEY": stale}, "$MASTER_KEY"},
		{"age identity file", custody.Resolver{Identities: []string{bobFile, aliceFile}, KMS: drivers}, env{}, `age recipient "alice" (identity from ` + aliceFile + ")"},
		{"age inline", custody.Resolver{KMS: drivers}, env{"CREDVAULT_AGE_KEY": "# a comment\n  " + alice.String() + "  \n"}, `age recipient "alice" (identity from $CREDVAULT_AGE_KEY)`},
		{"age key file", custody.Resolver{KMS: drivers}, env{"CREDVAULT_AGE_KEY_FILE": aliceFile}, `age recipient "alice" (identity from ` + aliceFile + ")"},
		{"age default file", custody.Resolver{KMS: drivers}, env{"XDG_CONFIG_HOME": dir + "/xdg"}, `age recipient "alice" (identity from ` + dir + "/xdg/credvault/age-keys.txt)"},
		{"kms, no identity matches", custody.Resolver{KMS: drivers}, env{"CREDVAULT_AGE_KEY": bob.String()}, `kms recipient "ci" (fakekms://ci)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "age default file" {
				os.MkdirAll(dir+"/xdg/credvault", 0o700)
				b, _ := os.ReadFile(aliceFile)
				os.WriteFile(dir+"/xdg/credvault/age-keys.txt", b, 0o600)
			}
			res := tc.res
			res.Getenv = tc.env.get
			res.Environ = tc.env.list
			var warnings []string
			res.Warn = func(m string) { warnings = append(warnings, m) }
			kr, err := res.Resolve(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if got := kr.Route.String(); got != tc.route {
				t.Errorf("route %q, want %q", got, tc.route)
			}
			if stale := strings.HasPrefix(tc.name, "stale variable"); stale && tc.route != "$MASTER_KEY" {
				if len(warnings) != 1 || !strings.Contains(warnings[0], "$MASTER_KEY holds key") || !strings.Contains(warnings[0], "which does not open") {
					t.Errorf("warnings %q, want one about the stale $MASTER_KEY", warnings)
				}
			}
		})
	}
}

// TestResolveFailures checks that every route that fails is named with its
// reason, and that no error holds a key.
func TestResolveFailures(t *testing.T) {
	dir := t.TempDir()
	kms := newFakeKMS("gone")
	drivers := []custody.Driver{kms}
	alice, _ := identity(t, dir, "alice.txt")
	bob, bobFile := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, drivers,
		recipient(t, alice.Recipient().String(), "alice"),
		recipient(t, "fakekms://gone", "old-ci", kms))
	delete(kms.keys, "gone") // access revoked since
	noKeys := filepath.Join(dir, "other.enc")
	if err := vault.Seal(noKeys, map[string]any{}, vault.GenerateKey()); err != nil {
		t.Fatal(err)
	}
	secret := vault.GenerateKey().Encode()

	t.Run("nothing", func(t *testing.T) {
		res := custody.Resolver{KMS: drivers, Getenv: env{"HOME": dir}.get}
		_, err := res.Resolve(context.Background(), noKeys)
		if !errors.Is(err, custody.ErrNoKey) {
			t.Fatalf("error %v is not ErrNoKey", err)
		}
		contains(t, "no route", err, "no key for "+noKeys, "$MASTER_KEY is not set", "no key command", noKeys+".keys does not exist")
	})
	t.Run("every route fails", func(t *testing.T) {
		res := custody.Resolver{KMS: drivers}
		res.Getenv = env{"MASTER_KEY": secret[:20], "CREDVAULT_KEY_CMD": "echo " + secret + "x; echo oops >&2; exit 3", "HOME": dir, "CREDVAULT_AGE_KEY": bob.String()}.get
		var stderr strings.Builder
		res.Stderr = &stderr
		_, err := res.Resolve(context.Background(), path)
		contains(t, "all fail", err,
			"$MASTER_KEY: keyring key 1",
			"the key command ($CREDVAULT_KEY_CMD) exited with status 3",
			"age recipients alice: none matches the identities from $CREDVAULT_AGE_KEY",
			`kms recipient "old-ci" (fakekms://gone): fakekms: access denied`)
		if stderr.String() != "oops\n" {
			t.Errorf("the key command's stderr came through as %q", stderr.String())
		}
		leakcheck.NoSecrets(t, "error", err.Error(), secret, secret[:20])
	})
	t.Run("explicit identity matching nothing fails", func(t *testing.T) {
		kms.keys["gone"] = newFakeKMS("x").keys["x"] // KMS reachable again, but never tried
		defer delete(kms.keys, "gone")
		res := custody.Resolver{KMS: drivers, Identities: []string{bobFile}}
		_, err := res.Resolve(context.Background(), path)
		contains(t, "mallory's identity", err, "age recipients alice: none matches the identities from "+bobFile, "KMS recipients: not tried, as identity files were given")
	})
	t.Run("explicit key file fails alone", func(t *testing.T) {
		res := custody.Resolver{KeyFile: filepath.Join(dir, "missing.key"), Getenv: env{"MASTER_KEY": secret}.get}
		_, err := res.Resolve(context.Background(), path)
		contains(t, "missing key file", err, "missing.key does not exist")
		if errors.Is(err, custody.ErrNoKey) {
			t.Error("a failed -key-file went on to other routes")
		}
	})
	t.Run("explicit identity fails alone", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.txt")
		os.WriteFile(bad, []byte(secret+"\n"), 0o600)
		res := custody.Resolver{Identities: []string{bad}, KMS: drivers}
		_, err := res.Resolve(context.Background(), path)
		contains(t, "bad identity file", err, "identity 1 is not an age X25519 identity")
		leakcheck.NoSecrets(t, "error", err.Error(), secret)
	})
	t.Run("environment failure warned about", func(t *testing.T) {
		var warnings []string
		res := custody.Resolver{KMS: drivers, Warn: func(m string) { warnings = append(warnings, m) }}
		res.Getenv = env{"MASTER_KEY": "broken", "CREDVAULT_AGE_KEY": alice.String()}.get
		kr, err := res.Resolve(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "$MASTER_KEY") || !strings.Contains(warnings[0], `the key came from age recipient "alice"`) {
			t.Errorf("warnings %q", warnings)
		}
		if kr.Route.Kind != custody.RouteAge {
			t.Errorf("route %v", kr.Route)
		}
	})
}

// TestResolvePin checks pinning on every kind of route: a vault sealed by
// someone else for the same public age recipient is refused.
func TestResolvePin(t *testing.T) {
	dir := t.TempDir()
	ci, ciFile := identity(t, dir, "ci.txt")
	path, pin := sealFor(t, dir, nil, recipient(t, ci.Recipient().String(), "ci"))
	if len(pin) != 64 {
		t.Fatalf("Seal returned pin %q, want 64 hex digits", pin)
	}
	res := custody.Resolver{Identities: []string{ciFile}, Fingerprint: pin}
	if _, err := res.Resolve(context.Background(), path); err != nil {
		t.Fatalf("the pinned key: %v", err)
	}
	res.Fingerprint = strings.ToUpper(pin[:12])
	if _, err := res.Resolve(context.Background(), path); err != nil {
		t.Fatalf("a 12-digit pin: %v", err)
	}

	// The outsider: a new vault and recipients file, under their key,
	// wrapped for ci's public recipient.
	forged := filepath.Join(t.TempDir(), "credentials.enc")
	if _, err := custody.Seal(context.Background(), forged, map[string]any{"db": map[string]any{"password": "attacker"}}, []custody.Recipient{recipient(t, ci.Recipient().String(), "ci")}, nil); err != nil {
		t.Fatal(err)
	}
	res.Fingerprint = pin
	_, err := res.Resolve(context.Background(), forged)
	contains(t, "forged vault", err, "not the pinned "+pin[:12], "refused")
	res.Fingerprint = ""
	if _, err := res.Resolve(context.Background(), forged); err != nil {
		t.Errorf("without a pin the forged vault opens (as documented): %v", err)
	}

	t.Run("raw keyring", func(t *testing.T) {
		k1, k2 := vault.GenerateKey(), vault.GenerateKey()
		res := custody.Resolver{Fingerprint: k2.LongFingerprint(), Getenv: env{"MASTER_KEY": k1.Encode() + "," + k2.Encode()}.get}
		kr, err := res.Resolve(context.Background(), path)
		if err != nil || len(kr.Keys) != 1 || kr.Keys[0].Fingerprint() != k2.Fingerprint() {
			t.Fatalf("got %v, %v; want the pinned key alone", kr, err)
		}
		res.Fingerprint = vault.GenerateKey().LongFingerprint()
		_, err = res.Resolve(context.Background(), path)
		contains(t, "no pinned key in the ring", err, "$MASTER_KEY holds no key with the pinned fingerprint")
	})
	t.Run("bad pin", func(t *testing.T) {
		for _, p := range []string{"abc", "not-hex-at-all!", strings.Repeat("a", 65)} {
			res := custody.Resolver{Getenv: env{"CREDVAULT_KEY_FINGERPRINT": p}.get}
			_, err := res.Resolve(context.Background(), path)
			contains(t, "pin "+p, err, "$CREDVAULT_KEY_FINGERPRINT must be 12 to 64 hex digits")
		}
	})
}

// TestResolveChecksTheUnwrappedKey: a recipients file that does not match
// the vault, or whose recorded fingerprint was edited, is refused.
func TestResolveChecksTheUnwrappedKey(t *testing.T) {
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
	res := custody.Resolver{Identities: []string{aliceFile}}

	// The vault re-sealed with another key, the recipients file left.
	keysBefore, _ := os.ReadFile(custody.KeysPath(path))
	other := filepath.Join(dir, "other.enc")
	vault.Seal(other, map[string]any{}, vault.GenerateKey())
	os.Rename(other, path)
	_, err := res.Resolve(context.Background(), path)
	contains(t, "stale recipients file", err, "which does not open "+path, "is stale")

	// The recorded fingerprint edited.
	f, _ := custody.ParseFile(keysBefore)
	f.Key = "0123456789ab"
	data, _ := f.Marshal()
	os.WriteFile(custody.KeysPath(path), data, 0o644)
	_, err = res.Resolve(context.Background(), path)
	contains(t, "edited fingerprint", err, "not the key 0123456789ab that")
}

// TestResolvePending: after a write killed between replacing the vault and
// replacing its recipients file, the pending file opens the vault, and the
// next recipients change finishes the write.
func TestResolvePending(t *testing.T) {
	dir := t.TempDir()
	alice, aliceFile := identity(t, dir, "alice.txt")
	bob, _ := identity(t, dir, "bob.txt")
	path, _ := sealFor(t, dir, nil, recipient(t, alice.Recipient().String(), "alice"))
	res := custody.Resolver{Identities: []string{aliceFile}}
	kr, err := res.Resolve(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	keysPath := custody.KeysPath(path)
	old, _ := os.ReadFile(keysPath)

	// Rotate, then put the old recipients file back and the new one aside,
	// as a kill between the two renames leaves them.
	newKey := vault.GenerateKey()
	if err := custody.Rotate(context.Background(), path, kr.Keys, newKey, nil); err != nil {
		t.Fatal(err)
	}
	os.Rename(keysPath, vault.PendingSidecar(keysPath))
	os.WriteFile(keysPath, old, 0o644)

	kr, err = res.Resolve(context.Background(), path)
	if err != nil {
		t.Fatalf("the interrupted state does not open: %v", err)
	}
	if kr.Keys[0].Fingerprint() != newKey.Fingerprint() || kr.Route.File != vault.PendingSidecar(keysPath) {
		t.Errorf("got key %v from %s, want the new key from the pending file", kr.Keys[0], kr.Route.File)
	}
	if err := custody.AddRecipient(context.Background(), path, kr.Keys[0], recipient(t, bob.Recipient().String(), "bob"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(vault.PendingSidecar(keysPath)); err == nil {
		t.Error("the pending file is still there after AddRecipient")
	}
	kr, err = res.Resolve(context.Background(), path)
	if err != nil || kr.Route.File != keysPath {
		t.Errorf("after AddRecipient: %v, %v", kr, err)
	}
}

func TestKeyCommand(t *testing.T) {
	dir := t.TempDir()
	key := vault.GenerateKey()
	path := filepath.Join(dir, "credentials.enc")
	vault.Seal(path, map[string]any{}, key)
	envFile := filepath.Join(dir, "child-env")
	outer := env{
		"MASTER_KEY_UNUSED": "x", "CREDVAULT_AGE_KEY": "AGE-SECRET-KEY-1FAKE", "PROD_KEY": "",
		"KEEP": "kept", "PATH": os.Getenv("PATH"),
	}
	for _, tc := range []struct {
		name, cmd string
		timeout   time.Duration
		want      []string // in the error; none: success
		stderr    string
	}{
		{name: "prints the key", cmd: "env > " + envFile + "; printf '%s\\n' " + key.Encode()},
		{name: "fails", cmd: "echo 'not logged in' >&2; exit 3", want: []string{"exited with status 3"}, stderr: "not logged in\n"},
		{name: "prints garbage", cmd: "echo " + key.Encode() + "garbage", want: []string{"printed something that is not a keyring"}},
		{name: "prints nothing", cmd: "true", want: []string{"printed nothing"}},
		{name: "too much", cmd: "head -c 70000 /dev/zero | tr '\\0' a", want: []string{"printed more than 64 KiB"}},
		{name: "not found", cmd: "no-such-command-credvault", want: []string{"exited with status 127"}},
		{name: "hangs", cmd: "sleep 60 & sleep 60; echo " + key.Encode(), timeout: 200 * time.Millisecond, want: []string{"did not finish within 200ms"}},
		{name: "killed", cmd: "kill -9 $$", want: []string{"was killed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			res := custody.Resolver{KeyCmd: tc.cmd, KeyEnv: "PROD_KEY", Timeout: tc.timeout, Getenv: outer.get, Environ: outer.list, Stderr: &stderr}
			start := time.Now()
			kr, err := res.Resolve(context.Background(), path)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if kr.Keys[0].Fingerprint() != key.Fingerprint() {
					t.Error("the wrong key")
				}
				child, _ := os.ReadFile(envFile)
				for _, name := range []string{"PROD_KEY=", "MASTER_KEY=", "MASTER_KEY_UNUSED=", "CREDVAULT_AGE_KEY=", "CREDVAULT_KEY_CMD="} {
					if strings.Contains("\n"+string(child), "\n"+name) {
						t.Errorf("the key command saw %s", name)
					}
				}
				if !strings.Contains(string(child), "KEEP=kept") {
					t.Error("the key command lost the rest of the environment")
				}
				return
			}
			contains(t, tc.name, err, append(tc.want, "the key command ")...)
			leakcheck.NoSecrets(t, "error", err.Error(), key.Encode())
			leakcheck.NoSecrets(t, "stderr", stderr.String(), key.Encode())
			if tc.stderr != "" && stderr.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.stderr)
			}
			if tc.timeout > 0 && time.Since(start) > 30*time.Second {
				t.Errorf("the hanging command was not stopped")
			}
		})
	}
}
