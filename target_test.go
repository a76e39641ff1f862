package vault

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSealTargets checks what Seal may replace: a vault (under any key) or
// an empty file, never a file that is not a vault unless WithReplaceAny,
// nothing at all with WithNoClobber, and never a file of keys (a key file,
// age identities, a recipients file), a directory, a named pipe or a
// device, without waiting on the pipe.
func TestSealTargets(t *testing.T) {
	key := GenerateKey()
	secrets := map[string]any{"only": "one-new-secret"}
	tests := []struct {
		name string
		// make creates what is at path in dir, and returns the file whose
		// bytes must not change on refusal ("" for none).
		make func(t *testing.T, dir, path string) string
		opts []SealOption
		says string // "" if Seal succeeds
	}{
		{"nothing there", func(t *testing.T, dir, path string) string { return "" }, nil, ""},
		{"an empty file", writeFile(""), nil, ""},
		{"a vault under another key", sealedWith(GenerateKey()), nil, ""},
		{"a key file", writeFile(GenerateKey().Encode() + "\n"), nil, "is a key file (a Fernet key), not a vault"},
		{"plaintext JSON", writeFile(`{"database": {"password": "x"}}`), nil, "exists and is not a vault (it starts with '{'"},
		{"a link to authorized_keys", func(t *testing.T, dir, path string) string {
			keys := filepath.Join(dir, "authorized_keys")
			writeFile("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB9+Lg4gYgU5 user@host\n")(t, dir, keys)
			if err := os.Symlink(keys, path); err != nil {
				t.Fatal(err)
			}
			return keys
		}, nil, "(a link to "},
		{"a key file, even with WithReplaceAny", writeFile(GenerateKey().Encode() + "\n"), []SealOption{WithReplaceAny()}, "is a key file (a Fernet key), not a vault: sealing would destroy it, and no option allows that"},
		{"a keyring, even with WithReplaceAny", writeFile(GenerateKey().Encode() + "," + GenerateKey().Encode()), []SealOption{WithReplaceAny()}, "is a key file (a Fernet key)"},
		{"age identities, even with WithReplaceAny", writeFile("# created: 2026-01-01T00:00:00Z\n# public key: age1lt0zx9cl334fz2uz5zxkauwnjmfj2a2lpllehq2fwe3meacgd57shqg3zh\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"), []SealOption{WithReplaceAny()}, "is a file of age identities"},
		{"a recipients file, even with WithReplaceAny", writeFile(`{"credvault": "keys/v1", "key": "0123456789ab", "recipients": []}`), []SealOption{WithReplaceAny()}, `is a recipients file ("keys/v1")`},
		{"a key file with WithNoClobber", writeFile(GenerateKey().Encode()), []SealOption{WithNoClobber()}, "is a key file (a Fernet key)"},
		{"a short file that is not a token", writeFile("c2hvcnQgYnV0IG5vdCBhIGtleQ=="), nil, "exists and is not a vault (its base64 decodes to 19 bytes, not the length of a Fernet token"},
		{"plaintext JSON with WithReplaceAny", writeFile(`{"database": {"password": "x"}}`), []SealOption{WithReplaceAny()}, ""},
		{"a vault with WithNoClobber", sealedWith(key), []SealOption{WithNoClobber()}, "already exists"},
		{"an empty file with WithNoClobber", writeFile(""), []SealOption{WithNoClobber()}, "already exists"},
		{"both options", writeFile("x"), []SealOption{WithReplaceAny(), WithNoClobber()}, "already exists"},
		{"a directory, even with WithReplaceAny", func(t *testing.T, dir, path string) string {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			return ""
		}, []SealOption{WithReplaceAny()}, "is a directory"},
		{"a named pipe, even with WithReplaceAny", mkfifo, []SealOption{WithReplaceAny()}, "is a named pipe (FIFO)"},
		{"a link to /dev/null", func(t *testing.T, dir, path string) string {
			if err := os.Symlink(os.DevNull, path); err != nil {
				t.Fatal(err)
			}
			return ""
		}, []SealOption{WithReplaceAny()}, "is a character device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials.enc")
			keep := tt.make(t, dir, path)
			var before []byte
			if keep != "" {
				before = readOrFail(t, keep)
			}
			err := Seal(path, secrets, key, tt.opts...)
			if tt.says == "" {
				if err != nil {
					t.Fatalf("Seal: %v", err)
				}
				if v, err := Open(path, []*Key{key}); err != nil || v.Len() != 1 {
					t.Fatalf("the new vault does not open: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Seal error %v, want one saying %q", err, tt.says)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			switch {
			case strings.Contains(tt.says, "exists and is not a vault") || strings.Contains(tt.says, "already exists"):
				if !errors.Is(err, fs.ErrExist) {
					t.Errorf("error %v does not wrap fs.ErrExist", err)
				}
			case strings.Contains(tt.says, "is a key file") || strings.Contains(tt.says, "age identities") || strings.Contains(tt.says, "recipients file"):
				// No option replaces it: nothing says "exists, retry with
				// WithReplaceAny".
				if errors.Is(err, fs.ErrExist) {
					t.Errorf("error %v wraps fs.ErrExist, as if WithReplaceAny could replace the file", err)
				}
			}
			if keep != "" {
				if after := readOrFail(t, keep); string(after) != string(before) {
					t.Errorf("%s was changed", keep)
				}
			}
			if info, err := os.Lstat(path); err == nil && info.Mode().IsRegular() && keep == "" {
				t.Errorf("a regular file replaced what was at %s", path)
			}
		})
	}
}

// TestOpenRefusesWhatIsNoFile checks that Open, Update and Rotate refuse a
// named pipe or a device at once rather than wait for a writer.
func TestOpenRefusesWhatIsNoFile(t *testing.T) {
	key := GenerateKey()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.enc")
	mkfifo(t, dir, fifo)
	for _, path := range []string{fifo, os.DevNull} {
		_, err := Open(path, []*Key{key})
		if err == nil || !strings.Contains(err.Error(), "not a vault file") {
			t.Errorf("Open(%s): %v, want a refusal", path, err)
		}
	}
	err := Update(fifo, []*Key{key}, func(v *Tx) error { return v.Set("a", "b") })
	if err == nil || !strings.Contains(err.Error(), "is a named pipe (FIFO), not a vault file") {
		t.Errorf("Update of a FIFO: %v", err)
	}
	if err := Rotate(fifo, []*Key{key}, GenerateKey()); err == nil || !strings.Contains(err.Error(), "is a named pipe (FIFO)") {
		t.Errorf("Rotate of a FIFO: %v", err)
	}
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		t.Error("the named pipe was replaced")
	}
}

func writeFile(content string) func(t *testing.T, dir, path string) string {
	return func(t *testing.T, dir, path string) string {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

func sealedWith(key *Key) func(t *testing.T, dir, path string) string {
	return func(t *testing.T, dir, path string) string {
		if err := Seal(path, map[string]any{"old": "value"}, key); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

func readOrFail(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
