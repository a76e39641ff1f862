package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"
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
// The file may be a pipe, as a shell's process substitution gives one
// (-key-file <(op read ...)): it is read until its writer closes it. A
// named pipe that no process writes to is not waited for: it is an error
// at once.
//
// A key file should be readable by its owner alone. When its mode lets
// anyone else read or write it, the keyring is still returned, and warn, if
// not nil, is called once with a message that names the file and the fix.
//
// Errors name the file and say what to do; they never quote its contents.
// A missing file gives an error that wraps fs.ErrNotExist.
func ReadKeyringFile(path string, warn func(msg string)) ([]*Key, error) {
	return ReadKeyringFileContext(context.Background(), path, warn)
}

// ReadKeyringFileContext is ReadKeyringFile with a context, which ends the
// wait for a pipe's writer: its error then wraps the context's.
func ReadKeyringFileContext(ctx context.Context, path string, warn func(msg string)) ([]*Key, error) {
	if LooksLikeKey(path) {
		return nil, errors.New("vault: the key file's path is a key itself: give the path of a file that holds the key, or put the key in an environment variable")
	}
	b, info, err := ReadSecretFile(ctx, path, MaxKeyringSize)
	defer clear(b)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, &vaultError{msg: fmt.Sprintf("vault: key file %s does not exist: check its path (a key is made by GenerateKey, or \"credvault keygen\")", path), err: err}
		case errors.As(err, &pe):
			return nil, &vaultError{msg: fmt.Sprintf("vault: cannot read key file %s: %v", path, pe.Err), err: err}
		}
		return nil, &vaultError{msg: fmt.Sprintf("vault: key file %s %v", path, err), err: err}
	}
	if perm := info.Mode().Perm(); info.Mode().IsRegular() && perm&0o077 != 0 && warn != nil {
		warn(fmt.Sprintf("key file %s has mode %04o; others can read it: chmod 600 %s", path, perm, path))
	}
	keys, err := ParseKeyring(string(b))
	if err != nil {
		return nil, &vaultError{msg: "vault: key file " + path + ": " + trimPrefix(err), err: err}
	}
	return keys, nil
}

// ReadSecretFile reads a file that holds a key or an identity (package
// custody reads age identity files with it), of at most max bytes,
// following symbolic links, and returns its content and its FileInfo. It is
// for files a user names on a command line, so that a mistake there fails
// at once with a clear error instead of hanging:
//
//   - a regular file is read whole;
//   - a pipe with a writer (a shell's process substitution, <(command)) is
//     read until the writer closes it, or until ctx is done;
//   - a named pipe that no process writes to, or that ends before a byte
//     came, is an error at once, not a wait for a writer that may never
//     come;
//   - a directory, a device and a socket are refused without a read.
//
// The errors, which wrap the file system's (fs.ErrNotExist for a missing
// file) or ctx's, never quote the content, and read as the end of a
// sentence that starts with the file's name: "is a directory". The caller
// clears the content after use.
func ReadSecretFile(ctx context.Context, path string, max int) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	mode := info.Mode()
	switch {
	case mode.IsDir():
		return nil, info, errors.New("is a directory: give the path of the file")
	case mode&fs.ModeNamedPipe != 0:
	case !mode.IsRegular():
		return nil, info, errors.New("is not a regular file (a device or a socket): give the path of the file")
	}
	// A pipe is read through the runtime's poller, which ctx can stop.
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	defer stop()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	switch {
	case err != nil && ctx.Err() != nil:
		clear(b)
		return nil, info, fmt.Errorf("is a pipe whose writer did not finish: %w", context.Cause(ctx))
	case err != nil:
		clear(b)
		return nil, info, err
	case len(b) > max:
		clear(b)
		return nil, info, fmt.Errorf("is larger than %d KiB: is it the right file?", max>>10)
	case len(b) == 0 && mode&fs.ModeNamedPipe != 0:
		return nil, info, errors.New("is a named pipe that nothing was written to: give a file, or a command's output as <(command)")
	}
	return b, info, nil
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
