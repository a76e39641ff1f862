package vault

import (
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
	path string
	data []byte
	perm fs.FileMode
}

// WithSidecar makes a write ([Seal], [Rotate], [Update]) replace the file at path with data
// (created with mode perm) in the same write as the vault, under the same
// lock, so that the two never disagree for good, whatever instant the
// process is killed at:
//
//  1. data is written, synced and renamed to [PendingSidecar](path);
//  2. the vault is replaced, as without the option;
//  3. the pending file is renamed over path.
//
// Between 2 and 3 (for microseconds, or for good after a kill there), the
// vault is new and path still old, and the pending file holds the new
// sidecar: a reader that finds path does not match the vault reads the
// pending file instead. A kill between 1 and 2 leaves a pending file that
// does not match the vault either, and is ignored and replaced by the next
// write. If the write fails before 2, the pending file is removed and
// nothing changed.
func WithSidecar(path string, data []byte, perm fs.FileMode) WriteOption {
	return writeOptionFunc(func(o *options) { o.sidecar = &sidecar{path: path, data: data, perm: perm} })
}

// PendingSidecar returns the name under which a write made with
// [WithSidecar] keeps the sidecar's new content between replacing the vault
// and replacing the sidecar: path + ".pending".
func PendingSidecar(path string) string { return path + ".pending" }

// UpdateSidecar replaces the file at path with what fn returns, atomically
// and durably, under the write lock of the vault at vaultPath, so that it is
// serialized with every write of the vault and of its other sidecars: fn
// reads what it needs with the lock held, and no concurrent update is lost.
// The file is created with mode perm. A pending file left by an interrupted
// write (see [WithSidecar]) is removed once path is replaced: fn has seen
// it, and path now says what it should.
//
// If fn returns an error, nothing is written and UpdateSidecar returns it.
// Options apply as for Rotate (the lock timeout).
func UpdateSidecar(vaultPath, path string, perm fs.FileMode, fn func() ([]byte, error), opts ...WriteOption) error {
	o := newOptions(opts)
	return withWriteLock(vaultPath, o, func(string) error {
		data, err := fn()
		if err != nil {
			return err
		}
		if err := writeSidecar(path, path, data, perm); err != nil {
			return err
		}
		if err := os.Remove(PendingSidecar(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &vaultError{msg: fmt.Sprintf("vault: %s was written, but the stale %s could not be removed: %v: remove it", path, PendingSidecar(path), unwrapPath(err)), err: err}
		}
		return nil
	})
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

// stage is step 1 of WithSidecar: the new sidecar, durable under its
// pending name, before the vault is replaced.
func (s *sidecar) stage() error {
	return writeSidecar(s.path, PendingSidecar(s.path), s.data, s.perm)
}

// commit is step 3: the pending file renamed over the sidecar. The vault is
// already replaced, so a failure says where the new sidecar is.
func (s *sidecar) commit(o *options) error {
	pending := PendingSidecar(s.path)
	err := o.fail("sidecar")
	if err == nil {
		err = os.Rename(pending, s.path)
	}
	if err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: the vault was replaced, but %s could not be: %v: its new content is in %s; rename it to %s", s.path, unwrapPath(err), pending, s.path), err: err}
	}
	dir := filepath.Dir(s.path)
	if err := syncDir(dir); err != nil {
		return &vaultError{msg: fmt.Sprintf("vault: %s was replaced, but its directory could not be synced (%v): it may not survive a power loss", s.path, err), err: err}
	}
	return nil
}

// abandon removes the pending file of a write that failed before the vault
// was replaced.
func (s *sidecar) abandon() { os.Remove(PendingSidecar(s.path)) }
