//go:build !linux

package vault

// HardenProcess does nothing on this system; on Linux it makes the process
// non-dumpable, so that other processes of the same user cannot read its
// memory or its environment.
func HardenProcess() error { return nil }
