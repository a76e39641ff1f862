//go:build !unix && !windows

package vault

import (
	"context"
	"errors"
)

// Writers are serialized with flock(2) on Unix and LockFileEx on Windows.
// Elsewhere (Plan 9, WebAssembly) a write fails rather than risk losing a
// concurrent update.
func lockVault(ctx context.Context, target string, o *options) (unlock func(), err error) {
	return nil, writeError(target, "take the write lock", errors.New("this system has neither flock(2) nor LockFileEx"))
}
