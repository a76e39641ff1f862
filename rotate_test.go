package vault

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRotationWindow(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	path := sealSeed(t, oldKey)

	// 1. The new key goes in front of the ring: pipelines still open the vault.
	ring, err := ParseKeyring(newKey.Encode() + "," + oldKey.Encode())
	if err != nil {
		t.Fatal(err)
	}
	v, err := Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyIndex() != 1 {
		t.Fatalf("before the rotation, key %d opened the vault, want 1", v.KeyIndex())
	}

	// 2. Rotate.
	if err := Rotate(path, ring, newKey); err != nil {
		t.Fatal(err)
	}
	v, err = Open(path, ring)
	if err != nil {
		t.Fatal(err)
	}
	if v.KeyIndex() != 0 || v.KeyFingerprint() != newKey.Fingerprint() {
		t.Fatalf("after the rotation, key %d (%s) opened the vault, want 0 (%s)", v.KeyIndex(), v.KeyFingerprint(), newKey.Fingerprint())
	}

	// 3. The old key can go.
	v, err = Open(path, []*Key{newKey})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get("database.password"); got != "s3cret!P@ss" {
		t.Errorf("got %q after the rotation", got)
	}
	if _, err := Open(path, []*Key{oldKey}); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the old key alone: %v, want ErrWrongKey", err)
	}
}

func TestRotateWrongOldKeyLeavesVault(t *testing.T) {
	key, stranger, newKey := GenerateKey(), GenerateKey(), GenerateKey()
	path := sealSeed(t, key)
	before, _ := os.ReadFile(path)
	err := Rotate(path, []*Key{stranger}, newKey)
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Rotate with a wrong old key: %v, want ErrWrongKey", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the vault changed")
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Errorf("directory holds %q", names)
	}
	assertNoLeak(t, "error", err.Error(), append(seedValues, key.Encode(), stranger.Encode(), newKey.Encode())...)
}

func TestRotateKeepsPlaintextAndRenewsTimestamp(t *testing.T) {
	key := GenerateKey()
	// A plaintext as Python's json.dumps(indent=2) writes it: its layout,
	// key order and number text must survive byte for byte.
	plain := "{\n  \"z\": 12345678901234567890,\n  \"a\": 1.0,\n  \"s\": \"\\u00e9\"\n}"
	sealed := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tok, err := sealToken([]byte(plain), key, sealed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v.enc")
	if err := os.WriteFile(path, tok, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := WithClock(func() time.Time { return now })
	// The vault is long expired under a 30-day policy: rotating renews it.
	if _, err := Open(path, []*Key{key}, WithMaxAge(720*time.Hour), clock); !errors.Is(err, ErrExpired) {
		t.Fatalf("before: %v, want ErrExpired", err)
	}
	// Rotating to another key renews it.
	newKey := GenerateKey()
	if err := Rotate(path, []*Key{key}, newKey, clock); err != nil {
		t.Fatal(err)
	}
	key = newKey
	raw, _ := os.ReadFile(path)
	got, _, ts, err := unseal(path, raw, []*Key{key})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != plain {
		t.Errorf("plaintext after rotation:\n%s\nwant:\n%s", got, plain)
	}
	if !ts.Equal(now) {
		t.Errorf("timestamp %v, want the rotation time %v", ts, now)
	}
	if _, err := Open(path, []*Key{key}, WithMaxAge(720*time.Hour), clock); err != nil {
		t.Errorf("after: %v", err)
	}
}

// TestRotateToTheKeyInUse checks that a rotation to the key that already
// seals the vault is refused, the vault unchanged: it would renew the
// vault's age without changing its key. A rotation run twice fails the
// second time, harmlessly.
func TestRotateToTheKeyInUse(t *testing.T) {
	oldKey, newKey := GenerateKey(), GenerateKey()
	path := sealSeed(t, oldKey)
	if err := Rotate(path, []*Key{oldKey}, newKey); err != nil {
		t.Fatal(err)
	}
	reparsed, err := ParseKey(newKey.Encode())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ring []*Key
		to   *Key
	}{
		{"the only key", []*Key{newKey}, newKey},
		{"the first key of a ring", []*Key{newKey, oldKey}, newKey},
		{"the same key parsed again", []*Key{newKey}, reparsed},
		{"the same rotation run again", []*Key{oldKey}, newKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := readOrFail(t, path)
			err := Rotate(path, tt.ring, tt.to)
			if !errors.Is(err, ErrSameKey) || !strings.Contains(err.Error(), "is already sealed with key "+newKey.Fingerprint()+": rotating to the key in use would renew the vault's age without changing its key") {
				t.Fatalf("Rotate: %v, want a refusal", err)
			}
			if after := readOrFail(t, path); !bytes.Equal(before, after) {
				t.Error("the vault changed")
			}
		})
	}
}

