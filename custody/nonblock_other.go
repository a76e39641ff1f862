//go:build !unix

package custody

// oNonblock is 0 where named pipes are not opened through the file system.
const oNonblock = 0
