//go:build unix

package vault

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockVault takes the write lock of the vault file target: an exclusive
// flock(2) of the file itself, so that writers of other vaults in the same
// directory never wait and no lock file is left behind.
//
// A write replaces the vault by renaming a new file over it, so the inode a
// waiter locks may no longer be the vault by the time it gets the lock.
// After each lock, the path is checked to still name the locked inode
// (fstat against stat); if a rename replaced it, the lock is dropped and the
// new file is locked instead. The writer that holds the lock of the file at
// the path is the only one that renames over it, so the lock passes to the
// next writer at that rename, when the new vault is complete.
//
// A vault that does not exist yet has no inode to lock: its creator locks
// the directory instead, and once it holds that lock checks again that the
// vault still does not exist (another creator may have won). Only the
// creation of two new vaults in one directory waits on the other.
func lockVault(ctx context.Context, target string, o *options) (unlock func(), err error) {
	wait := newLockWait(ctx, o)
	for {
		f, err := openToLock(target)
		if errors.Is(err, fs.ErrNotExist) {
			unlock, created, err := lockForCreation(target, wait)
			if err != nil || created {
				return unlock, err
			}
			continue // the vault appeared meanwhile: lock it
		}
		if errors.Is(err, errNotRegular) {
			// The write will refuse it, with a message that says what it
			// is; a lock of the directory is enough for that.
			return lockDir(target, wait)
		}
		if err != nil {
			return nil, writeError(target, "open it to take the write lock", err)
		}
		if err := wait.until(target, func() error { return flock(f) }); err != nil {
			f.Close()
			return nil, err
		}
		if current, err := os.Stat(target); err == nil && sameInode(f, current) {
			return func() { funlock(f); f.Close() }, nil
		}
		// Replaced or removed while we waited: try again with what is
		// there now.
		funlock(f)
		f.Close()
	}
}

// lockForCreation locks the directory of target, which did not exist. It
// reports created=true, with the lock held, if target still does not exist
// once the lock is taken; otherwise it releases the lock.
func lockForCreation(target string, wait *lockWait) (unlock func(), created bool, err error) {
	unlock, err = lockDir(target, wait)
	if err != nil {
		return nil, false, err
	}
	if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
		return unlock, true, nil
	}
	unlock()
	return nil, false, nil
}

// lockDir takes an flock(2) of the directory of target.
func lockDir(target string, wait *lockWait) (unlock func(), err error) {
	d, err := os.Open(filepath.Dir(target))
	if err != nil {
		return nil, writeError(target, "open its directory to take the write lock", err)
	}
	if err := wait.until(target, func() error { return flock(d) }); err != nil {
		d.Close()
		return nil, err
	}
	return func() { funlock(d); d.Close() }, nil
}

// openToLock opens a vault file only to lock it, read-only. It returns
// errNotRegular, without opening it, for what is not a regular file (a
// directory, a named pipe, a device), which no write replaces.
func openToLock(path string) (*os.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
}

var errNotRegular = errors.New("not a regular file")

// sameInode reports whether the open file f is the file current describes.
func sameInode(f *os.File, current fs.FileInfo) bool {
	held, err := f.Stat()
	return err == nil && os.SameFile(held, current)
}

// flock takes an exclusive flock(2) on f without blocking; it fails with
// errBusy when another open file holds it.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch err {
		case nil:
			return nil
		case syscall.EWOULDBLOCK:
			return errBusy
		case syscall.EINTR:
			continue
		}
		return err
	}
}

func funlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
