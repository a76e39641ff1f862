package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
)

// Update changes the vault at path without losing anyone's update: it takes
// the write lock, opens the vault with keys, calls fn with a [Tx] to change
// it ([Tx.Set], [Tx.Delete], [Tx.Replace]), and seals the result
// under keys[0], the newest key, through the atomic write of [Seal], after
// checking that the new token opens, with keys[0] alone, to what was
// sealed. If fn returns an error, the vault is unchanged and Update returns
// that error. A result that Open would refuse (a vault over [MaxVaultSize],
// JSON nested over 10,000 levels) is refused, the vault unchanged.
//
// Values fn does not touch keep their exact text: numbers stay as written.
// Objects are written with their keys sorted.
//
// The new vault keeps the old one's timestamp when keys[0] opened it: the
// timestamp says when the vault's key last changed, so that [WithMaxAge]
// means "rotated at least this often" and no change of a value can satisfy
// it (Python's Fernet.decrypt with ttl reads the same timestamp). When an
// older key of the ring opened it, the vault changes key, and the timestamp
// is the time of the update.
//
// With [WithAuditor], Update records the open, then one event per Set,
// Delete or Replace that fn made (OpSet, OpDelete, OpReplace, with the path),
// just before the new vault replaces the old one; if none, one OpUpdate
// event. When the update fails, the same events record the failure, a
// refused Set or Delete included.
// The vault must exist; Seal creates one. Options apply as for Open (the
// maximum age) and Seal (the clock, the lock timeout).
//
// Update is the only way to change a vault: a [Vault] that Open returns has
// no method that changes it, so that no change is made in memory alone and
// lost. A vault with a recipients file is changed with package custody's
// Update, which seals with the key the file wraps, so that its recipients
// can still open it.
func Update(path string, keys []*Key, fn func(tx *Tx) error, opts ...UpdateOption) error {
	return UpdateContext(context.Background(), path, keys, fn, opts...)
}

// UpdateContext is Update with a context, which the Auditor receives (see
// [Auditor]) and which ends the wait for another writer when it is done.
func UpdateContext(ctx context.Context, path string, keys []*Key, fn func(tx *Tx) error, opts ...UpdateOption) error {
	if ctx == nil {
		return errNilContext
	}
	if fn == nil {
		return fmt.Errorf("vault: %s: Update needs a function that changes the vault (fn is nil); the vault is unchanged", path)
	}
	o := newOptions(opts)
	if err := checkKeyring(path, keys); err != nil {
		return err
	}
	var events []Event
	err := withWriteLockContext(ctx, path, o, func(target string) error {
		v, err := open(ctx, path, func() ([]byte, error) { return readVault(target) }, keys, o)
		if err != nil {
			return err
		}
		tx := &Tx{v: v}
		err = fn(tx)
		tx.done = true
		events = v.changes
		if len(events) == 0 {
			events = []Event{v.event(OpUpdate, nil)}
		}
		for i := range events {
			events[i].SealKey = keys[0].Fingerprint()
		}
		if err != nil {
			return err
		}
		plain, err := encodeDocument(*v.doc())
		if err != nil {
			return err
		}
		defer clear(plain)
		at := o.now()
		if v.keyIndex == 0 {
			at = v.sealedAt
		}
		return sealAndReplace(ctx, path, target, plain, keys[0], at, o, events, true)
	})
	if err != nil && len(events) == 0 {
		events = []Event{{Op: OpUpdate, Vault: path, KeyIndex: -1, SealKey: keys[0].Fingerprint()}}
	}
	return o.auditFailure(ctx, events, err)
}

// A Tx is a vault being changed inside [Update]: Set, Delete and Replace
// make the changes, and the reading methods (Get, Lookup, Decode, Paths,
// ...) see the changes made so far. Update saves the changes when fn
// returns nil. A Tx is valid only while fn runs: afterwards, and for a Tx
// that Update did not make (the zero Tx), every method fails with
// [ErrTxDone]. It is not safe for concurrent use.
//
// Printing a Tx, with any fmt verb or through log/slog, shows its vault's
// file name, never a value.
type Tx struct {
	v    *Vault // the vault being changed; nil for a Tx not made by Update
	done bool   // fn has returned
}

