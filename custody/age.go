package custody

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"

	"github.com/credvault/vault"
)

// parseAgeRecipient parses an age X25519 recipient, "age1...". Other age
// recipient kinds (SSH keys, plugins) are refused: a CI job must be able to
// unwrap without a plugin binary or a passphrase.
func parseAgeRecipient(id string) (*age.X25519Recipient, error) {
	switch {
	case strings.HasPrefix(id, "ssh-"):
		return nil, errors.New("SSH keys are not supported as recipients: make an age identity with age-keygen and give its public key (age1...)")
	case strings.HasPrefix(id, "age1pq1"):
		return nil, errors.New("post-quantum age recipients (age1pq1...) are not supported yet: give an X25519 recipient (age1...)")
	}
	r, err := age.ParseX25519Recipient(id)
	if err != nil {
		return nil, fmt.Errorf("%q is not an age X25519 recipient (age1... as age-keygen prints it)", id)
	}
	return r, nil
}

// wrapAge encrypts the key's encoded form to an age recipient: the binary
// age file that "age -d -i IDENTITY" decrypts to the key in Python's form.
func wrapAge(key *vault.Key, id string) ([]byte, error) {
	r, err := parseAgeRecipient(id)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, r)
	if err != nil {
		return nil, fmt.Errorf("age: %v", err)
	}
	plain := []byte(key.Encode())
	defer clear(plain)
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("age: %v", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("age: %v", err)
	}
	return out.Bytes(), nil
}

// ageMagic is the first line of a binary age file.
const ageMagic = "age-encryption.org/v1\n"

// checkAgeHeader checks that an age-wrapped key is wrapped for one X25519
// recipient alone. The recipients file lists one ID per wrapped key: a key
// wrapped for several (with "age -r bob -r mallory") would let a recipient
// the file does not show open the vault, and be audited as the one it does.
// The header is read as the age format defines it: the magic line, one
// "-> TYPE ARGS" line per recipient stanza (each followed by its body), and
// the "--- MAC" line.
func checkAgeHeader(wrapped []byte) error {
	rest, ok := bytes.CutPrefix(wrapped, []byte(ageMagic))
	if !ok {
		return errors.New("the wrapped key is not a binary age file (age-encryption.org/v1)")
	}
	stanzas := 0
	for {
		line, after, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return errors.New("the wrapped key's age header has no end (---)")
		}
		rest = after
		switch {
		case bytes.HasPrefix(line, []byte("--- ")):
			if stanzas != 1 {
				return fmt.Errorf("the wrapped key is an age file for %d recipients, not for the one this entry names: someone may have added a recipient the file does not show", stanzas)
			}
			return nil
		case bytes.HasPrefix(line, []byte("-> ")):
			stanzas++
			if args := strings.Fields(string(line[3:])); len(args) != 2 || args[0] != "X25519" {
				return fmt.Errorf("the wrapped key holds an age stanza of type %q, not X25519: a recipient the file does not show could open it", strings.Join(args[:min(1, len(args))], ""))
			}
		}
	}
}

// errNoIdentity means no identity matches an age recipient's stanza.
var errNoIdentity = errors.New("no identity matches")

// unwrapAge decrypts a wrapped key with an identity. It returns
// errNoIdentity if the identity does not match.
func unwrapAge(wrapped []byte, id age.Identity) (*vault.Key, error) {
	r, err := age.Decrypt(bytes.NewReader(wrapped), id)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return nil, errNoIdentity
		}
		return nil, fmt.Errorf("the wrapped key is not a valid age file: %v", err)
	}
	// A key is 44 bytes; anything much longer is not one.
	plain, err := io.ReadAll(io.LimitReader(r, 256))
	defer clear(plain)
	if err != nil {
		return nil, fmt.Errorf("the wrapped key does not decrypt: %v", err)
	}
	key, err := vault.ParseKey(string(plain))
	if err != nil {
		return nil, fmt.Errorf("the wrapped key does not decrypt to a key: %s", strings.TrimPrefix(err.Error(), "vault: "))
	}
	return key, nil
}

// parseIdentities parses age X25519 identities ("AGE-SECRET-KEY-1..."),
// one or more per line separated by spaces, with empty lines and lines
// starting with "#" (age-keygen's comments) skipped. source names the input
// in errors, which never quote it.
func parseIdentities(source string, data []byte) ([]*age.X25519Identity, error) {
	var ids []*age.X25519Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxIdentitySize)
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, field := range strings.Fields(line) {
			n++
			switch {
			case strings.HasPrefix(field, "AGE-PLUGIN-"):
				return nil, fmt.Errorf("%s: identity %d is an age plugin identity: plugins are not supported; use an X25519 identity made by age-keygen", source, n)
			case strings.HasPrefix(field, "-----BEGIN"):
				return nil, fmt.Errorf("%s: holds an SSH or PEM key: SSH keys are not supported; use an X25519 identity made by age-keygen", source)
			}
			id, err := age.ParseX25519Identity(field)
			if err != nil {
				return nil, fmt.Errorf("%s: identity %d is not an age X25519 identity (AGE-SECRET-KEY-1... as age-keygen writes it)", source, n)
			}
			ids = append(ids, id)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: cannot read the identities: %v", source, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: holds no age identity (AGE-SECRET-KEY-1...)", source)
	}
	return ids, nil
}

// maxIdentitySize bounds an identity file or variable.
const maxIdentitySize = 64 << 10
