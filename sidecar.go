package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A sidecar is a file that changes together with a vault, such as the
// recipients file of package custody, which holds the vault's key wrapped
// for each recipient. See WithSidecar.
type sidecar struct {
	path    string
	perm    fs.FileMode
	content func() ([]byte, error)
	data    []byte // what content returned, once the write goes ahead
}

// WithSidecar makes a write ([Seal], [Rotate], [Update], [Merge]) replace
// the file at path (created with mode perm) with what content returns, in
// the same write as the vault, under the same lock, so that the two never
// disagree for good, whatever instant the process is killed at:
//
//  1. content is called, with the lock held, once the new vault is sealed
//     (and, for Rotate, Update and Merge, the old one opened with the
//     keys): it may read the sidecar as it is now. If it fails, so does the
//     write, and nothing changes;
//  2. what it returned is written, synced and renamed to
//     [PendingSidecar](path);
//  3. the vault is replaced, as without the option;
//  4. the pending file is renamed over path.
//
// Between 3 and 4 (for microseconds, or for good after a kill there), the
// vault is new and path still old, and the pending file holds the new
// sidecar: a reader that finds path does not match the vault reads the
// pending file instead. A kill between 2 and 3 leaves a pending file that
// does not match the vault either; the next write replaces it, so content
// must settle a pending file that does match the vault (rename it over
// path) before returning, or its content is lost. If the write fails
// before 3, the pending file is removed and nothing changed.
//
// If path is a symbolic link, the file it leads to is replaced, as the
// vault is. A write replaces, at path or at its pending name, only a file
// of the kind content returns (a recipients file for a recipients file),
// or an empty one: with [WithReplaceAny] (Seal), also another regular file,
// but not one a symbolic link leads to. Anything but a regular file, a key
// file and age identities are never replaced. Several sidecars may follow one write, one WithSidecar each; two
// for the same path are an error.
func WithSidecar(path string, perm fs.FileMode, content func() ([]byte, error)) WriteOption {
	return writeOptionFunc(func(o *options) {
		o.sidecars = append(o.sidecars, &sidecar{path: path, perm: perm, content: content})
	})
}

// PendingSidecar returns the name under which a write made with
// [WithSidecar] keeps the sidecar's new content between replacing the vault
// and replacing the sidecar: path + ".pending".
func PendingSidecar(path string) string { return path + ".pending" }

// A SidecarUpdate is a change of a vault's sidecar alone, made by
// [UpdateSidecar]: package custody's change of who can open the vault.
type SidecarUpdate struct {
	// Path is the sidecar, created with mode Perm.
	Path string
	Perm fs.FileMode
	// Content returns the sidecar's new content; UpdateSidecar calls it
	// with the vault's write lock held, so it reads the sidecar as no
	// other writer can change it. If it fails, nothing is written.
	Content func() ([]byte, error)

	// Op, Key and Recipient describe the change for its audit event
	// ([Event]): Op names it ([OpRecipientAdd], [OpRecipientRemove]), Key
	// is the fingerprint of the vault's key, and Recipient the recipient
	// added or removed. Never a key.
	Op        Op
	Key       string
	Recipient string
}