// ErrTxDone means a Tx was used outside the fn that Update called with it:
// after fn had returned, when a change would be lost, or without Update at
// all (the zero Tx, whose changes would be saved nowhere).
var ErrTxDone = errors.New("vault: the Tx is not valid: use the Tx that Update passes to fn, while fn runs")

// vault returns the vault a Tx changes, or ErrTxDone.
func (tx *Tx) vault() (*Vault, error) {
	if tx == nil || tx.done || tx.v.ready() != nil {
		return nil, ErrTxDone
	}
	return tx.v, nil
}

// Get is [Vault.Get] on the vault as changed so far.
func (tx *Tx) Get(path string) (string, error) {
	return tx.GetContext(context.Background(), path)
}

// GetContext is [Vault.GetContext] on the vault as changed so far.
func (tx *Tx) GetContext(ctx context.Context, path string) (string, error) {
	v, err := tx.vault()
	if err != nil {
		return "", err
	}
	return v.GetContext(ctx, path)
}

// Lookup is [Vault.Lookup] on the vault as changed so far.
func (tx *Tx) Lookup(path string) (value string, ok bool, err error) {
	return tx.LookupContext(context.Background(), path)
}

// LookupContext is [Vault.LookupContext] on the vault as changed so far.
func (tx *Tx) LookupContext(ctx context.Context, path string) (value string, ok bool, err error) {
	v, err := tx.vault()
	if err != nil {
		return "", false, err
	}
	return v.LookupContext(ctx, path)
}

// Decode is [Vault.Decode] on the vault as changed so far.
func (tx *Tx) Decode(path string, dst any) error {
	return tx.DecodeContext(context.Background(), path, dst)
}

// DecodeContext is [Vault.DecodeContext] on the vault as changed so far.
func (tx *Tx) DecodeContext(ctx context.Context, path string, dst any) error {
	v, err := tx.vault()
	if err != nil {
		return err
	}
	return v.DecodeContext(ctx, path, dst)
}

// RevealJSON is [Vault.RevealJSON] on the vault as changed so far.
func (tx *Tx) RevealJSON() ([]byte, error) {
	return tx.RevealJSONContext(context.Background())
}

// RevealJSONContext is [Vault.RevealJSONContext] on the vault as changed
// so far.
func (tx *Tx) RevealJSONContext(ctx context.Context) ([]byte, error) {
	v, err := tx.vault()
	if err != nil {
		return nil, err
	}
	return v.RevealJSONContext(ctx)
}

// Paths is [Vault.Paths] on the vault as changed so far; nil for a Tx that
// is not valid.
func (tx *Tx) Paths() []string {
	v, err := tx.vault()
	if err != nil {
		return nil
	}
	return v.Paths()
}

// Len is [Vault.Len] on the vault as changed so far; 0 for a Tx that is not
// valid.
func (tx *Tx) Len() int {
	v, err := tx.vault()
	if err != nil {
		return 0
	}
	return v.Len()
}

// Name returns the vault's file name, as given to Update; "" for a Tx that
// is not valid.
func (tx *Tx) Name() string {
	v, err := tx.vault()
	if err != nil {
		return ""
	}
	return v.Name()
}

// String describes the Tx without the vault's contents:
// "vault.Tx(credentials.enc)".
func (tx *Tx) String() string {
	if tx == nil || tx.v == nil {
		return "vault.Tx(invalid)"
	}
	return "vault.Tx(" + tx.v.name + ")"
}

// GoString returns the same as String, so that %#v shows no secret.
func (tx *Tx) GoString() string { return tx.String() }

// Format implements fmt.Formatter so that every verb prints String.
func (tx *Tx) Format(f fmt.State, verb rune) { fmt.Fprint(f, tx.String()) }

// LogValue implements slog.LogValuer with the same description.
func (tx *Tx) LogValue() slog.Value { return slog.StringValue(tx.String()) }

