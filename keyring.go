package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode"
)

// MaxKeyringSize bounds a keyring read from a file or an environment
// variable, 64 KiB: a keyring of a few hundred keys. A larger input is
// refused before it is parsed, so a wrong path (a log, a disk image) fails
// fast.
const MaxKeyringSize = 64 << 10

// ReadKeyringFile reads the keyring in the file at path, as [ParseKeyring]
// reads it: keys separated by commas, spaces or newlines, newest first.
// Symbolic links are followed. A directory, and a file larger than
// [MaxKeyringSize], are refused with an error that names the file.
//
// A key file should be readable by its owner alone. When its mode lets
// anyone else read or write it, the keyring is still returned, and warn, if
// not nil, is called once with a message that names the file and the fix.
//
// Errors name the file and say what to do; they never quote its contents.
// A missing file gives an error that wraps fs.ErrNotExist.
func ReadKeyringFile(path string, warn func(msg string)) ([]*Key, error) {
	if LooksLikeKey(path) {
		return nil, errors.New("vault: the key file's path is a key itself: give the path of a file that holds the key, or put the key in an environment variable")
	}
	file, err := os.Open(path)
	if err != nil {
		err = unwrapPath(err)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &vaultError{msg: fmt.Sprintf("vault: key file %s does not exist: check its path, or make a key with \"credvault keygen -o %s\"", path, path), err: err}
		}
		return nil, &vaultError{msg: fmt.Sprintf("vault: cannot read key file %s: %v", path, err), err: err}
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, &vaultError{msg: fmt.Sprintf("vault: cannot read key file %s: %v", path, unwrapPath(err)), err: err}
	}
	if info.IsDir() {
		return nil, fmt.Errorf("vault: key file %s is a directory: give the path of the file that holds the key", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && warn != nil {
		warn(fmt.Sprintf("key file %s has mode %04o; others can read it: chmod 600 %s", path, perm, path))
	}
	b, err := io.ReadAll(io.LimitReader(file, MaxKeyringSize+1))
	defer clear(b)
	if err != nil {
		return nil, &vaultError{msg: fmt.Sprintf("vault: cannot read key file %s: %v", path, unwrapPath(err)), err: err}
	}
	if len(b) > MaxKeyringSize {
		return nil, fmt.Errorf("vault: key file %s is larger than %d KiB, more than any keyring: is it the right file?", path, MaxKeyringSize>>10)
	}
	keys, err := ParseKeyring(string(b))
	if err != nil {
		return nil, &vaultError{msg: "vault: key file " + path + ": " + trimPrefix(err), err: err}
	}
	return keys, nil
}

// KeyringFromEnv parses the keyring in the environment variable name, as
// getenv (usually os.Getenv) reports it. An unset or empty variable is an
// error that says how to set it, and so is a nil getenv, an empty
// environment. Errors name the variable, never its value.
func KeyringFromEnv(getenv func(string) string, name string) ([]*Key, error) {
	if name == "" {
		return nil, errors.New("vault: no environment variable named for the keyring")
	}
	if LooksLikeKey(name) {
		return nil, errors.New("vault: the name of the keyring's variable is a key itself: give the variable's name (such as MASTER_KEY) and put the key in it")
	}
	var s string
	if getenv != nil {
		s = getenv(name)
	}
	if s == "" {
		return nil, fmt.Errorf("vault: $%s is not set: set it to the vault's keyring from your CI's secret store (make a key with \"credvault keygen\")", name)
	}
	if len(s) > MaxKeyringSize {
		return nil, fmt.Errorf("vault: $%s is %d bytes, more than the %d KiB a keyring may be: is it the right variable?", name, len(s), MaxKeyringSize>>10)
	}
	keys, err := ParseKeyring(s)
	if err != nil {
		return nil, &vaultError{msg: "vault: $" + name + ": " + trimPrefix(err), err: err}
	}
	return keys, nil
}

// LongFingerprint returns the full fingerprint of the key: 64 hex digits of
// the domain-separated SHA-256 whose first 12 digits are [Key.Fingerprint].
// Like Fingerprint it is safe to print and reveals nothing usable about the
// key. Where a fingerprint guards against forgery (a pinned key), use this
// one: matching a 12-digit fingerprint with a key of one's own takes about
// 2^48 hashes, which is within reach of a determined attacker; matching 64
// digits is not. It is "" for a nil Key or the zero Key.
func (k *Key) LongFingerprint() string {
	if !k.valid() {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(keyFingerprintDomain))
	h.Write(k.secret()[:])
	return hex.EncodeToString(h.Sum(nil))
}

// trimPrefix returns err's message without this package's "vault: " prefix,
// for errors put in a context of their own.
func trimPrefix(err error) string {
	msg := err.Error()
	if len(msg) > len("vault: ") && msg[:len("vault: ")] == "vault: " {
		return msg[len("vault: "):]
	}
	return msg
}

// LooksLikeKey reports whether s is or holds a key where a name, a path, a
// label or a recipient belongs: a key or keyring as [ParseKeyring] accepts
// it, whole or after a "NAME=" prefix or among words, or an age identity
// ("AGE-SECRET-KEY-1...", "AGE-PLUGIN-..."). A program refuses such an s
// without quoting it: a key pasted in the wrong place must not end up in an
// error message, a log or an audit record.
func LooksLikeKey(s string) bool {
	upper := strings.ToUpper(s)
	if strings.Contains(upper, "AGE-SECRET-KEY-") || strings.Contains(upper, "AGE-PLUGIN-") {
		return true
	}
	for _, field := range strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' || r == '"' || r == '\'' }) {
		if _, err := parseKey(field); err == nil {
			return true
		}
		if _, rest, ok := strings.Cut(field, "="); ok {
			if _, err := parseKey(rest); err == nil {
				return true
			}
		}
	}
	return false
}