// The kill test: a child process rotates a multi-megabyte vault back and
// forth between two keys, and is killed with SIGKILL at random moments. After
// every kill the vault must open with one of the keys to the same plaintext,
// and any temporary file left must be 0600 and cleaned up by the next write.

const crashChildEnv = "CREDVAULT_TEST_CRASH_CHILD"

// TestCrashChild is the child of TestKillDuringRotate; on its own it skips.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("the child process of TestKillDuringRotate")
	}
	ring, err := ParseKeyring(os.Getenv(crashChildEnv + "_KEYS"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	for {
		if err := rotateToOther(path, ring); err != nil {
			t.Fatal(err)
		}
	}
}

// rotateToOther rotates the vault at path to the key of a two-key ring that
// does not seal it now.
func rotateToOther(path string, ring []*Key) error {
	v, err := Open(path, ring)
	if err != nil {
		return err
	}
	return Rotate(path, ring, ring[1-v.KeyIndex()])
}

func TestKillDuringRotate(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 30 child processes")
	}
	a, b := GenerateKey(), GenerateKey()
	ring := []*Key{a, b}
	secrets := map[string]any{}
	for i := range 40_000 {
		secrets[fmt.Sprintf("service%03d", i%100)+"."+fmt.Sprintf("secret%05d", i)] = fmt.Sprintf("value-%08d-%s", i, strings.Repeat("x", 40))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "big.enc")
	if err := Seal(path, secrets, a); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	want, _, _, err := unseal(path, raw, ring)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := Rotate(path, ring, b); err != nil {
		t.Fatal(err)
	}
	oneRotate := time.Since(start)
	t.Logf("vault of %d bytes; one rotation takes %v", len(raw), oneRotate)

	const kills = 30
	leftovers := 0
	for i := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashChildEnv+"_KEYS="+a.Encode()+","+b.Encode())
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child did not start: %q, %v", line, err)
		}
		// Kill somewhere in the next few rotations: before, during or
		// after any stage of a write.
		time.Sleep(time.Duration(rand.Int64N(int64(3 * oneRotate))))
		cmd.Process.Kill()
		cmd.Wait()

		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		got, _, _, err := unseal(path, raw, ring)
		if err != nil {
			t.Fatalf("kill %d: the vault does not open: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("kill %d: the vault holds a different document", i)
		}
		clear(got)
		for _, name := range dirNames(t, dir) {
			if name == "big.enc" {
				continue
			}
			if !strings.HasPrefix(name, tempPrefix("big.enc")) {
				t.Fatalf("kill %d: unexpected file %q", i, name)
			}
			leftovers++
			if info, err := os.Stat(filepath.Join(dir, name)); err == nil && info.Mode().Perm() != 0o600 {
				t.Errorf("kill %d: leftover %s has mode %04o", i, name, info.Mode().Perm())
			}
		}
	}
	// The next write cleans up what the killed writers left.
	if err := rotateToOther(path, ring); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("after the next write the directory holds %q", names)
	}
	t.Logf("%d kills, 0 corrupt or lost vaults, %d leftover temporary files seen (all 0600, all removed by the next write)", kills, leftovers)
}
