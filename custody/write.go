package custody

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/credvault/vault"
)

// NewRecipient returns the recipient that id names, with label and no
// wrapped key yet: an age X25519 recipient ("age1...") or a KMS key URL
// whose scheme has a driver in kms, checked by that driver. A URL that
// carries one user's setup (an AWS profile or endpoint) is refused: the
// recipients file is shared.
func NewRecipient(id, label string, kms []Driver) (Recipient, error) {
	id = strings.TrimSpace(id)
	if vault.LooksLikeKey(id) {
		return Recipient{}, fmt.Errorf("custody: %v", errSecretID)
	}
	if err := checkLabel(label); err != nil {
		return Recipient{}, fmt.Errorf("custody: %v", err)
	}
	if strings.HasPrefix(id, "age1") || strings.HasPrefix(id, "ssh-") {
		if _, err := parseAgeRecipient(id); err != nil {
			return Recipient{}, fmt.Errorf("custody: %v", err)
		}
		return Recipient{Type: Age, ID: id, Label: label}, nil
	}
	if _, _, err := drivers(kms).check(id); err != nil {
		if !strings.Contains(id, "://") {
			return Recipient{}, fmt.Errorf("custody: %q is neither an age recipient (age1...) nor a KMS key URL (awskms:///arn:aws:kms:...)", id)
		}
		return Recipient{}, fmt.Errorf("custody: %v", err)
	}
	return Recipient{Type: KMS, ID: id, Label: label}, nil
}

