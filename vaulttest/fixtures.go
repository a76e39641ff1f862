package vaulttest

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"filippo.io/age"
	"github.com/credvault/vault"
	"github.com/credvault/vault/custody"
)

// fixedKey is FixedKey's text: the URL-safe base64 of the 32 bytes
// "credvault-vaulttest-fixed-key!!!".
const fixedKey = "Y3JlZHZhdWx0LXZhdWx0dGVzdC1maXhlZC1rZXkhISE="

// FixedKey returns a key that is the same in every run, for golden files: a
// vault sealed with it once can be committed under testdata/ and opened by
// every run of the test. Its text, Y3JlZHZhdWx0LXZhdWx0dGVzdC1maXhlZC1rZXkhISE=
// (the base64 of "credvault-vaulttest-fixed-key!!!"), is published here:
// never seal anything real with it.
func FixedKey() *vault.Key {
	key, err := vault.ParseKey(fixedKey)
	if err != nil {
		panic("vaulttest: the fixed key does not parse") // not reached
	}
	return key
}

// FS seals secrets under a fresh key into an in-memory file system, as the
// file credentials.enc, and returns it with the keyring: for code that opens
// a vault embedded with //go:embed through vault.OpenFS, written to take an
// fs.FS (an embed.FS in production, this in tests).
func FS(t testing.TB, secrets any) (fsys fs.FS, keys []*vault.Key) {
	t.Helper()
	key := vault.GenerateKey()
	var buf bytes.Buffer
	if err := vault.SealTo(&buf, "credentials.enc", secrets, key); err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return fstest.MapFS{"credentials.enc": &fstest.MapFile{Data: buf.Bytes(), Mode: 0o600}}, []*vault.Key{key}
}

// NewWithRecipient seals secrets (anything vault.Seal takes) into a new
// vault, credentials.enc in t.TempDir(), as "credvault seal -recipient"
// does: under a fresh key, wrapped for a new age identity in the
// recipients file beside it (credentials.enc.keys). It returns the vault's path and the identity
// (AGE-SECRET-KEY-1...), for the code under test to find the key through
// custody: set it in $CREDVAULT_AGE_KEY with t.Setenv, or write it to a file
// for custody.Resolver's Identities. The raw key is not returned: no route
// but the recipient's leads to it.
func NewWithRecipient(t testing.TB, secrets any) (path, identity string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	rc, err := custody.NewRecipient(id.Recipient().String(), "vaulttest", nil)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	path = filepath.Join(t.TempDir(), "credentials.enc")
	if _, err := custody.Seal(context.Background(), path, secrets, []custody.Recipient{rc}, nil); err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	return path, id.String()
}

// CheckNoLeaks fails the test if blob (a log, an error message, a
// command's output) holds a secret of v, in any form that v.Masker masks:
// a value, a line of it, its base64, URL, JSON, HTML or shell-quoted form,
// or any key of the keyring v was opened with, in any form vault.ParseKey
// reads (URL-safe or standard base64, padded or not, hex). Values the masking rule leaves out
// (vault.IsMaskable: short ones, true and false) are not looked for, nor
// those that opts declare vault.NotSecret (a host name the code under test
// prints on purpose). The failure names where and v, and the offset of the
// first secret, never the secret.
//
// v's Auditor records the Masker it builds, as OpMask.
func CheckNoLeaks(t testing.TB, where string, blob []byte, v *vault.Vault, opts ...vault.FlattenOption) {
	t.Helper()
	m, err := v.Masker(context.Background(), opts...)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	checkNoLeaks(t, where, blob, v, m)
}

func checkNoLeaks(t testing.TB, where string, blob []byte, v *vault.Vault, m *vault.Masker) {
	t.Helper()
	var masked bytes.Buffer
	r := m.Redactor(&masked)
	r.Write(blob)
	r.Close()
	if bytes.Equal(masked.Bytes(), blob) {
		return
	}
	at := 0
	for at < len(blob) && at < masked.Len() && blob[at] == masked.Bytes()[at] {
		at++
	}
	t.Errorf("vaulttest: %s holds a secret of %s, at byte %d", where, v.Name(), at)
}

// Run runs c with v's secrets, as v.Run does, with the output captured:
// c.Stdout and c.Stderr, if nil, become buffers, returned as stdout and
// stderr. Unless c.Unmasked, it fails the test if the captured output
// still holds a secret (see CheckNoLeaks) or one of c.Conceal. It returns v.Run's error for
// the test to check: an *vault.ExitError when the command failed.
func Run(t testing.TB, v *vault.Vault, c *vault.Command) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if c.Stdout == nil {
		c.Stdout = &out
	}
	if c.Stderr == nil {
		c.Stderr = &errOut
	}
	err = v.Run(context.Background(), c)
	if !c.Unmasked && len(c.Args) > 0 {
		// What Run masked: the values below c's FromPath, less NotSecret.
		m, merr := v.Masker(context.Background(), c.Flatten...)
		if merr != nil {
			t.Fatalf("vaulttest: %v", merr)
		}
		checkNoLeaks(t, "the stdout of "+c.Args[0], out.Bytes(), v, m)
		checkNoLeaks(t, "the stderr of "+c.Args[0], errOut.Bytes(), v, m)
		if len(c.Conceal) > 0 {
			conceal := vault.NewMasker(c.Conceal...)
			checkNoLeaks(t, "the stdout of "+c.Args[0], out.Bytes(), v, conceal)
			checkNoLeaks(t, "the stderr of "+c.Args[0], errOut.Bytes(), v, conceal)
		}
	}
	return out.String(), errOut.String(), err
}
