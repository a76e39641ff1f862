package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// recipientArgs parses -recipient values, "ID" or "LABEL=ID": an age
// recipient (age1...) or a KMS key URL, checked by its driver.
func recipientArgs(args []string, getenv func(string) string) ([]custody.Recipient, error) {
	var rs []custody.Recipient
	for _, arg := range args {
		label, id := "", arg
		if l, rest, ok := strings.Cut(arg, "="); ok && !strings.ContainsAny(l, ":/?") && (strings.HasPrefix(rest, "age1") || strings.Contains(rest, "://")) {
			label, id = l, rest
		}
		r, err := custody.NewRecipient(id, label, kmsDrivers(getenv))
		if err != nil {
			return nil, usagef("-recipient %s: %s", arg, libraryMessage(err))
		}
		rs = append(rs, r)
	}
	return rs, nil
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

// kmsContext bounds the KMS requests of a write that wraps a key for n
// recipients: -key-timeout each.
func (f *vaultFlags) kmsContext(n int) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), f.keyTimeout*time.Duration(max(n, 1)))
}