// Set sets the value at a credential path, creating the objects on the way
// that do not exist: Set("database.password", "x") works on an empty vault.
// value may be any type Seal accepts; it is stored as Open would read it
// back (an int becomes a number with the same text). An array element can
// be replaced by its index, but arrays do not grow.
//
// Set refuses to replace an object or array that holds values, since that
// drops all of them (Set("database", "x") over the database's host, user
// and password), unless given [ReplaceTree]. It refuses a path nested
// deeper than a vault may be.
//
// A refused Set changes nothing, and Update audits it as a failure.
func (tx *Tx) Set(path string, value any, opts ...SetOption) error {
	v, err := tx.vault()
	if err != nil {
		return err
	}
	var so setOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&so)
		}
	}
	return v.recordChange(OpSet, path, v.set(path, value, so))
}

// A SetOption changes what [Tx.Set] accepts.
type SetOption func(*setOptions)

type setOptions struct {
	replaceTree bool
}

// ReplaceTree lets [Tx.Set] replace an object or an array that holds
// values, such as a whole "database" object, with the new value. The
// credvault CLI's set -force gives it.
func ReplaceTree() SetOption {
	return func(o *setOptions) { o.replaceTree = true }
}

func (v *Vault) set(path string, value any, so setOptions) error {
	segs, err := parsePath(path)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", v.name, err)
	}
	// The document is level 1, so a value at n keys needs n levels of
	// objects above it.
	if len(segs) > maxDepth {
		return fmt.Errorf("vault: %s: cannot set %q: a path of %d keys would nest deeper than the %d levels a vault may hold", v.name, shortPath(path), len(segs), maxDepth)
	}
	val, err := normalize(value, segs)
	if err != nil {
		return err
	}
	// Every refusal comes before the first change: below an object that
	// Set adds, nothing can be refused.
	slot := v.doc()
	for i, seg := range segs {
		last := i == len(segs)-1
		switch slot.kind() {
		case kindObject:
			at, ok := slot.find(seg)
			if last {
				if ok && !so.replaceTree {
					if err := v.keepTree(path, slot.members()[at].val); err != nil {
						return err
					}
				}
				slot.setMember(seg, val)
				return nil
			}
			if !ok {
				slot.setMember(seg, objectNode(nil))
			}
			slot = &slot.members()[at].val
		case kindArray:
			idx, ok := parseIndex(seg)
			if !ok || idx >= slot.len() {
				return fmt.Errorf("vault: %s: cannot set %q: %q is an array of %d elements and arrays do not grow; set the whole array instead", v.name, path, formatPath(segs[:i]), slot.len())
			}
			elem := &slot.elems()[idx]
			if last {
				if !so.replaceTree {
					if err := v.keepTree(path, *elem); err != nil {
						return err
					}
				}
				*elem = val
				return nil
			}
			slot = elem
		default:
			return fmt.Errorf("vault: %s: cannot set %q: %q is a %s, which cannot hold keys; unset it first to replace it with an object", v.name, path, formatPath(segs[:i]), slot.kindName())
		}
	}
	return nil // not reached: parsePath returns at least one segment
}

// keepTree refuses to replace old, the value at path, if it is an object or
// an array that holds values.
func (v *Vault) keepTree(path string, old node) error {
	count := countLeaves(old)
	switch old.kind() {
	case kindObject:
		if count > 0 {
			return fmt.Errorf("vault: %s: %q is an object holding %d values (keys %s): setting it would replace them all; set one of its keys, such as %q, or replace the whole object on purpose (ReplaceTree, set -force)",
				v.name, path, count, listNames(old.keys()), path+"."+firstKey(old))
		}
	case kindArray:
		if count > 0 {
			return fmt.Errorf("vault: %s: %q is an array holding %d values: setting it would replace them all; set one element, such as %q, or replace the whole array on purpose (ReplaceTree, set -force)",
				v.name, path, count, path+".0")
		}
	}
	return nil
}

