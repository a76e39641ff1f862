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
// credentials.enc, .credentials.enc.lock), which the last writer removes.
//
// Why not the vault itself, as on Unix: a write replaces the vault by
// renaming a new file over it (MoveFileEx), and Windows refuses that while
// any handle to the vault is open without FILE_SHARE_DELETE, and, even with
// it, while the replaced file cannot be deleted at once. A lock on the vault
// would be a handle held open across the rename. The sidecar is never
// renamed, so writers of one vault always meet on one file, and writers of
// other vaults in the same directory lock other sidecars.
//
// Removing the sidecar safely: after unlocking, a writer opens it again
// sharing nothing, with FILE_FLAG_DELETE_ON_CLOSE. That open succeeds only
// if no other process has the sidecar open (no one waits for the lock),
// and while it is held every other open fails with a sharing violation,
// which a writer treats as a busy lock and retries, then creating a new
// sidecar. No writer ever holds the lock of a sidecar that is gone. A
// writer killed while it holds the lock leaves the sidecar; the next one
// uses it and removes it.
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
	h := windows.InvalidHandle
	try := func() error {
		if h == windows.InvalidHandle {
			opened, err := windows.CreateFile(name,
				windows.GENERIC_READ|windows.GENERIC_WRITE,
				windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
				nil, windows.OPEN_ALWAYS, windows.FILE_ATTRIBUTE_HIDDEN, 0)
			if errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
				return errBusy // the last holder is removing it
			}
			if err != nil {
				return err
			}
			h = opened
		}
		// One byte at offset 0 is the lock; the file need not hold it.
		err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
			return errBusy
		}
		return err
	}
	if err := newLockWait(ctx, o).until(target, try); err != nil {
		if h != windows.InvalidHandle {
			windows.CloseHandle(h)
		}
		return nil, err
	}
	return func() {
		windows.UnlockFileEx(h, 0, 1, 0, new(windows.Overlapped))
		windows.CloseHandle(h)
		last, err := windows.CreateFile(name, windows.DELETE, 0, nil, windows.OPEN_EXISTING,
			windows.FILE_ATTRIBUTE_HIDDEN|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
		if err == nil {
			windows.CloseHandle(last) // removes it: no one else had it open
		}
	}, nil
}
