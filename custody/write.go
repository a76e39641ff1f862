package custody

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"

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
// file. The KMS requests are made at once, each bounded by ctx, so a
// deadline on ctx bounds them all together.
func Wrap(ctx context.Context, key *vault.Key, recipients []Recipient, kms []Driver) (*File, error) {
	if key == nil {
		return nil, errors.New("custody: no key to wrap")
	}
	if len(recipients) == 0 {
		return nil, errors.New("custody: no recipients to wrap the key for")
	}
	f := &File{Key: key.Fingerprint(), Recipients: slices.Clone(recipients)}
	errs := make([]error, len(recipients))
	var wg sync.WaitGroup
	for i := range f.Recipients {
		rc := &f.Recipients[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc.Wrapped, errs[i] = wrap(ctx, key, *rc, kms)
		}()
	}
	wg.Wait()
	var failed []string
	for i, err := range errs {
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", recipients[i], err))
		}
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("custody: cannot wrap the key for every recipient, so nothing was changed:\n  - %s", strings.Join(failed, "\n  - "))
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

// Seal creates the vault at path from secrets (anything [vault.Seal]
// takes) under a new key that it generates and wraps for recipients, and
// writes the recipients file beside it in the same write (see
// [vault.WithSidecar]): the raw key is never written anywhere, and leaves
// memory with the process. It only creates: if the vault or its recipients
// file exists, it returns an error wrapping fs.ErrExist and changes
// nothing; [Replace] replaces them. opts apply as for [vault.Seal].
//
// It returns the new key's long fingerprint ([vault.Key.LongFingerprint]),
// the value to pin (see [Resolver]); its first 12 digits are the
// fingerprint the recipients file records.
func Seal(ctx context.Context, path string, secrets any, recipients []Recipient, kms []Driver, opts ...vault.SealOption) (string, error) {
	keysPath := KeysPath(path)
	for _, p := range []string{path, keysPath, vault.PendingSidecar(keysPath)} {
		if _, err := os.Lstat(p); err == nil {
			return "", &existsError{path: path, found: p}
		}
	}
	return seal(ctx, path, secrets, recipients, kms, append(opts, vault.WithNoClobber())...)
}

// Replace is [Seal] over an existing vault: it replaces the vault at path
// (a vault under any key, or with [vault.WithReplaceAny] another file) and
// its recipients file with a new vault under a new key, wrapped for
// recipients. Those who could open the old vault and are not among
// recipients cannot open the new one; what they saw is theirs.
func Replace(ctx context.Context, path string, secrets any, recipients []Recipient, kms []Driver, opts ...vault.SealOption) (string, error) {
	return seal(ctx, path, secrets, recipients, kms, opts...)
}

func seal(ctx context.Context, path string, secrets any, recipients []Recipient, kms []Driver, opts ...vault.SealOption) (string, error) {
	key := vault.GenerateKey()
	f, err := Wrap(ctx, key, recipients, kms)
	if err != nil {
		return "", err
	}
	data, err := f.Marshal()
	if err != nil {
		return "", err
	}
	opts = append(opts, vault.WithSidecar(KeysPath(path), FileMode, func() ([]byte, error) { return data, nil }))
	if err := vault.SealContext(ctx, path, secrets, key, opts...); err != nil {
		return "", err
	}
	return key.LongFingerprint(), nil
}

// An existsError is Seal's refusal of a vault or recipients file that
// exists.
type existsError struct{ path, found string }

func (e *existsError) Error() string {
	if e.found == e.path {
		return fmt.Sprintf("custody: %s already exists: Seal creates a vault; Replace replaces one", e.path)
	}
	if _, err := ReadFile(e.found); err != nil {
		return fmt.Sprintf("custody: %s exists and is not a recipients file: it is where the recipients file of %s goes; move it away (it may hold a key you need), or give the vault another path", e.found, e.path)
	}
	if _, err := os.Lstat(e.path); err != nil {
		return fmt.Sprintf("custody: %s does not exist, but %s does: it was left by a vault that was moved or deleted; remove it, or restore the vault", e.path, e.found)
	}
	return fmt.Sprintf("custody: %s already exists: Seal creates a vault and its recipients file; Replace replaces them", e.found)
}

func (e *existsError) Unwrap() error { return fs.ErrExist }

// Rotate re-seals the vault at path under newKey, as [vault.Rotate] does
// with oldKeys, and wraps newKey for every recipient of the vault's
// recipients file, in the same write (see [vault.WithSidecar]). It is all
// or nothing: if newKey cannot be wrapped for every recipient, neither file
// changes.
//
// The key is wrapped for the recipients first, then the recipients file
// is read again with the vault's write lock held: a recipient added
// meanwhile ([AddRecipient]) is wrapped for too, and one removed
// ([RemoveRecipient]) is left out, so a rotation never undoes a change of
// who can open the vault. A recipients file left pending by an interrupted
// write is settled first.
//
// A new key made by [vault.GenerateKey] for Rotate is written nowhere: the
// recipients reach it through the recipients file, and anyone who held the
// old key (a removed recipient included) cannot open what is sealed next.
func Rotate(ctx context.Context, path string, oldKeys []*vault.Key, newKey *vault.Key, kms []Driver, opts ...vault.WriteOption) error {
	if newKey == nil {
		return fmt.Errorf("custody: cannot rotate %s to a nil key", path)
	}
	f, _, err := current(path, slices.Concat(oldKeys, []*vault.Key{newKey}))
	if err != nil {
		return err
	}
	next, err := Wrap(ctx, newKey, f.Recipients, kms)
	if err != nil {
		return err
	}
	opts = append(opts, vault.WithSidecar(KeysPath(path), FileMode, func() ([]byte, error) {
		// The vault opened with oldKeys: the file that records one of
		// them is the current one.
		now, err := settled(path, oldKeys)
		if err != nil {
			return nil, err
		}
		if err := rewrap(ctx, next, now, newKey, kms); err != nil {
			return nil, err
		}
		return next.Marshal()
	}))
	return vault.RotateContext(ctx, path, oldKeys, newKey, opts...)
}

// rewrap makes next, wrapped for the recipients of an earlier reading of
// the recipients file, list those of now: it drops the recipients now
// lacks, wraps for those it has in addition, and takes now's labels.
func rewrap(ctx context.Context, next, now *File, key *vault.Key, kms []Driver) error {
	var rs []Recipient
	var added []Recipient
	for _, rc := range now.Recipients {
		if i := slices.IndexFunc(next.Recipients, func(n Recipient) bool { return n.Type == rc.Type && n.ID == rc.ID }); i >= 0 {
			rc.Wrapped = next.Recipients[i].Wrapped
			rs = append(rs, rc)
			continue
		}
		added = append(added, rc)
	}
	if len(added) > 0 {
		more, err := Wrap(ctx, key, added, kms)
		if err != nil {
			return err
		}
		rs = append(rs, more.Recipients...)
	}
	next.Recipients = rs
	return nil
}

// AddRecipient wraps key, the vault's key, for rc and adds it to the
// vault's recipients file. key must be the key the file records. The file
// is read, the key wrapped and the file rewritten under the vault's write
// lock ([vault.UpdateSidecar]), so that no concurrent change is lost; opts
// apply as for UpdateSidecar, and the change is audited, success or
// failure, as an [vault.OpRecipientAdd] event.
func AddRecipient(ctx context.Context, path string, key *vault.Key, rc Recipient, kms []Driver, opts ...vault.WriteOption) error {
	keysPath := KeysPath(path)
	described := rc.describe()
	if vault.LooksLikeKey(rc.ID) || vault.LooksLikeKey(rc.Label) {
		described = "(a secret, not shown)"
	}
	return vault.UpdateSidecar(ctx, path, vault.SidecarUpdate{
		Path: keysPath, Perm: FileMode, Op: vault.OpRecipientAdd, Key: keyFingerprint(key), Recipient: described,
		Content: func() ([]byte, error) {
			if err := checkID(rc.Type, rc.ID); err != nil {
				return nil, fmt.Errorf("custody: %v", err)
			}
			if err := checkLabel(rc.Label); err != nil {
				return nil, fmt.Errorf("custody: %v", err)
			}
			f, _, err := current(path, []*vault.Key{key})
			if err != nil {
				return nil, err
			}
			if i := f.Find(rc.ID); i >= 0 {
				return nil, fmt.Errorf("custody: %s already lists %s", keysPath, f.Recipients[i])
			}
			if rc.Label != "" && f.Find(rc.Label) >= 0 {
				return nil, fmt.Errorf("custody: %s already has a recipient labelled %q: choose another label", keysPath, rc.Label)
			}
			wrapped, err := wrap(ctx, key, rc, kms)
			if err != nil {
				return nil, fmt.Errorf("custody: %s: %v", rc, err)
			}
			rc.Wrapped = wrapped
			f.Recipients = append(f.Recipients, rc)
			return f.Marshal()
		},
	}, opts...)
}

// RemoveRecipient removes the recipient whose ID (or else label) is which
// from the vault's recipients file, and returns it. key must be the key the
// file records (so that, after an interrupted write, the file that matches
// the vault is the one rewritten). The last recipient cannot be removed.
// The file is rewritten under the vault's write lock, and the change is
// audited, success or failure, as an [vault.OpRecipientRemove] event.
//
// Removal revokes nothing: the removed recipient may have kept the key, or
// any copy of the vault it opened. Rotate next, so that what is sealed from
// then on is under a key it never had.
func RemoveRecipient(ctx context.Context, path string, key *vault.Key, which string, opts ...vault.WriteOption) (Recipient, error) {
	var removed Recipient
	keysPath := KeysPath(path)
	secret := vault.LooksLikeKey(which)
	// The audit event names the recipient fully, as the file lists it now.
	described := fmt.Sprintf("%q", which)
	if secret {
		described = "(a secret, not shown)"
	} else if f, _, err := current(path, []*vault.Key{key}); err == nil {
		if i := f.Find(which); i >= 0 {
			described = f.Recipients[i].describe()
		}
	}
	err := vault.UpdateSidecar(ctx, path, vault.SidecarUpdate{
		Path: keysPath, Perm: FileMode, Op: vault.OpRecipientRemove, Key: keyFingerprint(key), Recipient: described,
		Content: func() ([]byte, error) {
			if secret {
				return nil, errors.New("custody: the recipient to remove is named by a secret (a vault key or an age identity): name it by its ID (age1... or a KMS key URL) or its label")
			}
			f, _, err := current(path, []*vault.Key{key})
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
			f.Recipients = slices.Delete(f.Recipients, i, i+1)
			return f.Marshal()
		},
	}, opts...)
	return removed, err
}

func keyFingerprint(key *vault.Key) string {
	if key == nil {
		return ""
	}
	return key.Fingerprint()
}

// current returns the recipients file that records one of keys, and its
// path: the vault's recipients file, or its pending file after an
// interrupted write.
func current(path string, keys []*vault.Key) (*File, string, error) {
	keysPath := KeysPath(path)
	f, err := ReadFile(keysPath)
	if err == nil && recordsOneOf(f, keys) {
		return f, keysPath, nil
	}
	pendingPath := vault.PendingSidecar(keysPath)
	if pending, perr := ReadFile(pendingPath); perr == nil && recordsOneOf(pending, keys) {
		return pending, pendingPath, nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("custody: %s has no recipients file (%s)", path, keysPath)
	case err != nil:
		return nil, "", err
	}
	return nil, "", fmt.Errorf("custody: %s records key %s, which is not the vault's key: it is stale; restore it from version control, or seal the vault again for its recipients", keysPath, f.Key)
}

// settled returns the recipients file that records one of keys, the
// vault's, after renaming it over the recipients file if it was the
// pending file of an interrupted write: a write that stages a new pending
// file must not lose the only record of the vault's key. The caller holds
// the vault's write lock.
func settled(path string, keys []*vault.Key) (*File, error) {
	f, from, err := current(path, keys)
	if err != nil {
		return nil, err
	}
	if keysPath := KeysPath(path); from != keysPath {
		// Only a recipients file (a stale one) gives way: anything else
		// at its name, a key or an identity copied there, is kept.
		if _, err := ReadFile(keysPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("custody: cannot settle %s, left by an interrupted write, as %s: %s is not a recipients file, and would be lost; move it away", from, keysPath, keysPath)
		}
		if err := os.Rename(from, keysPath); err != nil {
			return nil, fmt.Errorf("custody: cannot settle %s, left by an interrupted write, as %s: %v", from, keysPath, err)
		}
	}
	return f, nil
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
