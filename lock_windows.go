//go:build windows

package vault

import (
	"context"
	"errors"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// lockVault takes the write lock of the vault file target: a LockFileEx
// lock of a hidden sidecar file, ".NAME.lock" beside the vault (for
// credentials.enc, .credentials.enc.lock), created empty on first use and
// left in place.
//
// Why not the vault itself, as on Unix: a write replaces the vault by
// renaming a new file over it (MoveFileEx), and Windows refuses that while
// any handle to the vault is open without FILE_SHARE_DELETE, and, even with
// it, while the replaced file cannot be deleted at once. A lock on the vault
// would be a handle held open across the rename. The sidecar is never
// renamed or deleted, so the lock a waiter takes is always the lock of the
// vault, with no re-check needed, and writers of other vaults in the same
// directory lock other sidecars. Deleting the sidecar after the write would
// reopen the race that the Unix code closes by re-checking, so it stays: it
// is empty, and "*.lock" belongs in .gitignore.
//
// A process that opens the vault for reading (Open) at the instant of the
// rename still makes that rename fail (Go opens files without
// FILE_SHARE_DELETE); the write then fails with the vault unchanged.
func lockVault(ctx context.Context, target string, o *options) (unlock func(), err error) {
	dir, base := filepath.Split(target)
	name, err := windows.UTF16PtrFromString(filepath.Join(dir, "."+base+".lock"))
	if err != nil {
		return nil, writeError(target, "name its lock file", err)
	}
	h, err := windows.CreateFile(name,
		windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_HIDDEN, 0)
	if err != nil {
		return nil, writeError(target, "open its lock file", err)
	}
	// One byte at offset 0 is the lock; the file need not hold it.
	lock := func() error {
		ol := new(windows.Overlapped)
		err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
			return errBusy
		}
		return err
	}
	if err := newLockWait(ctx, o).until(target, lock); err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	return func() {
		windows.UnlockFileEx(h, 0, 1, 0, new(windows.Overlapped))
		windows.CloseHandle(h)
	}, nil
}
