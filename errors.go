package vault

import (
	"errors"
	"fmt"
	"strings"
)

// Conditions a caller can branch on with errors.Is. The errors this package
// returns wrap them and say, in their message, which file and which
// credential path they concern and what to do; no message contains a secret
// value or a key.
var (
	// ErrWrongKey means that no key of the keyring verifies the vault's HMAC:
	// either the keyring lacks the key the vault was sealed with, or the file
	// was changed after sealing. The two cannot be told apart, by design.
	ErrWrongKey = errors.New("vault: wrong key")

	// ErrMalformed means the file is not a Fernet token at all: not strict
	// URL-safe base64, a wrong version byte, or a length no token can have.
	ErrMalformed = errors.New("vault: not a Fernet token")

	// ErrExpired means the vault opened but is older than the maximum age set
	// with [WithMaxAge], or was sealed more than a minute in the future.
	ErrExpired = errors.New("vault: expired")

	// ErrNotJSON means the vault decrypted, but its plaintext is not a UTF-8
	// JSON object.
	ErrNotJSON = errors.New("vault: plaintext is not a JSON object")

	// ErrNotFound means a credential path leads nowhere. The error is a
	// *NotFoundError that says where the path stopped.
	ErrNotFound = errors.New("vault: credential not found")

	// ErrNotScalar means a credential path leads to an object or an
	// array where a single value was asked for ([Vault.Get],
	// [Vault.Lookup]); [Vault.Decode] reads those.
	ErrNotScalar = errors.New("vault: not a single value")

	// ErrSameKey means a rotation was asked to the key the vault is
	// already sealed with ([Rotate]): nothing was written. A rotation run
	// twice fails the second time with it.
	ErrSameKey = errors.New("vault: already sealed with that key")

	// ErrNotOpened is the error of every method of a Vault that was not
	// returned by Open, OpenFS or OpenBytes, such as the zero Vault.
	ErrNotOpened = errors.New("vault: the Vault was not opened: get one from Open, OpenFS or OpenBytes")
)

// errNilContext is the error of every Context function given a nil
// context, as net/http's NewRequestWithContext returns one.
var errNilContext = errors.New("vault: nil Context: pass context.Background() or the caller's context")

// A NotFoundError reports a credential path that leads nowhere in a vault.
// errors.Is(err, ErrNotFound) reports true for it.
type NotFoundError struct {
	Vault string // the vault file
	Path  string // the credential path asked for
	// At is the part of Path that exists, "" for the top level, and Missing
	// the segment that does not exist below it.
	At, Missing string
	reason      string // why Missing is not there, naming types and names, never values
}

// Error says where the path stopped and what is there instead, by names.
func (e *NotFoundError) Error() string {
	if e.Vault == "" {
		return fmt.Sprintf("vault: no credential %q: %s", e.Path, e.reason)
	}
	return fmt.Sprintf("vault: %s: no credential %q: %s", e.Vault, e.Path, e.reason)
}

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// vaultError is an error with a message of its own that wraps one of the
// sentinels (or a cause) without repeating its text.
type vaultError struct {
	msg string
	err error
}

func (e *vaultError) Error() string { return e.msg }
func (e *vaultError) Unwrap() error { return e.err }

// errorf returns an error wrapping sentinel whose message is "vault: " and
// the formatted text. It must never be given a value or a key to format.
func errorf(sentinel error, format string, args ...any) error {
	return &vaultError{msg: "vault: " + fmt.Sprintf(format, args...), err: sentinel}
}

// listNames renders names for an error message, shortened when long.
func listNames(names []string) string {
	const max = 12
	if len(names) == 0 {
		return "nothing"
	}
	quoted := make([]string, 0, min(len(names), max))
	for _, n := range names[:min(len(names), max)] {
		quoted = append(quoted, fmt.Sprintf("%q", n))
	}
	s := strings.Join(quoted, ", ")
	if len(names) > max {
		s += fmt.Sprintf(" and %d more", len(names)-max)
	}
	return s
}
