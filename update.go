package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Update changes the vault at path without losing anyone's update: it takes
// the write lock, opens the vault with keys, calls fn to change it (with
// [Vault.Set], [Vault.Delete] or [Vault.Replace]), and seals the result
// under keys[0], the newest key, through the atomic write of [Seal], after
// checking that the new token decrypts to what was sealed. If fn returns an error, the vault is unchanged and Update returns
// that error.
//
// Values fn does not touch keep their exact text: numbers stay as written.
//
// With [WithAuditor], Update records the open, then one event per Set,
// Delete or Replace that fn made (OpSet, OpDelete, OpReplace, with the path),
// just before the new vault replaces the old one.
// The vault must exist; Seal creates one. Options apply as for Open (the
// maximum age) and Seal (the clock, the lock timeout).
func Update(path string, keys []*Key, fn func(v *Vault) error, opts ...UpdateOption) error {
	o := newOptions(opts)
	if err := checkKeyring(path, keys); err != nil {
		return err
	}
	var events []Event
	ctx := context.Background()
	err := withWriteLock(path, o, func(target string) error {
		v, err := open(ctx, path, func() ([]byte, error) { return readVault(target) }, keys, o)
		if err != nil {
			return err
		}
		err = fn(v)
		events = v.changes
		for i := range events {
			events[i].SealKey = keys[0].Fingerprint()
		}
		if err != nil {
			return err
		}
		plain, err := sealDocument(v.doc())
		if err != nil {
			return err
		}
		defer clear(plain)
		return sealAndReplace(ctx, target, plain, keys[0], o, events, true)
	})
	return o.auditFailure(ctx, events, err)
}

// Set sets the value at a credential path, creating the objects on the way
// that do not exist: Set("database.password", "x") works on an empty vault.
// value may be any type Seal accepts; it is stored as Open would read it
// back (an int becomes a number with the same text). An array element can
// be replaced by its index, but arrays do not grow.
//
// Set changes the Vault in memory; [Update] saves the change.
func (v *Vault) Set(path string, value any) error {
	segs, err := parsePath(path)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", v.name, err)
	}
	val, err := normalize(value, segs)
	if err != nil {
		return err
	}
	var node any = v.doc()
	for i, seg := range segs {
		last := i == len(segs)-1
		switch n := node.(type) {
		case map[string]any:
			if last {
				n[seg] = val
				v.recordChange(OpSet, path)
				return nil
			}
			child, ok := n[seg]
			if !ok {
				child = map[string]any{}
				n[seg] = child
			}
			node = child
		case []any:
			idx, ok := parseIndex(seg)
			if !ok || idx >= len(n) {
				return fmt.Errorf("vault: %s: cannot set %q: %q is an array of %d elements and arrays do not grow; set the whole array instead", v.name, path, formatPath(segs[:i]), len(n))
			}
			if last {
				n[idx] = val
				v.recordChange(OpSet, path)
				return nil
			}
			node = n[idx]
		default:
			return fmt.Errorf("vault: %s: cannot set %q: %q is a %s, which cannot hold keys; unset it first to replace it with an object", v.name, path, formatPath(segs[:i]), kindOf(node))
		}
	}
	return nil // not reached: parsePath returns at least one segment
}

// Delete removes the value at a credential path, with everything below it.
// It is a *NotFoundError if there is nothing there. Only object keys can be
// deleted: to change an array, set the whole array.
//
// Delete changes the Vault in memory; [Update] saves the change.
func (v *Vault) Delete(path string) error {
	segs, err := parsePath(path)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", v.name, err)
	}
	if _, err := lookup(v.name, path, v.doc(), segs); err != nil {
		return err
	}
	parent, _ := lookup(v.name, path, v.doc(), segs[:len(segs)-1])
	obj, ok := parent.(map[string]any)
	if !ok {
		return fmt.Errorf("vault: %s: cannot unset %q: it is an element of an array; set the whole array instead", v.name, path)
	}
	delete(obj, segs[len(segs)-1])
	v.recordChange(OpDelete, path)
	return nil
}

// Replace replaces the vault's whole document with secrets, which may hold
// any type Seal accepts. [Update] saves the change.
func (v *Vault) Replace(secrets map[string]any) error {
	val, err := normalize(secrets, nil)
	if err != nil {
		return err
	}
	doc := val.(map[string]any)
	v.doc = func() map[string]any { return doc }
	v.recordChange(OpReplace, "")
	return nil
}

// recordChange notes a change for Update to audit when it commits it.
func (v *Vault) recordChange(op Op, path string) {
	e := v.event(op, nil)
	e.Path = path
	v.changes = append(v.changes, e)
}

// normalize turns a value of any type Seal accepts into the types Open
// produces, so that a Vault holds one representation whatever was set.
func normalize(value any, path []string) (any, error) {
	e := encoder{path: path}
	if err := e.value(value); err != nil { // also checks UTF-8 and number text
		return nil, err
	}
	defer clear(e.buf)
	switch value.(type) {
	case string, bool, nil, json.Number:
		return value, nil
	}
	d := json.NewDecoder(bytes.NewReader(e.buf))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, errors.New("vault: re-reading an encoded value failed")
	}
	return out, nil
}

// Paths returns the credential paths of every value in the vault, sorted;
// names only, never values. Empty objects and arrays hold no value and are
// not listed.
func (v *Vault) Paths() []string {
	var paths []string
	var walk func(node any, segs []string)
	walk = func(node any, segs []string) {
		switch n := node.(type) {
		case map[string]any:
			for k, x := range n {
				walk(x, append(slices.Clip(segs), k))
			}
		case []any:
			for i, x := range n {
				walk(x, append(slices.Clip(segs), strconv.Itoa(i)))
			}
		default:
			paths = append(paths, formatPath(segs))
		}
	}
	walk(v.doc(), nil)
	slices.Sort(paths)
	return paths
}
