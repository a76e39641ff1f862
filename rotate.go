package vault

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
)

// Rotate re-seals the vault at path under newKey. It opens the vault with
// any key of oldKeys, encrypts the very same plaintext under newKey,
// verifies that the new token opens with newKey alone to the same bytes, and
// only then replaces the file, atomically, as [Seal] does. It holds the
// write lock throughout, so no concurrent update is lost. On any failure the
// vault is byte-identical to before.
//
// Rotate refuses a vault already sealed with newKey: rotating to the key in
// use would renew the vault's age without changing its key, with an error
// wrapping [ErrSameKey]. (A rotation that is run twice therefore fails the
// second time, changing nothing.)
//
// The plaintext is not re-encoded: formatting, key order and number text of
// a vault written by Python survive a rotation.
//
// The new token's timestamp is the time of the rotation (from [WithClock] if
// given). Python's MultiFernet.rotate keeps the old timestamp instead;
// credvault renews it, and only a change of key renews it (see [Update]),
// so that a maximum age ([WithMaxAge]) means "rotated at least this often",
// and rotating is how an expired vault is renewed. For the same reason
// Rotate does not apply the maximum age to the vault it opens.
//
// # Rotation without pipeline changes
//
// With the keyring in MASTER_KEY:
//
//  1. Put the new key in front: MASTER_KEY="new,old". Every pipeline still
//     opens the vault, with the old key.
//  2. Rotate: Rotate(path, ring, newKey). The vault now opens with the first key.
//  3. When every copy of the vault has been rotated ([Vault.KeyIndex] is 0
//     wherever it is opened; "credvault status" shows it), drop the old key:
//     MASTER_KEY="new".
func Rotate(path string, oldKeys []*Key, newKey *Key, opts ...WriteOption) error {
	return RotateContext(context.Background(), path, oldKeys, newKey, opts...)
}

// RotateContext is Rotate with a context, which the Auditor receives (see
// [Auditor]) and which ends the wait for another writer when it is done.
func RotateContext(ctx context.Context, path string, oldKeys []*Key, newKey *Key, opts ...WriteOption) error {
	if ctx == nil {
		return errNilContext
	}
	o := newOptions(opts)
	if !newKey.valid() {
		return fmt.Errorf("vault: cannot rotate %s to a nil key: make the new key with GenerateKey or ParseKey, and save it first", path)
	}
	ring := append(slices.Clip(oldKeys), newKey)
	if err := checkKeyring(path, ring); err != nil {
		return err
	}
	events := []Event{{Op: OpRotate, Vault: path, KeyIndex: -1, SealKey: newKey.Fingerprint()}}
	err := withWriteLockContext(ctx, path, o, func(target string) error {
		raw, err := readVault(target)
		if err != nil {
			return err
		}
		plain, idx, _, err := unseal(path, raw, ring)
		if err != nil {
			return err
		}
		defer clear(plain)
		events[0].Key, events[0].KeyIndex = ring[idx].Fingerprint(), idx
		if sameKey(ring[idx], newKey) {
			return errorf(ErrSameKey, "%s is already sealed with key %s: rotating to the key in use would renew the vault's age without changing its key; nothing was written: make a new key (GenerateKey, credvault keygen) and rotate to it", path, newKey.Fingerprint())
		}
		if _, err := decodeDocument(plain); err != nil {
			return notJSON(path, err)
		}
		return sealAndReplace(ctx, path, target, plain, newKey, o.now(), o, events, true)
	})
	return o.auditFailure(ctx, events, err)
}

// sameKey reports whether a and b are the same key, in constant time.
func sameKey(a, b *Key) bool {
	return subtle.ConstantTimeCompare(a.fernetKey()[:], b.fernetKey()[:]) == 1
}