// Delete removes the value at a credential path, with everything below it.
// It is a *NotFoundError if there is nothing there. Only object keys can be
// deleted: to change an array, set the whole array.
//
// A refused Delete changes nothing, and Update audits it as a failure.
func (tx *Tx) Delete(path string) error {
	v, err := tx.vault()
	if err != nil {
		return err
	}
	return v.recordChange(OpDelete, path, v.delete(path))
}

func (v *Vault) delete(path string) error {
	segs, err := parsePath(path)
	if err != nil {
		return fmt.Errorf("vault: %s: %w", v.name, err)
	}
	if _, err := lookup(v.name, path, *v.doc(), segs); err != nil {
		return err
	}
	parent := v.doc()
	for _, seg := range segs[:len(segs)-1] { // the path exists
		if parent.kind() == kindArray {
			idx, _ := parseIndex(seg)
			parent = &parent.elems()[idx]
			continue
		}
		at, _ := parent.find(seg)
		parent = &parent.members()[at].val
	}
	if parent.kind() != kindObject {
		return fmt.Errorf("vault: %s: cannot unset %q: it is an element of an array; set the whole array instead", v.name, path)
	}
	parent.deleteMember(segs[len(segs)-1])
	return nil
}

// Replace replaces the vault's whole document with secrets, anything that
// Seal takes: a map or a struct that encodes as a JSON object, not nil, a
// nil map or a nil pointer (to empty the vault, pass map[string]any{}).
func (tx *Tx) Replace(secrets any) error {
	v, err := tx.vault()
	if err != nil {
		return err
	}
	if err := checkNotNil(secrets, "empty the vault"); err != nil {
		return v.recordChange(OpReplace, "", fmt.Errorf("vault: %s: %s", v.name, trimPrefix(err)))
	}
	val, err := normalize(secrets, nil)
	if err != nil {
		return v.recordChange(OpReplace, "", err)
	}
	if val.kind() != kindObject {
		return v.recordChange(OpReplace, "", fmt.Errorf("vault: %s: the new document (Go type %T) is a JSON %s, not an object: a vault holds one object", v.name, secrets, val.kindName()))
	}
	v.doc = func() *node { return &val }
	return v.recordChange(OpReplace, "", nil)
}

// recordChange notes a change for Update to audit when it commits it, or
// a refused change, with its error, for Update to audit as a failure.
func (v *Vault) recordChange(op Op, path string, err error) error {
	e := v.event(op, err)
	e.Path = path
	v.changes = append(v.changes, e)
	return err
}

// normalize turns a value of any type Seal accepts into a node, as Open
// would read it back, so that a Vault holds one representation whatever
// was set. The node shares no memory with value but its strings.
func normalize(value any, path []string) (node, error) {
	e := encoder{path: path}
	if err := e.value(value); err != nil { // also checks UTF-8 and number text
		return node{}, err
	}
	defer clear(e.buf)
	switch value := value.(type) {
	case string:
		return stringNode(value), nil
	case json.Number:
		return numberNode(string(value)), nil
	case bool:
		return boolNode(value), nil
	case nil:
		return node{}, nil
	}
	n, err := decodeValue(e.buf) // copies every string out of e.buf
	if err != nil {
		return node{}, errors.New("vault: re-reading an encoded value failed")
	}
	return n, nil
}

// Paths returns the credential paths of every value in the vault, sorted;
// names only, never values. Empty objects and arrays hold no value and are
// not listed. A Vault that was not opened has none.
func (v *Vault) Paths() []string {
	if v.ready() != nil {
		return nil
	}
	var paths []string
	var walk func(n node, segs []string)
	walk = func(n node, segs []string) {
		switch n.kind() {
		case kindObject:
			for _, m := range n.members() {
				walk(m.val, append(slices.Clip(segs), m.key))
			}
		case kindArray:
			for i, x := range n.elems() {
				walk(x, append(slices.Clip(segs), strconv.Itoa(i)))
			}
		default:
			paths = append(paths, formatPath(segs))
		}
	}
	walk(*v.doc(), nil)
	slices.Sort(paths)
	return paths
}
