//go:build unix && !linux

package vault

import (
	"os"
	"testing"
)

// openTerminal skips the test: opening a pseudo-terminal is
// system-specific, and the tests do it on Linux only.
func openTerminal(t *testing.T) *os.File {
	t.Skip("the tests open a pseudo-terminal on Linux only")
	return nil
}
