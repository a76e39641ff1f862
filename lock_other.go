//go:build !unix

package vault

import (
	"errors"
	"os"
)

// Writers are serialized with flock(2), which exists on Unix only. Elsewhere
// a write fails rather than risk losing a concurrent update.
func flock(f *os.File) error {
	return errors.New("writing a vault needs flock(2), which this system lacks")
}

func funlock(f *os.File) {}
