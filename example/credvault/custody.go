package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// recipientArgs parses -recipient values, "ID" or "LABEL=ID": an age
// recipient (age1...) or a KMS key URL, checked by its driver.
func recipientArgs(args []string, getenv func(string) string) ([]custody.Recipient, error) {
	var rs []custody.Recipient
	for _, arg := range args {
		label, id := splitLabel(arg)
		r, err := custody.NewRecipient(id, label, kmsDrivers(getenv))
		if err != nil {
			return nil, usagef("-recipient %s: %s", arg, libraryMessage(err))
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// splitLabel splits a recipient argument, "ID" or "LABEL=ID", into its
// label ("" if none) and ID. A KMS URL may hold "=" in its query, so the
// argument has a label only when what precedes the first "=" holds none of
// a URL's ":/?" and what follows is an ID (age1... or a URL).
func splitLabel(arg string) (label, id string) {
	if l, rest, ok := strings.Cut(arg, "="); ok && !strings.ContainsAny(l, ":/?") && (strings.HasPrefix(rest, "age1") || strings.Contains(rest, "://")) {
		return l, rest
	}
	return "", arg
}

// recipientsFile reads the vault's recipients file, or returns nil if it
// has none.
func recipientsFile(vaultPath string) (*custody.File, error) {
	f, err := custody.ReadFile(custody.KeysPath(vaultPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return f, err
}

// update changes the vault the flags name with fn, as custody.Update does:
// with a recipients file, it seals with the key the file wraps, not
// keys[0], and says so. It returns the key that sealed the vault.
func (f *vaultFlags) update(keys []*vault.Key, fn func(tx *vault.Tx) error, opts ...vault.UpdateOption) (*vault.Key, error) {
	sealed, err := custody.Update(context.Background(), f.vault, keys, fn, opts...)
	if errors.Is(err, custody.ErrNotWrapped) {
		return nil, hinted(keyError{err: err, source: f.keySource()}, "open with a recipient's identity (-identity FILE), or add that key to the keyring; if the recipients file is stale, restore it from version control, or seal again for the recipients (credvault seal -force -recipient ...)")
	}
	if err != nil {
		return nil, keyError{err: err, source: f.keySource()}
	}
	if sealed != keys[0] {
		fmt.Fprintf(f.c.stderr, "credvault: sealed with key %s, which %s wraps for its recipients, not with key %s, the first of the keyring from %s: \"credvault rotate\" changes the key for every recipient\n",
			sealed.Fingerprint(), custody.KeysPath(f.vault), keys[0].Fingerprint(), f.keySource())
	}
	return sealed, nil
}

// openingKey returns the key of ring that opens the vault the flags name,
// opening it (and so auditing the open, with the route).
func (f *vaultFlags) openingKey() (*vault.Key, vault.Option, error) {
	ring, opts, err := f.setup()
	if err != nil {
		return nil, nil, err
	}
	v, err := vault.Open(f.vault, ring, opts)
	if err != nil {
		return nil, nil, keyError{err: err, source: f.keySource()}
	}
	return ring[v.KeyIndex()], opts, nil
}

// recipientNames lists recipients by label (or ID) for messages: "alice, bob and ci".
func recipientNames(rs []custody.Recipient) string {
	var ns []string
	for _, r := range rs {
		ns = append(ns, r.Name())
	}
	if len(ns) < 2 {
		return strings.Join(ns, "")
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

// pinLine is the line that tells what to pin, for seal and rotate.
func pinLine(pin string) string {
	return fmt.Sprintf("credvault: pipelines should pin it (a CI variable the repository's writers cannot change): %s=%s\n", custody.EnvFingerprint, pin)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// kmsContext bounds the KMS requests of a write that wraps a key: they are
// made at once, each within -key-timeout.
func (f *vaultFlags) kmsContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), f.keyTimeout)
}

// keyOnCommandLine refuses, without quoting it, a key or an age identity
// given where a flag or an argument expects a name, a path, a label or a
// recipient: a mistake that would otherwise print the key in an error, a
// hint or an audit record. The arguments of a command to run (exec) are
// its own. -key-fingerprint is left out: a pin is 64 hex digits, the form
// of a hex key.
func keyOnCommandLine(fs *flag.FlagSet, args []string, runs bool) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && f.Name != "key-fingerprint" && holdsKey(f.Name, f.Value.String()) {
			advice, ok := keyFlagAdvice[f.Name]
			if !ok {
				advice = "give what the flag asks for, and keep keys in a file or a variable"
			}
			err = usagef("-%s holds a key or an age identity, which never belongs on the command line (other users see it in the process list, and your shell's history keeps it): %s; if it is a key in use, rotate it", f.Name, advice)
		}
	})
	if err != nil || runs {
		return err
	}
	for i, arg := range args {
		if vault.LooksLikeKey(arg) {
			return usagef("argument %d holds a key or an age identity, which never belongs on the command line (other users see it in the process list, and your shell's history keeps it): give a name or a path, keep keys in a file or a variable; if it is a key in use, rotate it", i+1)
		}
	}
	return nil
}

// holdsKey reports whether the value of flag name is or holds a key. A key
// command may print a key it holds ("printf %s KEY"): it is refused only
// when it is a key alone, which the shell would print back in its "not
// found" message.
func holdsKey(name, value string) bool {
	if name != "key-cmd" {
		return vault.LooksLikeKey(value)
	}
	_, err := vault.ParseKeyring(value)
	return err == nil || strings.HasPrefix(strings.ToUpper(strings.TrimSpace(value)), "AGE-")
}

// keyFlagAdvice says what a flag wants instead of a key.
var keyFlagAdvice = map[string]string{
	"recipient":    "give the public key of an age identity (age1..., which \"age-keygen -y FILE\" prints) or a KMS key URL",
	"identity":     "give the path of the file that holds the identity, or put the identity in $CREDVAULT_AGE_KEY",
	"key-file":     "give the path of a file that holds the key, or put the key in $MASTER_KEY",
	"new-key-file": "give the path of a file that holds the new key",
	"key-env":      "give the name of the variable (MASTER_KEY) and put the key in it",
	"new-key-env":  "give the name of the variable and put the new key in it",
	"key-cmd":      "give a command that prints the key, or put the key in $MASTER_KEY",
	"label":        "give the recipient's name, such as alice or ci",
}
