package vault

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadKeyringFile(t *testing.T) {
	dir := t.TempDir()
	key, old := GenerateKey(), GenerateKey()
	write := func(name, content string, perm os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ring := write("ring.key", key.Encode()+",\n"+old.Encode()+"\n", 0o600)
	open := write("open.key", key.Encode()+"\n", 0o644)
	garbage := write("garbage.key", "not a key: "+key.Encode()[:30], 0o600)
	big := write("big.key", strings.Repeat(key.Encode()+"\n", MaxKeyringSize/40), 0o600)

	t.Run("keyring", func(t *testing.T) {
		var warnings []string
		keys, err := ReadKeyringFile(ring, func(msg string) { warnings = append(warnings, msg) })
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].Fingerprint() != key.Fingerprint() || keys[1].Fingerprint() != old.Fingerprint() {
			t.Errorf("got %v, want [%v %v]", keys, key, old)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings %q for a 0600 file", warnings)
		}
	})
	t.Run("readable by others", func(t *testing.T) {
		var warnings []string
		keys, err := ReadKeyringFile(open, func(msg string) { warnings = append(warnings, msg) })
		if err != nil || len(keys) != 1 {
			t.Fatalf("got %v, %v; want the key despite the mode", keys, err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "mode 0644") || !strings.Contains(warnings[0], "chmod 600 "+open) {
			t.Errorf("warnings %q, want one naming the mode and the fix", warnings)
		}
		if _, err := ReadKeyringFile(open, nil); err != nil {
			t.Errorf("a nil warn: %v", err)
		}
	})
	for _, tc := range []struct {
		name, path string
		want       string
		is         error
	}{
		{"missing", filepath.Join(dir, "nope.key"), "key file " + filepath.Join(dir, "nope.key") + " does not exist", fs.ErrNotExist},
		{"directory", dir, "is a directory", nil},
		{"too large", big, "larger than 64 KiB", nil},
		{"not a key", garbage, "key file " + garbage + ": keyring key 1: the key is not base64 or hex", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ReadKeyringFile(tc.path, nil)
			if err == nil {
				t.Fatalf("got %v, want an error", keys)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			assertNoLeak(t, "error", err.Error(), key.Encode(), key.Encode()[:30])
		})
	}
}

// TestKeyInPlaceOfAName: a key given where its file's path or its
// variable's name belongs is refused, and not quoted.
func TestKeyInPlaceOfAName(t *testing.T) {
	key := GenerateKey()
	getenv := func(string) string { return "" }
	for _, s := range []string{key.Encode(), " " + key.Encode() + "\n", key.Encode() + "," + GenerateKey().Encode()} {
		_, err := ReadKeyringFile(s, nil)
		if err == nil || !strings.Contains(err.Error(), "the key file's path is a key itself") {
			t.Errorf("ReadKeyringFile(key): %v", err)
		}
		_, err = KeyringFromEnv(getenv, s)
		if err == nil || !strings.Contains(err.Error(), "is a key itself") {
			t.Errorf("KeyringFromEnv(key): %v", err)
		}
		assertNoLeak(t, "error", err.Error(), key.Encode())
	}
}

func TestLooksLikeKey(t *testing.T) {
	key := GenerateKey()
	hexKey := hex.EncodeToString(key.secret()[:])
	for _, s := range []string{
		key.Encode(), strings.TrimRight(key.Encode(), "="), hexKey, "ci=" + key.Encode(), "  " + key.Encode() + "\n",
		"x," + key.Encode(), "AGE-SECRET-KEY-1QQQ", "# created\nage-secret-key-1qqq", "AGE-PLUGIN-YUBIKEY-1QQQ",
		"MASTER_KEY=" + key.Encode(),
	} {
		if !LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%q) = false", s)
		}
	}
	for _, s := range []string{
		"", "MASTER_KEY", "credentials.enc", "/home/alice/.config/credvault/age-keys.txt", "alice",
		"age1cgda5d4jfrypahulq8ukdyrd0avkupk4pk6jw0quhrvkrh9pjvyqar6js9",
		"awskms:///arn:aws:kms:eu-west-2:111122223333:key/0c1a0000-0000-4000-8000-00000000c1c1",
		"gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k", "ci=age1cgda5d4jfrypahulq8ukdyrd0avkupk4pk6jw0quhrvkrh9pjvyqar6js9",
	} {
		if LooksLikeKey(s) {
			t.Errorf("LooksLikeKey(%q) = true", s)
		}
	}
}

func TestKeyringFromEnv(t *testing.T) {
	key, old := GenerateKey(), GenerateKey()
	env := map[string]string{
		"RING":   key.Encode() + "," + old.Encode(),
		"BROKEN": key.Encode()[:30] + "!", // "!" is in no base64 alphabet
		"HUGE":   strings.Repeat(key.Encode()+" ", MaxKeyringSize/40),
	}
	getenv := func(name string) string { return env[name] }
	keys, err := KeyringFromEnv(getenv, "RING")
	if err != nil || len(keys) != 2 || keys[1].Fingerprint() != old.Fingerprint() {
		t.Fatalf("got %v, %v", keys, err)
	}
	for name, want := range map[string]string{
		"UNSET":  "$UNSET is not set",
		"BROKEN": "$BROKEN: keyring key 1: the key is not base64",
		"HUGE":   "more than the 64 KiB a keyring may be",
		"":       "no environment variable named",
	} {
		_, err := KeyringFromEnv(getenv, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %q", name, err, want)
			continue
		}
		assertNoLeak(t, "error", err.Error(), key.Encode()[:30])
	}
}

func TestLongFingerprint(t *testing.T) {
	key := GenerateKey()
	long := key.LongFingerprint()
	if len(long) != 64 || !strings.HasPrefix(long, key.Fingerprint()) {
		t.Errorf("LongFingerprint %q: want 64 hex digits starting with the fingerprint %q", long, key.Fingerprint())
	}
	if long == GenerateKey().LongFingerprint() {
		t.Error("two keys have one long fingerprint")
	}
	assertNoLeak(t, "long fingerprint", long, key.Encode())
}
