package custody

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/credvault/vault"
)

// Update changes the vault at path as [vault.UpdateContext] does, and
// keeps its recipients able to open it: when the vault has a recipients
// file, the new vault is sealed with the key the file wraps, wherever that
// key is in keys, not with keys[0]. vault.Update alone would seal with
// keys[0], a key the recipients were never given, when a keyring lists a
// newer key first (MASTER_KEY="new,old" during a rotation): only [Rotate]
// changes the key of a vault with recipients, as it wraps the new key for
// each of them.
//
// If the recipients file wraps none of keys while keys open the vault (the
// file is stale, or keys are another vault's), nothing is changed and the
// error wraps [ErrNotWrapped]; a recipients file that cannot be read
// changes nothing either. The file is read again with the vault's write
// lock held, so a rotation made meanwhile is not undone; a refusal is
// audited as the failure of the update. Options apply as for
// vault.UpdateContext.
//
// It returns the key the vault was sealed with.
func Update(ctx context.Context, path string, keys []*vault.Key, fn func(tx *vault.Tx) error, opts ...vault.UpdateOption) (*vault.Key, error) {
	if fn == nil {
		return nil, vault.UpdateContext(ctx, path, keys, nil, opts...)
	}
	ordered, err := sealingKeys(path, keys)
	if err != nil {
		// Refused once the vault is open, below: keys that do not open
		// it are the error to report first.
		ordered = keys
	}
	err = vault.UpdateContext(ctx, path, ordered, func(tx *vault.Tx) error {
		// With the lock held: the recipients file may have changed since
		// it was read.
		now, err := sealingKeys(path, ordered)
		if err != nil {
			return err
		}
		if now[0] != ordered[0] {
			return fmt.Errorf("custody: %s changed while the vault was being opened: nothing was changed; try again", KeysPath(path))
		}
		return fn(tx)
	}, opts...)
	if err != nil {
		return nil, err
	}
	return ordered[0], nil
}

// sealingKeys returns keys in the order a write of the vault at path must
// give them to vault.Update, which seals with the first:
// when the vault has a recipients file, the key it wraps first, the others
// after it in their order, so that every recipient can open what is
// sealed; keys themselves when the vault has none. After an interrupted
// write, the recipients file is its pending file if that is the one that
// wraps one of keys. If the recipients file wraps none of keys, or cannot
// be read, it returns an error.
func sealingKeys(path string, keys []*vault.Key) ([]*vault.Key, error) {
	keysPath := KeysPath(path)
	f, err := ReadFile(keysPath)
	if errors.Is(err, fs.ErrNotExist) {
		pending, perr := ReadFile(vault.PendingSidecar(keysPath))
		if errors.Is(perr, fs.ErrNotExist) {
			return keys, nil
		}
		f, err = pending, perr
	}
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k *vault.Key) bool { return k != nil && f.matches(k) })
	if i < 0 {
		if pending, perr := ReadFile(vault.PendingSidecar(keysPath)); perr == nil {
			i = slices.IndexFunc(keys, func(k *vault.Key) bool { return k != nil && pending.matches(k) })
		}
	}
	if i < 0 {
		return nil, &notWrappedError{keysPath: keysPath, wrapped: f.Key, keys: keys}
	}
	return slices.Concat(keys[i:i+1], keys[:i], keys[i+1:]), nil
}

// ErrNotWrapped means a vault's recipients file wraps none of the keys a
// write was given: sealed with one of them, the vault would be one its
// recipients cannot open. [Update] returns an error that wraps it.
var ErrNotWrapped = errors.New("custody: the recipients file wraps none of the keys")

// A notWrappedError is sealingKeys' error for a recipients file that wraps
// none of the keys.
type notWrappedError struct {
	keysPath, wrapped string
	keys              []*vault.Key
}

func (e *notWrappedError) Error() string {
	var first string
	if len(e.keys) > 0 && e.keys[0] != nil {
		first = " " + e.keys[0].Fingerprint()
	}
	return fmt.Sprintf("custody: %s wraps key %s for its recipients, and the keyring lacks it: they could not open the vault sealed with key%s; nothing was changed", e.keysPath, e.wrapped, first)
}

func (e *notWrappedError) Unwrap() error { return ErrNotWrapped }
