package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrConflict means two versions of a vault changed the same credential
// differently: [Merge] found such changes (the error is a *MergeError
// naming them), or a vault file holds the conflict markers git writes when
// it merges a vault as text, without credvault's merge driver.
var ErrConflict = errors.New("vault: merge conflict")

// A Change is what one side of a merge did to a credential path, compared
// with the version both sides come from.
type Change string

// The changes a side of a merge can make.
const (
	Added   Change = "added"
	Changed Change = "changed"
	Removed Change = "removed"
)

// A Conflict is a credential path that both sides of a merge changed, in
// different ways. It holds names only, never a value.
type Conflict struct {
	Path         string // the credential path, as Get takes it
	Ours, Theirs Change // what each side did to it since the base
}

// A MergeError reports the conflicts of a merge. Our version then holds
// the merge of everything that did not conflict, sealed, with our value at
// each conflicting path, as git leaves a text file with conflict markers:
// the changes of both sides are kept, and only the paths named remain to
// decide. errors.Is(err, ErrConflict) reports true for it.
type MergeError struct {
	Vault     string     // our version, which holds the merge of the rest
	Conflicts []Conflict // sorted by path
}

// Error names each conflicting path and what each side did to it.
func (e *MergeError) Error() string {
	const max = 12
	parts := make([]string, 0, min(len(e.Conflicts), max))
	for _, c := range e.Conflicts[:min(len(e.Conflicts), max)] {
		parts = append(parts, fmt.Sprintf("%q (ours %s, theirs %s)", c.Path, c.Ours, c.Theirs))
	}
	list := strings.Join(parts, ", ")
	if len(e.Conflicts) > max {
		list += fmt.Sprintf(" and %d more", len(e.Conflicts)-max)
	}
	what, it := "a credential", "it"
	if len(e.Conflicts) > 1 {
		what, it = fmt.Sprintf("%d credentials", len(e.Conflicts)), "each"
	}
	return fmt.Sprintf("vault: %s: both sides of the merge changed %s differently: %s: the file holds our value of %s and every change of both sides that did not conflict; set %s to what both sides meant",
		e.Vault, what, list, it, it)
}

// Is reports whether target is ErrConflict.
func (e *MergeError) Is(target error) bool { return target == ErrConflict }

// Merge merges two versions of a vault that come from a common one, as git
// merges two branches, and writes the result over ours. It is what the
// "credvault merge" git merge driver runs, and what a Go program (a bot that
// merges branches) can call with the same files.
//
// The three files are opened with keys; each may be sealed with a different
// key of the keyring (a rotation on one branch). An empty base stands for a
// vault that did not exist (git gives an empty file when both branches
// added the vault). The JSON documents are merged three-way, object by
// object: a value, an object or an array added, changed or removed on one
// side only takes that side's version; the same change on both sides is
// taken once; a credential path changed differently on both sides (changed
// on one and removed on the other, or added with different values) is a
// conflict. Arrays are values: two different changes to one array
// conflict.
//
// The merged document, its object keys sorted, replaces ours atomically,
// under the write lock of ours, after checking that the new token decrypts
// to it. If there are conflicts, the document written holds our value at
// each conflicting path and the merge of everything else, so that no
// change of either side is lost, and Merge returns a *MergeError that
// names each conflicting path and what each side did, never a value. A
// version that does not open, or a failed write, leaves ours unchanged.
//
// # The key and the timestamp of the result
//
// The result is sealed with the newer of the keys that sealed ours and
// theirs: the one nearer the front of the keyring, which is newest first.
// That is ours's key unless theirs was rotated to a newer one; then the
// merge keeps the rotation instead of undoing it (and merging in either
// direction, or rebasing, gives the same key). A merge is not a rotation,
// so the result keeps the timestamp of the version whose key it uses, the
// older of the two when both used the same key: the timestamp says when the
// key last changed, and a merge cannot satisfy a maximum age
// ([WithMaxAge]). Nothing is written when the result is ours already.
//
// With [WithAuditor], Merge records the opening of each version and one
// OpMerge event for ours, with the conflicting paths in Names and the
// *MergeError in Err if any.
func Merge(base, ours, theirs string, keys []*Key, opts ...WriteOption) error {
	return MergeContext(context.Background(), base, ours, theirs, keys, opts...)
}

// MergeContext is Merge with a context, which the Auditor receives (see
// [Auditor]) and which ends the wait for another writer of ours when it is
// done.
func MergeContext(ctx context.Context, base, ours, theirs string, keys []*Key, opts ...WriteOption) error {
	if ctx == nil {
		return errNilContext
	}
	o := newOptions(opts)
	if err := checkKeyring(ours, keys); err != nil {
		return err
	}
	events := []Event{{Op: OpMerge, Vault: ours, KeyIndex: -1}}
	var conflict *MergeError
	err := withWriteLockContext(ctx, ours, o, func(target string) error {
		b, err := openMergeBase(ctx, base, keys, o)
		if err != nil {
			return mergeSideError("the common ancestor's", err)
		}
		ov, err := open(ctx, ours, func() ([]byte, error) { return readVault(target) }, keys, o)
		if err != nil {
			return mergeSideError("our", err)
		}
		tv, err := open(ctx, theirs, func() ([]byte, error) { return readVault(theirs) }, keys, o)
		if err != nil {
			return mergeSideError("their", err)
		}
		events[0].Key, events[0].KeyIndex = ov.key.Fingerprint(), ov.keyIndex

		m := &merger{}
		merged := m.node(nil, b, *ov.doc(), *tv.doc())
		if len(m.conflicts) > 0 {
			conflict = &MergeError{Vault: ours, Conflicts: m.conflicts}
			for _, c := range m.conflicts {
				events[0].Names = append(events[0].Names, c.Path)
			}
			events[0].Err = conflict
		}

		result, at := ov, ov.sealedAt
		switch {
		case tv.keyIndex < ov.keyIndex:
			result, at = tv, tv.sealedAt
		case tv.keyIndex == ov.keyIndex && tv.sealedAt.Before(at):
			at = tv.sealedAt
		}
		events[0].SealKey = result.key.Fingerprint()
		if result == ov && at.Equal(ov.sealedAt) && sameNode(merged, *ov.doc()) {
			return o.auditAll(ctx, events) // ours is the result already
		}
		plain, err := encodeDocument(merged)
		if err != nil {
			return err
		}
		defer clear(plain)
		return sealAndReplace(ctx, ours, target, plain, result.key, at, o, events, true)
	})
	if err == nil && conflict != nil {
		return conflict // written and audited with its conflicts
	}
	return o.auditFailure(ctx, events, err)
}

