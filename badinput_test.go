package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBadInput is the table of bad inputs to the library: for each, the
// error class, words the message must hold (the file or path, and what to
// do), and no secret value or key in it. example/badinput_test.go runs the
// CLI's side: exit statuses and messages.
func TestBadInput(t *testing.T) {
	key, other := GenerateKey(), GenerateKey()
	dir := t.TempDir()
	secretValues := []string{"bad-input-secret-value", key.Encode(), other.Encode()}
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sealed := func(name, plain string, at time.Time) string {
		tok, err := sealToken([]byte(plain), key, at)
		if err != nil {
			t.Fatal(err)
		}
		return file(name, tok)
	}
	now := time.Now()
	good := sealed("good.enc", `{"db":{"password":"bad-input-secret-value"}}`, now)
	goodTok, _ := os.ReadFile(good)
	raw, _ := base64.URLEncoding.DecodeString(string(goodTok))
	raw[0] = 0x81
	wrongVersion := base64.URLEncoding.EncodeToString(raw)
	huge := filepath.Join(dir, "huge.enc")
	if f, err := os.Create(huge); err == nil {
		f.Truncate(200 << 20)
		f.Close()
	}
	link := filepath.Join(dir, "link.enc")
	os.Symlink(good, link)
	notADir := file("plain-file", []byte("x"))
	dangling := filepath.Join(dir, "dangling.enc")
	os.Symlink(filepath.Join(dir, "gone.enc"), dangling)

	open := func(path string, opts ...OpenOption) func() error {
		return func() error { _, err := Open(path, []*Key{key}, opts...); return err }
	}
	tests := []struct {
		name string
		do   func() error
		want error    // the class, or nil for none
		says []string // words the message holds
	}{
		{"empty file", open(file("empty.enc", nil)), ErrMalformed, []string{"empty.enc", "the file is empty"}},
		{"truncated", open(file("truncated.enc", goodTok[:len(goodTok)-7])), ErrMalformed, []string{"truncated.enc", "was the file truncated?"}},
		{"CRLF-damaged", open(file("crlf.enc", append(bytes.Clone(goodTok[:76]), append([]byte("\r\n"), goodTok[76:]...)...))), ErrMalformed, []string{"crlf.enc", "line break at character 77", "CRLF"}},
		{"invalid base64 characters", open(file("chars.enc", append([]byte("gAAAA*"), goodTok[6:]...))), ErrMalformed, []string{"chars.enc", "character 6", "not URL-safe base64"}},
		{"wrong version byte", open(file("version.enc", []byte(wrongVersion))), ErrMalformed, []string{"version.enc", "version byte is 0x81"}},
		{"binary garbage", open(file("garbage.enc", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1, 2})), ErrMalformed, []string{"garbage.enc", "not URL-safe base64"}},
		{"a key file as the vault", open(file("master.key", []byte(other.Encode()+"\n"))), ErrMalformed, []string{"master.key is a key file (a Fernet key), not a vault", "give the vault's own path"}},
		{"plaintext JSON as the vault", open(file("plain.json", []byte(`{"db":{"password":"bad-input-secret-value"}}`))), ErrMalformed, []string{"plain.json", "looks like plaintext JSON"}},
		{"two tokens in one file", open(file("two.enc", append(append(bytes.Clone(goodTok), '\n'), goodTok...))), ErrMalformed, []string{"two.enc", "line break"}},
		{"wrong key", func() error { _, err := Open(good, []*Key{other}); return err }, ErrWrongKey, []string{"good.enc", "wrong key", "or the file was changed", "use the keyring it was sealed with"}},
		{"future timestamp", open(sealed("future.enc", `{}`, now.Add(time.Hour)), WithMaxAge(24*time.Hour)), ErrExpired, []string{"future.enc", "in the future", "clock"}},
		{"expired", open(sealed("old.enc", `{}`, now.Add(-48*time.Hour)), WithMaxAge(24*time.Hour)), ErrExpired, []string{"old.enc", "older than the maximum age of 24h0m0s", "re-seal"}},
		{"valid token, not JSON", open(sealed("notjson.enc", "password=bad-input-secret-value", now)), ErrNotJSON, []string{"notjson.enc", "not valid JSON (syntax error at byte 1)"}},
		{"JSON array", open(sealed("array.enc", `["bad-input-secret-value"]`, now)), ErrNotJSON, []string{"array.enc", "a JSON array, not an object"}},
		{"duplicate keys", open(sealed("dup.enc", `{"a":"bad-input-secret-value","a":"x"}`, now)), ErrNotJSON, []string{"dup.enc", `the key "a" appears twice`}},
		{"nested 10,001 levels", open(sealed("deep.enc", strings.Repeat(`{"a":`, 10001)+"1"+strings.Repeat("}", 10001), now)), ErrNotJSON, []string{"deep.enc", "nested deeper than the 10000 levels"}},
		{"invalid UTF-8", open(sealed("utf8.enc", "{\"a\":\"bad-input-secret-value\xff\"}", now)), ErrNotJSON, []string{"utf8.enc", "not valid UTF-8"}},
		{"a 200 MB file", open(huge), nil, []string{"huge.enc", "209715200 bytes, more than the 64 MiB a vault may be", "right file"}},
		{"a directory", open(dir), nil, []string{dir, "is a directory", "give the path of the file"}},
		{"a missing file", open(filepath.Join(dir, "nope.enc")), fs.ErrNotExist, []string{"nope.enc", "no such file", "seal a new vault there"}},
		{"a dangling link", open(dangling), fs.ErrNotExist, []string{"dangling.enc", "a symbolic link to " + filepath.Join(dir, "gone.enc") + ", which leads to no file", "fix or remove the link"}},
		{"a symlinked vault opens", open(link), nil, nil},
		{"key of the wrong length", func() error { _, err := ParseKey(key.Encode()[:40]); return err }, nil, []string{"decodes to 30 bytes, want 32", "whole key was copied"}},
		{"key that is not base64", func() error { _, err := ParseKey(strings.Repeat("!", 44)); return err }, nil, []string{"not base64 or hex (44 characters"}},
		{"keyring with an empty element", func() error { _, err := ParseKeyring(key.Encode() + ",," + other.Encode()); return err }, nil, []string{"element 2 of 3", "is empty", "unset"}},
		{"NUL in a value", func() error { _, err := Flatten(map[string]any{"a": "bad-input-secret-value\x00"}, ""); return err }, nil, []string{`"a" holds a NUL byte`}},
		{"a value over 128 KiB", func() error {
			_, err := Flatten(map[string]any{"cert": strings.Repeat("bad-input-secret-value", 6000)}, "")
			return err
		}, nil, []string{`CERT (from "cert")`, "more than the 131072 bytes", "read it from a file"}},
		{"a path with an empty segment", func() error {
			v, err := Open(good, []*Key{key})
			if err != nil {
				return nil
			}
			_, err = v.Get("db..password")
			return err
		}, nil, []string{"good.enc", "empty segment", "remove the extra dot"}},
		{"a directory that is a file", func() error { return Seal(filepath.Join(notADir, "v.enc"), map[string]any{}, key) }, syscall.ENOTDIR, []string{"plain-file", "not a directory"}},
		{"a full disk", func() error {
			return Seal(good, map[string]any{"db": "bad-input-secret-value"}, key, withFailpoint(func(stage string) error {
				if stage == "write" {
					return syscall.ENOSPC
				}
				return nil
			}))
		}, syscall.ENOSPC, []string{"good.enc", "no space left on device", "the vault is unchanged"}},
		{"an unwritable directory", func() error {
			if os.Geteuid() == 0 {
				return Seal(good, map[string]any{}, key, withFailpoint(func(stage string) error {
					if stage == "write" {
						return syscall.EACCES
					}
					return nil
				}))
			}
			ro := filepath.Join(dir, "ro")
			os.Mkdir(ro, 0o500)
			return Seal(filepath.Join(ro, "v.enc"), map[string]any{}, key)
		}, syscall.EACCES, []string{"permission denied", "the vault is unchanged"}},
	}
	if len(tests) < 25 {
		t.Fatalf("the table has %d cases, want at least 25", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if tt.says == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v\nis not %v", err, tt.want)
			}
			for _, w := range tt.says {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
			assertNoLeak(t, "error", err.Error(), secretValues...)
		})
	}
	// Nothing was left behind by the failed writes, and the vault they
	// aimed at is intact.
	if v, err := Open(good, []*Key{key}); err != nil {
		t.Errorf("the vault the failed writes aimed at: %v", err)
	} else if got, _ := v.Get("db.password"); got != "bad-input-secret-value" {
		t.Error("the vault the failed writes aimed at changed")
	}
	for _, name := range dirNames(t, dir) {
		if strings.Contains(name, ".tmp-") {
			t.Errorf("a temporary file was left: %s", name)
		}
	}
}