// UpdateSidecar replaces a vault's sidecar with what u.Content returns,
// atomically and durably, under the write lock of the vault at vaultPath,
// so that it is serialized with every write of the vault and of its other
// sidecars, and no concurrent update is lost. A pending file left by an
// interrupted write (see [WithSidecar]) is removed once the sidecar is
// replaced: Content has seen it, and the sidecar now says what it should.
// If the sidecar is a symbolic link, the file it leads to is replaced. A
// sidecar or a pending file of another kind than what Content returns is
// refused, as [WithSidecar] refuses it without WithReplaceAny.
//
// The change is audited, success or failure, as an Event of u.Op. Options
// apply as for [Rotate] (the Auditor, the lock timeout); ctx ends the wait
// for the lock. [WithSidecar] does not apply: it is an error.
func UpdateSidecar(ctx context.Context, vaultPath string, u SidecarUpdate, opts ...WriteOption) error {
	if ctx == nil {
		return errNilContext
	}
	if u.Content == nil {
		return fmt.Errorf("vault: %s: UpdateSidecar needs a Content function that returns the new contents; nothing was written", u.Path)
	}
	o := newOptions(opts)
	events := []Event{{Op: u.Op, Vault: vaultPath, Key: u.Key, KeyIndex: -1, Recipient: u.Recipient}}
	if len(o.sidecars) > 0 {
		return o.auditFailure(ctx, events, fmt.Errorf("vault: UpdateSidecar writes %s alone: WithSidecar does not apply to it", u.Path))
	}
	err := withWriteLockContext(ctx, vaultPath, o, func(string) error {
		data, err := u.Content()
		if err != nil {
			return err
		}
		if err := checkSidecar(u.Path, data, o); err != nil {
			return err
		}
		if err := o.auditAll(ctx, events); err != nil {
			return err
		}
		target, err := writeTarget(u.Path)
		if err != nil {
			return err
		}
		if err := writeSidecar(target, target, data, u.Perm); err != nil {
			return err
		}
		if err := os.Remove(PendingSidecar(u.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &vaultError{msg: fmt.Sprintf("vault: %s was written, but the stale %s could not be removed: %v: remove it", u.Path, PendingSidecar(u.Path), unwrapPath(err)), err: err}
		}
		return nil
	})
	return o.auditFailure(ctx, events, err)
}

// replaceWithSidecars is step 3 of WithSidecar, with the others around it:
// the sidecars' content made and staged (after the audit approves the
// write), the vault replaced with tok, the sidecars committed if the new
// token took the vault's place (even if a later step failed), abandoned if
// not. The caller holds the write lock.
func replaceWithSidecars(ctx context.Context, target string, tok []byte, o *options, events []Event) error {
	seen := map[string]bool{}
	for _, s := range o.sidecars {
		if seen[s.path] {
			return fmt.Errorf("vault: two WithSidecar options name %s: give one", s.path)
		}
		seen[s.path] = true
	}
	staged := 0
	abandon := func() {
		for _, s := range o.sidecars[:staged] {
			s.abandon()
		}
	}
	err := replaceFile(target, tok, o, func() error {
		for _, s := range o.sidecars {
			data, err := s.content()
			if err != nil {
				return err
			}
			s.data = data
			if err := checkSidecar(s.path, data, o); err != nil {
				return err
			}
		}
		if err := o.auditAll(ctx, events); err != nil {
			return err
		}
		for _, s := range o.sidecars {
			if err := s.stage(); err != nil {
				return err
			}
			staged++
		}
		return nil
	})
	if err != nil {
		if cur, rerr := os.ReadFile(target); rerr != nil || !bytes.Equal(cur, tok) {
			abandon()
			return err
		}
	}
	for _, s := range o.sidecars {
		err = errors.Join(err, s.commit(o))
	}
	return err
}

// checkSidecar returns nil if a write may put data in the sidecar at path
// and replace its pending file (see WithSidecar): each of the two may be
// missing, empty, or a file of the same kind as data (see keyMaterial: a
// recipients file for a recipients file, a file that holds no keys for
// other content). It refuses, whatever the options, anything but a regular
// file, and a key file or age identities, which no write replaces; with
// WithNoClobber, any file; a file of another kind unless WithReplaceAny
// allows it, and even then a file reached through a symbolic link, which
// may be anyone's. It reads the files without waiting (see openRegular).
// The caller holds the write lock.
func checkSidecar(path string, data []byte, o *options) error {
	want := keyMaterial(bytes.TrimSpace(data))
	for _, p := range []string{path, PendingSidecar(path)} {
		if err := checkSidecarFile(p, want, o); err != nil {
			return err
		}
	}
	return nil
}

// checkSidecarFile is checkSidecar for one file, path, which is to hold
// content of the kind want.
func checkSidecarFile(path, want string, o *options) error {
	linfo, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return writeError(path, "check what it is", err)
	}
	name, link := path, linfo.Mode()&fs.ModeSymlink != 0
	if link {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return &vaultError{msg: fmt.Sprintf("vault: %s is a symbolic link that cannot be followed: %v: fix or remove the link; nothing was written", path, unwrapPath(err)), err: err}
		}
		name = fmt.Sprintf("%s (a link to %s)", path, target)
	}
	info, err := os.Stat(path)
	if err != nil {
		return writeError(name, "check what it is", err)
	}
	if !info.Mode().IsRegular() {
		return &vaultError{msg: fmt.Sprintf("vault: %s is %s, not a file this write replaces: nothing was written; move it away", name, fileKind(info.Mode()))}
	}
	if o.noClobber {
		return &vaultError{msg: fmt.Sprintf("vault: %s already exists: nothing was written", name), err: fs.ErrExist}
	}
	f, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	old, err := readLimited(path, f)
	defer clear(old)
	have := "a file too large or unreadable to tell what it is"
	if err == nil {
		if old = bytes.TrimSpace(old); len(old) == 0 {
			return nil
		}
		have = keyMaterial(old)
		switch {
		case have == want:
			return nil
		case have == kindKeyFile || have == kindIdentities:
			return &vaultError{msg: fmt.Sprintf("vault: %s is %s: writing it would destroy it, and no option allows that; nothing was written: give the vault another path, or move the file away", name, have)}
		case have == "":
			have = "a file of another kind"
		}
	}
	if o.replaceAny && !link {
		return nil
	}
	msg := fmt.Sprintf("vault: %s is %s, not %s: writing it would destroy it; nothing was written: move it away", name, have, describeKind(want))
	if link {
		return &vaultError{msg: msg + " (this write replaces no file a symbolic link leads to but a file of its own kind)"}
	}
	return &vaultError{msg: msg + ", or allow replacing it (WithReplaceAny, -force)", err: fs.ErrExist}
}