// openMergeBase opens the common ancestor of a merge, returning its
// document: an empty one for an empty file, which git gives for a vault
// that did not exist.
func openMergeBase(ctx context.Context, path string, keys []*Key, o *options) (node, error) {
	raw, err := readVault(path)
	if err != nil {
		return node{}, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return objectNode(nil), nil
	}
	v, err := open(ctx, path, func() ([]byte, error) { return raw, nil }, keys, o)
	if err != nil {
		return node{}, err
	}
	return *v.doc(), nil
}

func mergeSideError(side string, err error) error {
	return &vaultError{msg: fmt.Sprintf("vault: cannot merge %s version: %s", side, strings.TrimPrefix(err.Error(), "vault: ")), err: err}
}

// A merger merges documents three-way and collects the conflicts.
type merger struct {
	conflicts []Conflict
}

// node returns the merge of one value in three versions (any of them
// absentNode), or absentNode if the merge removes it.
func (m *merger) node(path []string, base, ours, theirs node) node {
	switch {
	case sameNode(ours, theirs):
		return ours
	case sameNode(base, ours):
		return theirs
	case sameNode(base, theirs):
		return ours
	}
	if ours.kind() != kindObject || theirs.kind() != kindObject {
		m.conflicts = append(m.conflicts, Conflict{Path: formatPath(path), Ours: change(base, ours), Theirs: change(base, theirs)})
		return ours
	}
	if base.kind() != kindObject {
		base = objectNode(nil) // absent or not an object: every key is new
	}
	keys := make([]string, 0, base.len()+ours.len()+theirs.len())
	for _, obj := range []node{base, ours, theirs} {
		keys = append(keys, obj.keys()...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make([]member, 0, len(keys))
	for _, k := range keys {
		v := m.node(append(slices.Clip(path), k), memberOr(base, k), memberOr(ours, k), memberOr(theirs, k))
		if v.kind() != kindAbsent {
			out = append(out, member{k, v})
		}
	}
	return objectNode(out)
}

// memberOr returns obj's value at k, or absentNode.
func memberOr(obj node, k string) node {
	if v, ok := obj.member(k); ok {
		return v
	}
	return absentNode
}

// change says what a side did to a value, from base to side.
func change(base, side node) Change {
	switch {
	case base.kind() == kindAbsent:
		return Added
	case side.kind() == kindAbsent:
		return Removed
	}
	return Changed
}

// conflictMarkersError reports a vault file that git merged as text: it
// holds git's conflict markers around two tokens.
func conflictMarkersError(name string) error {
	return &vaultError{
		msg: fmt.Sprintf("vault: %s holds git conflict markers (<<<<<<<, =======, >>>>>>>): git merged two sealed versions as text, which cannot work; "+
			"merge them with credvault's merge driver: run \"credvault git-setup\" once in the repository, then redo the merge of this file (git checkout -m %s, then git add it)", name, name),
		err: errors.Join(ErrMalformed, ErrConflict),
	}
}

// hasConflictMarkers reports whether data has the lines git writes around
// the two sides of a conflict it could not merge: one that starts with
// "<<<<<<< " (or is "<<<<<<<") and, after it, one that starts with
// ">>>>>>>". A token never holds '<'.
func hasConflictMarkers(data []byte) bool {
	if bytes.IndexByte(data, '<') < 0 {
		return false
	}
	start := markerLine(data, "<<<<<<<")
	return start >= 0 && markerLine(data[start:], ">>>>>>>") >= 0
}

// markerLine returns the offset of the first line of data that is marker
// or starts with marker and a space, or -1.
func markerLine(data []byte, marker string) int {
	for off := 0; off < len(data); {
		line, next := data[off:], len(data)
		if end := bytes.IndexByte(line, '\n'); end >= 0 {
			line, next = line[:end], off+end+1
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if rest, ok := bytes.CutPrefix(line, []byte(marker)); ok && (len(rest) == 0 || rest[0] == ' ') {
			return off
		}
		off = next
	}
	return -1
}

// SealedAt returns when the vault file at path was sealed: its Fernet
// timestamp, which anyone who can read the file can see, without a key. It
// checks that the file is a whole Fernet token, as Open does before it
// tries a key, so that "credvault textconv" can describe a version that no
// key at hand opens (one sealed before a rotation).
func SealedAt(path string) (time.Time, error) {
	raw, err := readVault(path)
	if err != nil {
		return time.Time{}, err
	}
	if hasConflictMarkers(raw) {
		return time.Time{}, conflictMarkersError(path)
	}
	_, _, sealedAt, err := openToken(bytes.TrimSpace(raw), nil)
	if !errors.Is(err, errWrongKey) { // with no key, a whole token fails only there
		return time.Time{}, errorf(ErrMalformed, "%s is not a sealed vault: %v: give the path of a vault written by credvault or Python's Fernet", path, err)
	}
	return sealedAt, nil
}
