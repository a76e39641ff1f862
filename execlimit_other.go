//go:build !unix

package vault

// execArgLimit is a conservative 2 MiB where the system's limit is not read.
func execArgLimit() int { return 2 << 20 }