// describeKind names a kind of content as keyMaterial names it, "" being
// content that holds no keys.
func describeKind(kind string) string {
	if kind == "" {
		return "a file that holds no keys"
	}
	return kind
}

// writeSidecar writes data to a temporary file beside path, syncs it,
// renames it to dest (path or its pending name) and syncs the directory.
func writeSidecar(path, dest string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base)
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return writeError(path, "create a temporary file beside it", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return writeError(path, "write the temporary file", err)
	}
	// CreateTemp makes the file 0600; the sidecar's own mode is set before
	// it takes its name.
	if err := f.Chmod(perm); err != nil {
		return writeError(path, "set the temporary file's mode", err)
	}
	if err := f.Sync(); err != nil {
		return writeError(path, "sync the temporary file", err)
	}
	if err := f.Close(); err != nil {
		return writeError(path, "close the temporary file", err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return writeError(path, "rename the temporary file into place", err)
	}
	if err := syncDir(dir); err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: %s was written, but its directory could not be synced (%v): it may not survive a power loss", dest, err), err: err}
	}
	return nil
}

// stage is step 2 of WithSidecar: the new sidecar, durable under its
// pending name, before the vault is replaced.
func (s *sidecar) stage() error {
	return writeSidecar(s.path, PendingSidecar(s.path), s.data, s.perm)
}

// commit is step 4: the pending file renamed over the sidecar, or, when the
// sidecar is a symbolic link, the file it leads to replaced and the pending
// file removed. The vault is already replaced, so a failure says where the
// new sidecar is.
func (s *sidecar) commit(o *options) error {
	pending := PendingSidecar(s.path)
	err := o.fail("sidecar")
	var target string
	if err == nil {
		target, err = writeTarget(s.path)
	}
	switch {
	case err != nil:
	case target == s.path:
		err = os.Rename(pending, s.path)
	default:
		if err = writeSidecar(target, target, s.data, s.perm); err == nil {
			os.Remove(pending)
		}
	}
	if err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: the vault was replaced, but %s could not be: %v: its new content is in %s; rename it to %s", s.path, unwrapPath(err), pending, s.path), err: err}
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: %s was replaced, but its directory could not be synced (%v): it may not survive a power loss", s.path, err), err: err}
	}
	return nil
}

// abandon removes the pending file of a write that failed before the vault
// was replaced.
func (s *sidecar) abandon() { os.Remove(PendingSidecar(s.path)) }