// Wrap wraps key for each of recipients (their Type, ID and Label; a
// Wrapped already set is replaced) and returns the recipients file. It is
// all or nothing: if any recipient cannot be wrapped for (an unknown KMS,
// access denied), Wrap returns an error naming each that failed, and no
// file.
func Wrap(ctx context.Context, key *vault.Key, recipients []Recipient, kms []Driver) (*File, error) {
	if key == nil {
		return nil, errors.New("custody: no key to wrap")
	}
	if len(recipients) == 0 {
		return nil, errors.New("custody: no recipients to wrap the key for")
	}
	f := &File{Key: key.Fingerprint()}
	var errs []string
	for _, rc := range recipients {
		wrapped, err := wrap(ctx, key, rc, kms)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", rc, err))
			continue
		}
		rc.Wrapped = wrapped
		f.Recipients = append(f.Recipients, rc)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("custody: cannot wrap the key for every recipient, so nothing was changed:\n  - %s", strings.Join(errs, "\n  - "))
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

func wrap(ctx context.Context, key *vault.Key, rc Recipient, kms []Driver) ([]byte, error) {
	switch rc.Type {
	case Age:
		return wrapAge(key, rc.ID)
	case KMS:
		u, d, err := drivers(kms).check(rc.ID)
		if err != nil {
			return nil, err
		}
		plain := []byte(key.Encode())
		defer clear(plain)
		return d.Wrap(ctx, u, plain, Binding{Fingerprint: key.Fingerprint()})
	}
	return nil, fmt.Errorf("unknown recipient type %q", rc.Type)
}

// Seal creates the vault at path from secrets under a new key that it
// generates and wraps for recipients, and writes the recipients file beside
// it in the same write (see [vault.WithSidecar]): the raw key is never
// written anywhere, and leaves memory with the process. opts apply as for
// [vault.Seal].
//
// It returns the new key's long fingerprint ([vault.Key.LongFingerprint]),
// the value to pin (see [Resolver]); its first 12 digits are the
// fingerprint the recipients file records.
func Seal(ctx context.Context, path string, secrets map[string]any, recipients []Recipient, kms []Driver, opts ...vault.SealOption) (string, error) {
	key := vault.GenerateKey()
	f, err := Wrap(ctx, key, recipients, kms)
	if err != nil {
		return "", err
	}
	data, err := f.Marshal()
	if err != nil {
		return "", err
	}
	opts = append(opts, vault.WithSidecar(KeysPath(path), data, FileMode))
	if err := vault.SealContext(ctx, path, secrets, key, opts...); err != nil {
		return "", err
	}
	return key.LongFingerprint(), nil
}

// Rotate re-seals the vault at path under newKey, as [vault.Rotate] does
// with oldKeys, and wraps newKey for every recipient of the vault's
// recipients file, in the same write (see [vault.WithSidecar]). It is all
// or nothing: if newKey cannot be wrapped for every recipient, neither file
// changes.
//
// A new key made by [vault.GenerateKey] for Rotate is written nowhere: the
// recipients reach it through the recipients file, and anyone who held the
// old key (a removed recipient included) cannot open what is sealed next.
func Rotate(ctx context.Context, path string, oldKeys []*vault.Key, newKey *vault.Key, kms []Driver, opts ...vault.WriteOption) error {
	if newKey == nil {
		return fmt.Errorf("custody: cannot rotate %s to a nil key", path)
	}
	f, err := current(path, slices.Concat(oldKeys, []*vault.Key{newKey}))
	if err != nil {
		return err
	}
	next, err := Wrap(ctx, newKey, f.Recipients, kms)
	if err != nil {
		return err
	}
	data, err := next.Marshal()
	if err != nil {
		return err
	}
	opts = append(opts, vault.WithSidecar(KeysPath(path), data, FileMode))
	return vault.RotateContext(ctx, path, oldKeys, newKey, opts...)
}

// AddRecipient wraps key, the vault's key, for rc and adds it to the
// vault's recipients file. key must be the key the file records. The file
// is rewritten under the vault's write lock; opts apply as for
// [vault.UpdateSidecar].
func AddRecipient(ctx context.Context, path string, key *vault.Key, rc Recipient, kms []Driver, opts ...vault.WriteOption) error {
	wrapped, err := wrap(ctx, key, rc, kms)
	if err != nil {
		return fmt.Errorf("custody: %s: %v", rc, err)
	}
	rc.Wrapped = wrapped
	keysPath := KeysPath(path)
	return vault.UpdateSidecar(path, keysPath, FileMode, func() ([]byte, error) {
		f, err := current(path, []*vault.Key{key})
		if err != nil {
			return nil, err
		}
		if i := f.Find(rc.ID); i >= 0 {
			return nil, fmt.Errorf("custody: %s already lists %s", keysPath, f.Recipients[i])
		}
		if rc.Label != "" && f.Find(rc.Label) >= 0 {
			return nil, fmt.Errorf("custody: %s already has a recipient labelled %q: choose another label", keysPath, rc.Label)
		}
		f.Recipients = append(f.Recipients, rc)
		return f.Marshal()
	}, opts...)
}

// RemoveRecipient removes the recipient whose ID or label is which from
// the vault's recipients file, and returns it. key must be the key the file
// records (so that, after an interrupted write, the file that matches the
// vault is the one rewritten). The last recipient cannot be removed.
//
// Removal revokes nothing: the removed recipient may have kept the key, or
// any copy of the vault it opened. Rotate next, so that what is sealed from
// then on is under a key it never had.
func RemoveRecipient(path string, key *vault.Key, which string, opts ...vault.WriteOption) (Recipient, error) {
	var removed Recipient
	if vault.LooksLikeKey(which) {
		return removed, fmt.Errorf("custody: the recipient to remove is named by a secret (a vault key or an age identity): name it by its ID (age1... or a KMS key URL) or its label")
	}
	keysPath := KeysPath(path)
	err := vault.UpdateSidecar(path, keysPath, FileMode, func() ([]byte, error) {
		f, err := current(path, []*vault.Key{key})
		if err != nil {
			return nil, err
		}
		i := f.Find(which)
		if i < 0 {
			return nil, fmt.Errorf("custody: %s lists no recipient with ID or label %q: it lists %s", keysPath, which, names(f.Recipients))
		}
		if len(f.Recipients) == 1 {
			return nil, fmt.Errorf("custody: %s is the only recipient of %s: removing it would leave no way to the key; add another first", f.Recipients[i], keysPath)
		}
		removed = f.Recipients[i]
		f.Recipients = append(f.Recipients[:i], f.Recipients[i+1:]...)
		return f.Marshal()
	}, opts...)
	return removed, err
}

// current returns the recipients file that records one of keys: the
// vault's recipients file, or its pending file after an interrupted write.
func current(path string, keys []*vault.Key) (*File, error) {
	keysPath := KeysPath(path)
	f, err := ReadFile(keysPath)
	if err == nil && recordsOneOf(f, keys) {
		return f, nil
	}
	if pending, perr := ReadFile(vault.PendingSidecar(keysPath)); perr == nil && recordsOneOf(pending, keys) {
		return pending, nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("custody: %s has no recipients file (%s)", path, keysPath)
	case err != nil:
		return nil, err
	}
	return nil, fmt.Errorf("custody: %s records key %s, which is not the vault's key: it is stale; restore it from version control, or seal the vault again for its recipients", keysPath, f.Key)
}

func recordsOneOf(f *File, keys []*vault.Key) bool {
	for _, k := range keys {
		if k != nil && f.matches(k) {
			return true
		}
	}
	return false
}

// names lists recipients by name for messages: "alice, bob, ci".
func names(rs []Recipient) string {
	ns := make([]string, len(rs))
	for i, r := range rs {
		ns[i] = r.Name()
	}
	return strings.Join(ns, ", ")
}
